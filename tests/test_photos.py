"""Survey photos: references found at import, copied beside a map with Pillow thumbnails
(hazards/photos.py), on the photos of tests/data/linear_photos (tests/data/make_linear.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

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
        [f"{one}\n{two}", one, None, "https://x.org/p.jpg", str(src / "gone.jpg")],
        out_dir=out,
        labels=["H1", "H2", "H3", "H4", "H5"],
    )
    assert [len(p) for p in per_hazard] == [2, 1, 0, 1, 0]
    assert warnings == [f"H5: photo {str(src / 'gone.jpg')!r} not found; not shown"]
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
