"""Map backgrounds (issue 21 item 3): the MBTiles and PMTiles fixtures unpacked to XYZ (vector
tile sets refused), the specs ``--tiles`` accepts, a page showing local tiles in headless Chromium with no network, and the failed-tiles
notice when the tile source is unreachable."""

from __future__ import annotations

import base64
import io
import sqlite3
import sys
from pathlib import Path

import folium
import pytest
from browser import Page, browser_fixture, distinct_colours  # noqa: F401  (fixture)
from builders import frame, network
from click.testing import CliRunner

from hazards import basemaps
from hazards.cli.maps import map_group
from hazards.errors import ConfigError, InputError
from hazards.mapping import base_map
from hazards.roads import load_roads

DATA = Path(__file__).parent / "data"
MBTILES = DATA / "tiny.mbtiles"
PMTILES = DATA / "tiny.pmtiles"
sys.path.insert(0, str(DATA))
from make_mbtiles import colour  # noqa: E402
from make_pmtiles import tiles as mbtiles_tiles  # noqa: E402


def _pixel(png: bytes, x: int, y: int) -> tuple[int, int, int]:
    from PIL import Image

    return Image.open(io.BytesIO(png)).convert("RGB").getpixel((x, y))  # type: ignore[return-value]


def test_unpack_flips_tms_rows(tmp_path: Path) -> None:
    out = basemaps.unpack_mbtiles(MBTILES, tmp_path / "t")
    with sqlite3.connect(MBTILES) as con:
        n = con.execute("SELECT count(*) FROM tiles").fetchone()[0]
    assert out["tiles"] == n == 1 + 4 + 16 and out["zooms"] == [0, 1, 2]
    for z, x, y in [(0, 0, 0), (1, 0, 1), (2, 3, 0), (2, 1, 2)]:
        tile = (tmp_path / "t" / str(z) / str(x) / f"{y}.png").read_bytes()
        assert _pixel(tile, 100, 20) == colour(z, x, y)  # y counted from the north


def test_unpacked_pmtiles_equal_the_fixtures_tiles(tmp_path: Path) -> None:
    out = basemaps.unpack_pmtiles(PMTILES, tmp_path / "p")
    want = mbtiles_tiles(MBTILES)  # the tiles the PMTiles fixture was written from
    got = {
        tuple(int(part) for part in f.relative_to(tmp_path / "p").with_suffix("").parts): f
        for f in (tmp_path / "p").rglob("*.png")
    }
    assert out["tiles"] == len(got) == len(want) == 21
    assert out["format"] == "png" and out["zooms"] == [0, 1, 2]
    assert set(got) == set(want)
    assert all(got[k].read_bytes() == want[k] for k in want)  # byte for byte
    # the same folder as the MBTiles file gives
    basemaps.unpack(MBTILES, tmp_path / "m")
    assert all(
        (tmp_path / "m" / f"{z}/{x}/{y}.png").read_bytes() == want[z, x, y] for z, x, y in want
    )


def _patched(tmp_path: Path, name: str, at: int, value: int) -> Path:
    data = bytearray(PMTILES.read_bytes())
    data[at] = value
    out = tmp_path / name
    out.write_bytes(bytes(data))
    return out


def test_pmtiles_refusals_say_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="nope.pmtiles: no such PMTiles file"):
        basemaps.unpack_pmtiles(tmp_path / "nope.pmtiles", tmp_path / "o")
    text = tmp_path / "text.pmtiles"
    text.write_text("not an archive")
    with pytest.raises(InputError, match="text.pmtiles: not a readable PMTiles archive"):
        basemaps.unpack_pmtiles(text, tmp_path / "o")
    v2 = _patched(tmp_path, "v2.pmtiles", 7, 2)
    with pytest.raises(InputError, match="version 2; only version 3 .*pmtiles convert"):
        basemaps.unpack_pmtiles(v2, tmp_path / "o")
    vector = _patched(tmp_path, "vector.pmtiles", 99, 1)  # tile type MVT
    with pytest.raises(InputError) as err:
        basemaps.tile_spec(str(vector), page_dir=tmp_path / "page")
    words = str(err.value)
    assert "vector.pmtiles" in words and "PMTiles" in words and "vector tiles (mvt)" in words
    assert "raster" in words and "Generate XYZ tiles" in words and err.value.param == "tiles"
    stub = tmp_path / "stub.pmtiles"
    stub.write_bytes(b"PMTiles\x03")  # a header cut short
    with pytest.raises(InputError, match="stub.pmtiles: not a readable PMTiles archive"):
        basemaps.unpack_pmtiles(stub, tmp_path / "o")
    damaged = tmp_path / "damaged.pmtiles"
    damaged.write_bytes(PMTILES.read_bytes()[:140])  # header and part of the directory
    with pytest.raises(InputError, match="damaged.pmtiles: not a readable PMTiles archive"):
        basemaps.unpack_pmtiles(damaged, tmp_path / "o")
    with pytest.raises(InputError, match="unpack it"):
        basemaps.resolve(str(PMTILES))
    vector_mb = tmp_path / "vector.mbtiles"
    vector_mb.write_bytes(MBTILES.read_bytes())
    with sqlite3.connect(vector_mb) as con:
        con.execute("UPDATE metadata SET value = 'pbf' WHERE name = 'format'")
    with pytest.raises(
        InputError, match=r"vector.mbtiles: this MBTiles file holds vector tiles \(pbf\)"
    ):
        basemaps.unpack(vector_mb, tmp_path / "o")


