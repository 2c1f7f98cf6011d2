"""Every view of a hazard agrees (issue 13): after a hazard is planned, reopened and planned again
in a second plan, the map data, the road dossier table, history, progress, the plan report and
the contractor export name the same latest batch and the same effective cost.

Plan A has several batches, so that the hazards' batch in A has a higher ``seq`` than B-1 (the
bug was the map saying A-3 while history said B-1). One hazard's survey gave a cost (估算金额)
that differs from the cost library's estimate, the other's did not. Only the library's verbs
are used; the expected costs are read from the raw columns.
"""

from __future__ import annotations

import csv
import html
import json
import re
from pathlib import Path
from typing import Any

import pytest
from browser import page_hazards
from builders import frame, network
from sqlalchemy import text

from hazards import contractors, planning, remediation
from hazards.intake import import_survey
from hazards.mapping import cost_text, overview_map, road_dossier
from hazards.roads import load_roads

ROUTES = ("X001", "Y002", "Y003")
CHAINAGES = (200, 600, 1000, 1400)


@pytest.fixture
def replanned(tmp_path: Path, engine) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Plan A (several batches) committed; two hazards of its last batch done, re-checked, failed
    and planned again in plan B; their ids, their batches and their costs as stored."""
    roads = tmp_path / "roads.gpkg"
    frame(network()["features"], "EPSG:4546").to_file(roads, engine="pyogrio")
    load_roads(roads, engine=engine)
    rows = [["序号", "路线编码", "桩号", "隐患类型", "风险等级", "估算金额(万元)"]]
    for r, route in enumerate(ROUTES):
        for k, metres in enumerate(CHAINAGES):
            # every other hazard without a survey cost: the cost library's estimate applies
            cost = f"{3.42 + r + k / 10:.2f}" if k % 2 == 0 else ""
            rows.append(
                [
                    len(rows),
                    route,
                    f"K{metres // 1000}+{metres % 1000:03d}",
                    "临水临崖" if k % 2 else "急弯",
                    "一级" if k == 0 else "二级",
                    cost,
                ]
            )
    survey = tmp_path / "survey.csv"
    with survey.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    assert (
        import_survey(survey, provider="p", surveyed_on="2025-03-01", engine=engine)["accepted"]
        == 12
    )

    plan_a = planning.create_plan(name="A", budget=1e9, batches=3, engine=engine)
    planning.commit_plan("A", engine=engine)
    costs = _stored_costs(engine)
    # the last batch of A that holds a hazard with a survey cost and one without
    last = max(
        (
            b
            for b in plan_a["batches"]
            if {costs[i["id"]][0] is not None for i in b["items"]} == {True, False}
        ),
        key=lambda b: b["seq"],
    )
    assert last["seq"] > 1, "plan A must put the hazards in a batch after its first"
    surveyed = next(i["id"] for i in last["items"] if costs[i["id"]][0] is not None)
    library = next(i["id"] for i in last["items"] if costs[i["id"]][0] is None)
    ids = [surveyed, library]

    remediation.set_status(ids, to="in_progress", by="施工单位", engine=engine)
    remediation.set_status(ids, to="reported_done", by="施工单位", engine=engine)
    for hid in ids:
        remediation.record_recheck(hid, result="fail", by="县交通局", engine=engine)
    plan_b = planning.create_plan(name="B", budget=1e9, batches=1, engine=engine)
    assert [b["name"] for b in plan_b["batches"]] == ["B-1"]
    planning.commit_plan("B", engine=engine)
    return {"surveyed": surveyed, "library": library, "old_batch": last["name"], "costs": costs}


def _stored_costs(engine) -> dict[str, tuple[float | None, float | None]]:  # type: ignore[no-untyped-def]
    """Public id → (survey's cost, cost library's estimate), as stored."""
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT public_id, provided_cost_cny, estimated_cost_cny FROM hazards")
        ).all()
    return {r[0]: (r[1], r[2]) for r in rows}


def _effective(costs: tuple[float | None, float | None]) -> tuple[float, str]:
    survey, library = costs
    if survey is not None:
        return survey, "survey"
    assert library is not None
    return library, "library"


def _dossier_rows(page: str) -> dict[str, list[str]]:
    """The dossier table's rows by hazard id (cells unescaped, in column order)."""
    table = page[page.index('<table class="hz-table">') :]
    rows = re.findall(r"<tr>(.*?)</tr>", table.split("</thead>", 1)[1].split("</table>", 1)[0])
    cells = [[html.unescape(c) for c in re.findall(r"<td>(.*?)</td>", r)] for r in rows]
    return {c[0]: c for c in cells}


