"""Survey photos: references found at import, copied beside a map with Pillow thumbnails
(hazards/photos.py), on the photos of tests/data/linear_photos (tests/data/make_linear.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

from browser import browser_fixture  # noqa: F401  (fixture)
from PIL import Image

from hazards.photos import THUMB_PX, photos_html, publish_photos, resolve_photos, split_cell

DATA = Path(__file__).parent / "data"


def test_a_cell_holds_several_references() -> None:
    assert split_cell("a.jpg；b.jpg, c.jpg、d.jpg\ne.jpg") == [
        "a.jpg",
        "b.jpg",
        "c.jpg",
        "d.jpg",
        "e.jpg",
    ]
    assert split_cell("") == [] and split_cell(None) == []


def test_references_are_resolved_in_the_folders_in_order(tmp_path: Path) -> None:
    first, second = tmp_path / "one", tmp_path / "two"
    shutil.copytree(DATA / "linear_photos", second)
    first.mkdir()
    stored, missing = resolve_photos(
        "IMG_0001.jpg;IMG_0002;https://x.org/a.jpg;gone.png", folders=[first, second],
        check_bare=True,
    )  # fmt: skip
    assert stored is not None
    assert stored.split("\n") == [
        str(second / "IMG_0001.jpg"),
        str(second / "IMG_0002.JPG"),
        "https://x.org/a.jpg",
        "gone.png",
    ]
    assert missing == ["gone.png"]
    # without a photo folder a bare number is a note, not a missing file
    assert resolve_photos("P-17", folders=[first]) == ("P-17", [])


def test_photos_are_copied_with_upright_thumbnails(tmp_path: Path) -> None:
    src = tmp_path / "in"
    shutil.copytree(DATA / "linear_photos", src)
    one, two = str(src / "IMG_0001.jpg"), str(src / "IMG_0002.JPG")
    out = tmp_path / "maps"
    per_hazard, warnings = publish_photos(
        [f"{one}\n{two}", one, None, "https://x.org/p.jpg", str(src / "gone.jpg"), "IMG_9.jpg"],
        out_dir=out,
        labels=["H1", "H2", "H3", "H4", "H5", "H6"],
    )
    assert [len(p) for p in per_hazard] == [2, 1, 0, 1, 0, 0]
    assert warnings[0] == f"H5: photo {str(src / 'gone.jpg')!r} not found; not shown"
    # a bare name the survey gave without its file: one summary line, not one per hazard
    assert len(warnings) == 2 and warnings[1].startswith("1 photo name from the survey came")
    assert "H6: IMG_9.jpg" in warnings[1]
    many = publish_photos([f"P{k}.jpg" for k in range(50)], out_dir=out)[1]
    assert len(many) == 1 and many[0].startswith("50 photo names")
    assert per_hazard[1] == [per_hazard[0][0]]  # the same file copied once
    assert sorted(p.name for p in (out / "photos").glob("*.*")) == sorted(
        Path(p["src"]).name for p in per_hazard[0]
    )
    for p in per_hazard[0]:
        assert (out / p["src"]).read_bytes() == Path(
            one if p["name"] == "IMG_0001.jpg" else two
        ).read_bytes()
        with Image.open(out / p["thumb"]) as im:
            assert max(im.size) == THUMB_PX
            # IMG_0002 is stored 640x480 with EXIF orientation 6 (turn 90°): upright it is tall
            assert (im.height > im.width) == (p["name"] == "IMG_0002.JPG")
    assert per_hazard[3] == [
        {"src": "https://x.org/p.jpg", "thumb": "https://x.org/p.jpg", "name": "p.jpg"}
    ]
    html = photos_html(per_hazard[0], title="照片")
    assert html.count("<img") == 2 and 'title="照片"' in html
    assert f'href="{per_hazard[0][0]["src"]}"' in html


def test_without_a_photo_folder_only_paths_with_a_folder_must_exist(tmp_path: Path) -> None:
    stored, missing = resolve_photos("IMG_1.jpg;fotos/IMG_2.jpg", folders=[tmp_path])
    assert stored == "IMG_1.jpg\nfotos/IMG_2.jpg" and missing == ["fotos/IMG_2.jpg"]
    stored, missing = resolve_photos("IMG_1.jpg", folders=[tmp_path], check_bare=True)
    assert missing == ["IMG_1.jpg"]


# ----------------------------------------------------------------------------- photos on pages
def _survey_with_photos(tmp_path: Path, engine) -> Path:  # type: ignore[no-untyped-def]
    """tests/data/linear_survey.csv imported with its photo folder (a copy in tmp_path)."""
    from hazards.intake import import_survey

    shutil.copy(DATA / "linear_survey.csv", tmp_path / "linear_survey.csv")
    shutil.copytree(DATA / "linear_photos", tmp_path / "linear_photos")
    import_survey(
        tmp_path / "linear_survey.csv",
        provider="某检测公司",
        surveyed_on="2025-03-01",
        photos=tmp_path / "linear_photos",
        engine=engine,
    )
    return tmp_path / "linear_photos"


def test_map_pages_show_the_photos_copied_beside_them(
    tmp_path: Path,
    roads,  # type: ignore[no-untyped-def]
    browser,  # type: ignore[no-untyped-def]
) -> None:
    import re

    from click.testing import CliRunner
    from sqlalchemy import text

    from hazards.cli import cli

    folder = _survey_with_photos(tmp_path, roads)
    with roads.connect() as conn:
        stored = dict(
            conn.execute(text("SELECT public_id, photo FROM hazards WHERE photo IS NOT NULL")).all()
        )
    on_disk = {h: [p for p in s.split("\n") if Path(p).is_file()] for h, s in stored.items()}
    with_photo = {h for h, p in on_disk.items() if p}
    assert with_photo  # IMG_0001 and IMG_0002 are delivered
    (folder / "IMG_0002.JPG").unlink()  # gone since the import: a warning, the page is built
    out = tmp_path / "maps" / "road.html"
    result = CliRunner().invoke(
        cli, ["map", "road", "X001", "--offline", "--lang", "zh", "-o", str(out)]
    )
    assert result.exit_code == 0, (result.output, result.stderr)
    assert "IMG_0002.JPG" in result.stderr and "not found" in result.stderr
    page = out.read_text(encoding="utf-8")
    thumbs = sorted((out.parent / "photos" / "thumbs").glob("*.jpg"))
    assert len(thumbs) == 1  # IMG_0001 only
    rel = f"photos/thumbs/{thumbs[0].name}"
    # the dossier's hazard table (built in Python) shows it
    table = re.search(r'<table class="hz-table">.*?</table>', page, re.S)
    assert table is not None and f'src="{rel}"' in table.group(0)
    # and the popup (built by the page's script from the encoded columns)
    browser.open(out.as_uri())
    # the survey gives one photo as a URL (shown from it): offline, only it fails to load
    assert [e for e in browser.errors() if not str(e.get("url", "")).startswith("https://")] == []
    hid = next(h for h in with_photo if any("IMG_0001" in p for p in on_disk[h]))
    assert browser.js(f"HazardsMap.registry[0].find({hid!r}, document.createElement('div'))")
    srcs = browser.js(
        "Array.from(document.querySelectorAll('.leaflet-popup-content img'))"
        ".map(i => i.getAttribute('src'))"
    )
    assert srcs == [rel]
    loaded = browser.js(
        "Array.from(document.querySelectorAll('.leaflet-popup-content img'))"
        ".every(i => i.complete && i.naturalWidth > 0)"
    )
    assert loaded is True or browser.js(
        "new Promise(r => setTimeout(() => r(document.querySelector("
        "'.leaflet-popup-content img').naturalWidth), 500))"
    )