def test_specs(tmp_path: Path) -> None:
    assert basemaps.resolve("none").layers == []
    assert "openstreetmap" in basemaps.resolve("osm").layers[0][0]
    tdt = basemaps.resolve("tianditu", key="KEY")
    assert [u.split("/")[3] for u, _ in tdt.layers] == ["vec_w", "cva_w"]
    assert all("tk=KEY" in u and "{x}" in u and "{s}" in u for u, _ in tdt.layers)
    with pytest.raises(ConfigError, match="HAZARDS_TIANDITU_KEY"):
        basemaps.resolve("tianditu", key="")
    url = "http://tiles.example/{z}/{x}/{y}.png"
    assert basemaps.resolve(url).layers[0][0] == url
    with pytest.raises(InputError, match="unpack it"):
        basemaps.resolve(str(MBTILES))
    with pytest.raises(InputError, match="Unknown tiles 'satellite'"):
        basemaps.resolve("satellite")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no tiles in this folder"):
        basemaps.resolve(str(tmp_path / "empty"))
    bad = tmp_path / "bad.mbtiles"
    bad.write_text("not sqlite")
    with pytest.raises(InputError, match="not an MBTiles file"):
        basemaps.unpack_mbtiles(bad, tmp_path / "x")
    page = tmp_path / "maps"
    assert basemaps.tile_spec(str(MBTILES), page_dir=page) == "tiny_tiles/{z}/{x}/{y}.png"
    assert (page / "tiny_tiles" / "2" / "3" / "3.png").is_file()
    assert basemaps.tile_spec("osm", page_dir=page) == "osm"


def _page(tmp_path: Path, tiles: str) -> Path:
    m = base_map(tiles=tiles)
    m.fit_bounds([[-60, -150], [60, 150]])
    folium.CircleMarker([0, 0], radius=5).add_to(m)
    out = tmp_path / "page.html"
    m.save(str(out))
    return out


def _wait(browser: Page, condition: str, timeout_ms: int = 15000) -> bool:
    return browser.call(
        "Runtime.evaluate",
        awaitPromise=True,
        returnByValue=True,
        expression=(
            "new Promise(r => { const t0 = performance.now(); (function poll() {"
            f" if ({condition}) r(true); else if (performance.now() - t0 > {timeout_ms}) r(false);"
            " else setTimeout(poll, 50); })(); })"
        ),
    )["result"]["value"]


@pytest.mark.parametrize("archive", [MBTILES, PMTILES], ids=["mbtiles", "pmtiles"])
def test_local_tiles_show_in_chromium_without_network(
    browser: Page, tmp_path: Path, archive: Path
) -> None:
    spec = basemaps.tile_spec(str(archive), page_dir=tmp_path)
    assert spec == "tiny_tiles/{z}/{x}/{y}.png"
    out = _page(tmp_path, spec)
    browser.open(out.as_uri())
    loaded = "document.querySelectorAll('img.leaflet-tile-loaded').length"
    assert _wait(browser, f"{loaded} >= 8")
    sizes = browser.js(
        "[...document.querySelectorAll('img.leaflet-tile')].map(i => i.naturalWidth)"
    )
    assert sizes and all(w == 256 for w in sizes)
    assert browser.errors() == []
    assert all(u.startswith(("file:", "data:")) for u in browser.requests())
    assert browser.js("document.querySelectorAll('.hazards-tiles-notice').length") == 0
    shot = browser.call(
        "Page.captureScreenshot",
        format="png",
        clip={"x": 0, "y": 0, "width": 600, "height": 400, "scale": 1},
    )
    png = base64.b64decode(shot["data"])
    assert distinct_colours(png) >= 6
    from collections import Counter

    from PIL import Image

    counts = Counter(Image.open(io.BytesIO(png)).convert("RGB").get_flattened_data())
    big = [c for c, n in counts.items() if n > 0.02 * 600 * 400]
    # the tiles' fills (washed by the page's CSS) and borders, far from one uniform grey
    assert len(big) >= 6 and counts.most_common(1)[0][1] < 0.3 * 600 * 400