def test_every_view_names_the_same_latest_batch_and_cost(replanned, engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ids = [replanned["surveyed"], replanned["library"]]
    costs = {h: _effective(replanned["costs"][h]) for h in ids}
    survey_cost, library_estimate = replanned["costs"][replanned["surveyed"]]
    assert library_estimate is not None and round(survey_cost) != round(library_estimate)
    assert costs[replanned["library"]][1] == "library"
    assert replanned["old_batch"] != "B-1"

    # the map: the hazards' columns in the page
    mapped = {h["id"]: h for h in page_hazards(overview_map(engine=engine).get_root().render())}
    for h in ids:
        assert mapped[h]["batch"] == "B-1"
        assert (mapped[h]["cost"], mapped[h]["cost_src"]) == (round(costs[h][0]), costs[h][1])
        assert mapped[h]["status"] == "planned"

    # the road dossier's table
    routes = {h["id"]: h["route"] for h in mapped.values()}
    for h in ids:
        row = _dossier_rows(road_dossier(routes[h], engine=engine).render())[h]
        assert row[6] == "B-1"
        assert (
            row[8]
            == cost_text(costs[h][0], costs[h][1])
            == (
                f"{costs[h][0]:,.0f} CNY ({'survey' if costs[h][1] == 'survey' else 'cost library'})"
            )
        )
    zh = _dossier_rows(road_dossier(routes[ids[0]], engine=engine, lang="zh").render())[ids[0]]
    assert zh[8] == f"{costs[ids[0]][0]:,.0f} 元 (勘察)"

    # history
    for h in ids:
        hist = remediation.history(h, engine=engine)
        assert hist["batch"] == "B-1"
        assert (hist["cost_cny"], hist["cost_source"]) == pytest.approx(costs[h])
        assert [e["to_status"] for e in hist["events"] if e["to_status"]][-2:] == [
            "reopened",
            "planned",
        ]

    # progress by batch: both are open in B-1, none is counted in A's batch any more
    groups = {g["group"]: g for g in remediation.progress(by="batch", engine=engine)["groups"]}
    assert groups["B-1"]["counts"]["planned"] == 2 and groups["B-1"]["hazards"] == 2
    assert groups["B-1"]["remaining_cost_cny"] == pytest.approx(sum(c for c, _ in costs.values()))
    assert groups[replanned["old_batch"]]["counts"]["reopened"] == 0
    assert groups[replanned["old_batch"]]["hazards"] == sum(
        1
        for g in planning.show_plan("A", engine=engine)["batches"]
        if g["name"] == replanned["old_batch"]
        for i in g["items"]
        if i["id"] not in ids
    )

    # the plan B report
    shown = planning.show_plan("B", engine=engine)
    assert shown["status"] == "committed"
    items = {i["id"]: (b["name"], i["cost_cny"]) for b in shown["batches"] for i in b["items"]}
    for h in ids:
        assert items[h] == ("B-1", pytest.approx(costs[h][0]))

    # the contractor's file of B-1, read back
    out = contractors.export_batch("B-1", tmp_path / "b1.geojson", engine=engine)
    data = json.loads(Path(out["file"]).read_text(encoding="utf-8"))
    props = {f["id"]: f["properties"] for f in data["features"]}
    assert set(props) == set(ids)
    for h in ids:
        assert props[h]["batch"] == "B-1"
        assert props[h]["estimated_cost_cny"] == pytest.approx(costs[h][0])
