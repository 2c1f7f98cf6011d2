"""The contractor round trip: batch out as GeoJSON/XLSX, completion report back in."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path

import geopandas as gpd
import jsonschema
import pytest
from click.testing import CliRunner
from pyproj import Geod

from hazards.cli import cli
from hazards.contractors import export_batch, import_completion, schema, validate_collection
from hazards.errors import InputError

TODAY = dt.date.today().isoformat()


def _batch(engine) -> str:
    from hazards.db import store

    return store.list_batches(engine)[0]["name"]


def test_export_is_rfc7946_valid_against_the_schema_and_reads_back(tracked, tmp_path: Path) -> None:
    name = _batch(tracked)
    runner = CliRunner()
    assert (
        runner.invoke(
            cli, ["batch", "set", name, "--contractor", "路桥公司", "--due", "2026-12-31"]
        ).exit_code
        == 0
    )
    out = runner.invoke(cli, ["export", "batch", name, "-o", str(tmp_path / "b.geojson")])
    assert out.exit_code == 0, out.output
    data = json.loads((tmp_path / "b.geojson").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema()).validate(data)
    assert data["type"] == "FeatureCollection" and "crs" not in data
    for f in data["features"]:
        lon, lat = f["geometry"]["coordinates"]
        assert -180 <= lon <= 180 and -90 <= lat <= 90 and 112 < lon < 113  # lon/lat order
        assert f["id"] == f["properties"]["id"] and f["properties"]["batch"] == name
        assert f["properties"]["due_date"] == "2026-12-31"
        assert f["properties"]["chainage"].startswith("K")
    back = gpd.read_file(tmp_path / "b.geojson", engine="pyogrio")
    from hazards.db import store

    with tracked.connect() as conn:
        from sqlalchemy import text

        expected = (
            conn.execute(
                text(
                    "SELECT h.public_id FROM batch_items bi JOIN batches b ON b.id = bi.batch_id "
                    "JOIN hazards h ON h.id = bi.hazard_id WHERE b.name = :n ORDER BY 1"
                ),
                {"n": name},
            )
            .scalars()
            .all()
        )
    assert sorted(back["id"]) == expected and back.crs.to_epsg() == 4326
    export_batch(name, tmp_path / "b.xlsx", engine=tracked)
    import openpyxl

    ws = openpyxl.load_workbook(tmp_path / "b.xlsx").active
    header = [c.value for c in ws[1]]
    assert (
        header[:2] == ["id", "route_code"]
        and sorted(r[0] for r in ws.iter_rows(min_row=2, values_only=True)) == expected
    )
    assert store.get_batch(tracked, name)["contractor"] == "路桥公司"


def test_a_broken_file_is_refused_with_the_schema_errors() -> None:
    with pytest.raises(InputError, match="features/0/id"):
        validate_collection(
            {
                "type": "FeatureCollection",
                "features": [{"type": "Feature", "id": "X", "geometry": None, "properties": {}}],
            }
        )
    with pytest.raises(InputError):
        validate_collection({"type": "FeatureCollection", "crs": {}, "features": []})


def test_completion_round_trip_applies_exactly_the_valid_rows(tracked, tmp_path: Path) -> None:
    name = _batch(tracked)
    CliRunner().invoke(
        cli, ["batch", "set", name, "--contractor", "路桥公司", "--start", "2025-06-01"]
    )
    export_batch(name, tmp_path / "b.geojson", engine=tracked)
    data = json.loads((tmp_path / "b.geojson").read_text(encoding="utf-8"))
    feats = data["features"]
    assert len(feats) >= 4
    done = [feats[0], feats[1]]
    for f in done:
        f["properties"].update(status="完成", completed_on=TODAY, evidence="IMG_1.jpg")
    feats[2]["properties"].update(
        status="reported_done", completed_on="2025-05-01"
    )  # before the start
    moved = feats[3]
    lon, lat = moved["geometry"]["coordinates"]
    moved["geometry"]["coordinates"] = list(Geod(ellps="WGS84").fwd(lon, lat, 90, 50)[:2])
    moved["properties"].update(status="done", completed_on=TODAY)
    ghost = copy.deepcopy(feats[0])
    ghost["id"] = ghost["properties"]["id"] = "H999999"
    feats.append(ghost)
    path = tmp_path / "returned.geojson"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")

    dry = import_completion(path, dry_run=True, engine=tracked)
    assert dry["valid"] == 2 and dry["applied"] == 0
    from hazards.remediation import history

    assert history(done[0]["id"], engine=tracked)["status"] == "planned"
    # all or nothing: three invalid rows, so nothing is applied, and the message says so
    whole = CliRunner().invoke(cli, ["import", "completion", str(path)])
    assert whole.exit_code == 1, whole.output
    assert "Nothing was changed: 3 of the" in whole.output and "--partial" in whole.output
    assert "Traceback" not in whole.output
    assert history(done[0]["id"], engine=tracked)["status"] == "planned"
    out = CliRunner().invoke(cli, ["import", "completion", str(path), "--json", "--partial"])
    assert out.exit_code == 0, out.output
    report = json.loads(out.output)
    assert report["message"].startswith("2 hazards changed (2 to reported_done); 3 invalid")
    assert report["applied"] == 2 and {c["id"] for c in report["changes"]} == {
        done[0]["id"],
        done[1]["id"],
    }
    reasons = {r["id"]: r["reason"] for r in report["invalid_rows"]}
    assert set(reasons) == {feats[2]["id"], moved["id"], "H999999"}
    assert "before the batch start" in reasons[feats[2]["id"]]
    assert "moved 50 m" in reasons[moved["id"]]
    assert "unknown hazard id" in reasons["H999999"]
    assert report["not_reported"] == len(feats) - 5
    h = history(done[0]["id"], engine=tracked)
    assert (
        h["status"] == "reported_done"
        and h["events"][-1]["evidence"] == "IMG_1.jpg"
        and h["events"][-1]["by"] == "路桥公司"
    )
    again = import_completion(path, partial=True, engine=tracked)
    assert again["applied"] == 0 and again["unchanged"] == 2


def test_completion_from_xlsx(tracked, tmp_path: Path) -> None:
    import openpyxl

    name = _batch(tracked)
    export_batch(name, tmp_path / "w.xlsx", engine=tracked)
    wb = openpyxl.load_workbook(tmp_path / "w.xlsx")
    ws = wb.active
    header = [c.value for c in ws[1]]
    first = next(ws.iter_rows(min_row=2, max_row=2))
    first[header.index("status")].value = "已完成"
    first[header.index("completed_on")].value = TODAY
    wb.save(tmp_path / "w.xlsx")
    report = import_completion(tmp_path / "w.xlsx", engine=tracked)
    assert report["applied"] == 1 and report["invalid"] == 0


def test_a_report_applied_before_stays_applied_after_a_failed_recheck(
    tracked, tmp_path: Path
) -> None:
    from hazards.remediation import record_recheck

    name = _batch(tracked)
    export_batch(name, tmp_path / "b.geojson", engine=tracked)
    data = json.loads((tmp_path / "b.geojson").read_text(encoding="utf-8"))
    f = data["features"][0]
    f["properties"].update(status="完成", completed_on=TODAY)
    (tmp_path / "r.geojson").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    assert import_completion(tmp_path / "r.geojson", engine=tracked)["applied"] == 1
    record_recheck(f["id"], result="fail", engine=tracked)
    again = import_completion(tmp_path / "r.geojson", engine=tracked)
    assert (again["applied"], again["unchanged"], again["invalid"]) == (0, 1, 0)
    from hazards.remediation import history

    assert history(f["id"], engine=tracked)["status"] == "reopened"


def test_export_streams_the_whole_batch_and_leaves_nothing_half_written(
    tracked, tmp_path: Path
) -> None:
    from hazards.db import store
    from hazards.errors import NotFound

    name = _batch(tracked)
    out = tmp_path / "deep" / "b.geojson"
    report = export_batch(name, out, engine=tracked)
    data = json.loads(out.read_text(encoding="utf-8"))
    assert report["hazards"] == len(data["features"]) == store.list_batches(tracked)[0]["hazards"]
    assert (data["name"], data["batch"]) == (name, name)
    keys = [
        (f["properties"]["route_code"], f["properties"]["chainage_m"], f["id"])
        for f in data["features"]
    ]
    assert keys == sorted(keys)  # by route and chainage, as a contractor walks the road
    assert json.loads(store.batch_feature_collection(tracked, name)) == data
    assert [p.name for p in out.parent.iterdir()] == ["b.geojson"]
    with pytest.raises(NotFound):
        export_batch("no-such-batch", tmp_path / "none" / "x.geojson", engine=tracked)
    assert not (tmp_path / "none").exists()


def test_an_export_that_breaks_the_schema_writes_no_file(
    tracked, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import hazards.contractors as contractors

    monkeypatch.setattr(
        contractors, "schema", lambda: {"type": "object", "required": ["not_there"]}
    )
    with pytest.raises(InputError, match="does not match the contractor file schema"):
        export_batch(_batch(tracked), tmp_path / "out" / "b.geojson", engine=tracked)
    assert list((tmp_path / "out").iterdir()) == []