def test_notice_once_when_tiles_fail(browser: Page, tmp_path: Path) -> None:
    out = _page(tmp_path, "http://127.0.0.1:9/{z}/{x}/{y}.png")  # nothing listens on port 9
    browser.open(out.as_uri())
    notice = "document.querySelectorAll('.hazards-tiles-notice')"
    assert _wait(browser, f"{notice}.length > 0")
    assert _wait(browser, "document.querySelectorAll('img.leaflet-tile').length >= 8")
    assert browser.js(f"{notice}.length") == 1
    text = browser.js(f"{notice}[0].textContent")
    assert text in basemaps.NOTICE.values()
    # a missing local folder fails the same way
    out = _page(tmp_path, "missing/{z}/{x}/{y}.png")
    browser.open(out.as_uri())
    assert _wait(browser, f"{notice}.length > 0") and browser.js(f"{notice}.length") == 1


@pytest.fixture
def county(tmp_path: Path, engine):  # type: ignore[no-untyped-def]
    roads = tmp_path / "roads.gpkg"
    frame(network()["features"], "EPSG:4546").to_file(roads, engine="pyogrio")
    load_roads(roads, engine=engine)
    return engine


def test_cli_unpacks_mbtiles_next_to_the_page(
    county, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    out = tmp_path / "out" / "o.html"
    args = ["overview", "--offline", "--tiles", str(MBTILES), "-o", str(out)]
    result = runner.invoke(map_group, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "tiny_tiles" / "0" / "0" / "0.png").is_file()
    assert '"tiny_tiles/{z}/{x}/{y}.png"' in out.read_text(encoding="utf-8")
    folder = tmp_path / "xyz"
    basemaps.unpack_mbtiles(MBTILES, folder)
    result = runner.invoke(map_group, ["overview", "--tiles", "xyz", "-o", str(out)])
    assert result.exit_code == 0 and '"../xyz/{z}/{x}/{y}.png"' in out.read_text("utf-8")
    args = ["overview", "--offline", "--tiles", str(PMTILES), "-o", str(tmp_path / "p" / "o.html")]
    result = runner.invoke(map_group, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "p" / "tiny_tiles").rglob("*.png"))) == 21
    for spec in ("tianditu", "https://a.example/{z}/{x}/{y}.png"):
        refused = runner.invoke(map_group, ["overview", "--offline", "--tiles", spec])
        assert isinstance(refused.exception, ConfigError)
    monkeypatch.setenv("HAZARDS_TIANDITU_KEY", "abc")
    from hazards.settings import get_settings

    get_settings.cache_clear()
    result = runner.invoke(map_group, ["overview", "--tiles", "tianditu", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "cva_w" in out.read_text("utf-8") and "tk=abc" in out.read_text("utf-8")
    bad = runner.invoke(map_group, ["overview", "--tiles", "nope.mbtiles"])
    assert isinstance(bad.exception, InputError) and "nope.mbtiles" in str(bad.exception)


def test_cli_error_names_the_option(run_hazards, tmp_path: Path) -> None:
    done = run_hazards("map", "overview", "--tiles", str(tmp_path / "nope.mbtiles"))
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert "nope.mbtiles: no such MBTiles file" in done.stderr and "--tiles" in done.stderr
    vector = _patched(tmp_path, "v.pmtiles", 99, 1)
    done = run_hazards("map", "overview", "--tiles", str(vector), "-o", str(tmp_path / "o.html"))
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert "v.pmtiles: this PMTiles file holds vector tiles" in done.stderr
    assert "--tiles" in done.stderr


def test_notice_speaks_the_maps_language(county, browser: Page, tmp_path: Path) -> None:
    dead = "http://127.0.0.1:9/{z}/{x}/{y}.png"
    for lang in ("en", "zh"):
        out = tmp_path / f"{lang}.html"
        args = ["overview", "--lang", lang, "--tiles", dead, "-o", str(out)]
        assert CliRunner().invoke(map_group, args, catch_exceptions=False).exit_code == 0
        browser.open(out.as_uri())
        notice = "document.querySelectorAll('.hazards-tiles-notice')"
        assert _wait(browser, f"{notice}.length > 0")
        assert browser.js(f"{notice}[0].textContent") == basemaps.NOTICE[lang]
        assert browser.js(f"{notice}.length") == 1
