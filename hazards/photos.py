"""Survey photos (照片): found at import, copied next to a map with thumbnails when it is built.

A survey's photo cell holds one or more references separated by ``;``, ``；``, ``,``, ``，``,
``、`` or new lines: a URL (kept as it is), a path (absolute, or relative to the photo folder
given at import, else to the survey file's folder), or a bare photo number (``IMG_0012``,
looked for with the usual image suffixes in the photo folder). :func:`resolve_photos` turns a
cell into what is stored in ``hazards.photo`` (absolute paths and URLs, one per line) and the
references not found (the import warns, naming the row, and keeps the hazard).

:func:`publish_photos` is what a map writer calls when it writes a page: each stored photo is
copied once into ``photos/`` beside the page and a JPEG thumbnail made with Pillow into
``photos/thumbs/``; it returns, per hazard, the relative ``src`` and ``thumb`` of its photos
(URLs are passed through as both). A photo gone since the import is skipped with a warning.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff", ".heic")
"""Suffixes tried for a bare photo number, in this order (upper case too)."""

THUMB_PX = 320
"""The longest side of a thumbnail, in pixels."""

PHOTO_DIR = "photos"
"""The folder beside a map page that its photos are copied to (thumbnails in ``thumbs/``)."""

_SPLIT = re.compile(r"\s*(?:[;；,，、|]|\r?\n)\s*")
_URL = re.compile(r"^(?:https?|ftp)://", re.IGNORECASE)


class Photo(TypedDict):
    """A photo as a map page shows it: paths relative to the page (or URLs)."""

    src: str
    thumb: str
    name: str


def split_cell(text: str | None) -> list[str]:
    """The references in a photo cell, in order, blanks dropped."""
    if not text:
        return []
    return [p for p in _SPLIT.split(text.strip()) if p]


def is_url(ref: str) -> bool:
    """True for an ``http(s)://`` or ``ftp://`` reference."""
    return bool(_URL.match(ref))


def _looks_like_path(ref: str) -> bool:
    return "/" in ref or "\\" in ref or Path(ref).suffix.lower() in IMAGE_SUFFIXES


def _find(ref: str, folders: Sequence[Path]) -> Path | None:
    p = Path(ref.replace("\\", "/"))
    if p.is_absolute():
        return p if p.is_file() else None
    for folder in folders:
        candidate = folder / p
        if candidate.is_file():
            return candidate.resolve()
        if not p.suffix:
            for suffix in IMAGE_SUFFIXES:
                for s in (suffix, suffix.upper()):
                    found = folder / p.with_name(p.name + s)
                    if found.is_file():
                        return found.resolve()
    return None


def resolve_photos(
    cell: str | None, *, folders: Sequence[Path], check_bare: bool = False
) -> tuple[str | None, list[str]]:
    """A photo cell as stored (absolute paths and URLs, one per line; None when empty) and
    the references not found. ``folders`` are searched in order for relative paths.

    ``check_bare`` (a photo folder was given): every reference must be found, a bare number
    (``IMG_0012``) being looked for with the image suffixes. Without it only a path naming a
    folder (``photos/IMG_0012.jpg``) must be found; a file name not found beside the survey
    (``IMG_0012.jpg``) or a bare number is kept as written: the photos were not delivered
    with the survey, and that is not a fault of each row."""
    stored: list[str] = []
    missing: list[str] = []
    for ref in split_cell(cell):
        if is_url(ref):
            stored.append(ref)
            continue
        if not (check_bare or _looks_like_path(ref)):
            stored.append(ref)
            continue
        found = _find(ref, folders)
        if found is None:
            if check_bare or "/" in ref or "\\" in ref:
                missing.append(ref)
            stored.append(ref)
        else:
            stored.append(str(found))
    return ("\n".join(stored) or None), missing


def stored_refs(stored: str | None) -> list[str]:
    """The references of a stored ``hazards.photo`` value (or of a raw cell); none for an
    empty value or a missing one (None, or NaN from a data frame)."""
    if not stored or not isinstance(stored, str):
        return []
    return (
        [p for p in re.split(r"\r?\n", stored) if p.strip()]
        if "\n" in stored
        else split_cell(stored)
    )


def all_found(stored: Any) -> bool:
    """Whether a stored ``hazards.photo`` value names only photos found (absolute paths, as
    :func:`resolve_photos` stores them) or URLs; a name kept as written was not found."""
    refs = stored_refs(stored)
    return bool(refs) and all(is_url(r) or Path(r).is_absolute() for r in refs)


@dataclass
class PhotoPublisher:
    """Copies photos into one map's folder, each file once, thumbnails made with Pillow."""

    out_dir: Path
    thumb_px: int = THUMB_PX
    warnings: list[str] = field(default_factory=list)
    undelivered: list[str] = field(default_factory=list)
    """Bare names the survey gave without the files (kept as written at import): one summary."""
    _done: dict[str, Photo | None] = field(default_factory=dict)

    def photos(self, stored: str | None, *, label: str = "") -> list[Photo]:
        """The photos of one hazard (``stored``: its ``photo`` value), copied if need be."""
        out: list[Photo] = []
        for ref in stored_refs(stored):
            if ref not in self._done:
                self._done[ref] = self._publish(ref, label)
            photo = self._done[ref]
            if photo is not None:
                out.append(photo)
        return out

    def _publish(self, ref: str, label: str) -> Photo | None:
        if is_url(ref):
            return {"src": ref, "thumb": ref, "name": ref.rsplit("/", 1)[-1]}
        src = Path(ref)
        if not src.is_absolute():
            self.undelivered.append(f"{label}{ref}")
            return None
        if not src.is_file():
            self.warnings.append(f"{label}photo {ref!r} not found; not shown")
            return None
        digest = hashlib.sha1(str(src).encode("utf-8")).hexdigest()[:10]
        safe = re.sub(r"[^\w.\-]+", "_", src.name)
        folder = self.out_dir / PHOTO_DIR
        thumbs = folder / "thumbs"
        thumbs.mkdir(parents=True, exist_ok=True)
        name = f"{digest}-{safe}"
        shutil.copy2(src, folder / name)
        thumb_name = f"{digest}-{Path(safe).stem}.jpg"
        try:
            _thumbnail(src, thumbs / thumb_name, self.thumb_px)
            thumb = f"{PHOTO_DIR}/thumbs/{thumb_name}"
        except Exception as exc:  # noqa: BLE001  # any unreadable image: shown without a thumbnail
            self.warnings.append(f"{label}photo {ref!r}: no thumbnail ({exc})")
            thumb = f"{PHOTO_DIR}/{name}"
        return {"src": f"{PHOTO_DIR}/{name}", "thumb": thumb, "name": src.name}


def _thumbnail(src: Path, dest: Path, size: int) -> None:
    """A JPEG of at most ``size`` pixels a side, turned upright as the camera recorded."""
    from PIL import Image, ImageOps

    with Image.open(src) as opened:
        im: Image.Image = ImageOps.exif_transpose(opened)
        im.thumbnail((size, size))
        if im.mode not in ("RGB", "L"):
            im = im.convert("RGB")
        im.save(dest, "JPEG", quality=82)


def publish_photos(
    stored: Iterable[str | None], *, out_dir: str | Path, labels: Iterable[str] | None = None
) -> tuple[list[list[Photo]], list[str]]:
    """Copy the photos of many hazards beside a map page in ``out_dir`` (``photos/``, with
    thumbnails in ``photos/thumbs/``); per hazard its photos (paths relative to ``out_dir``),
    and the warnings (photos not found or unreadable). ``labels`` (e.g. hazard ids) prefix
    the warnings."""
    pub = PhotoPublisher(Path(out_dir))
    names = list(labels) if labels is not None else None
    out = [
        pub.photos(s, label=f"{names[i]}: " if names is not None else "")
        for i, s in enumerate(stored)
    ]
    return out, _summarised(pub)


def _summarised(pub: PhotoPublisher, *, shown: int = 5) -> list[str]:
    """The warnings, at most ``shown`` of a kind and then a count, and one line for the photo
    names the survey delivered without their files."""
    out = pub.warnings[:shown]
    if len(pub.warnings) > shown:
        out.append(f"… and {len(pub.warnings) - shown} more photos not found or unreadable")
    if pub.undelivered:
        n = len(pub.undelivered)
        out.append(
            f"{n} photo name{'s' if n != 1 else ''} from the survey came without the files "
            f"(e.g. {pub.undelivered[0]}), so no photo is shown for them: import the survey "
            "file again as a correction of its survey with the photo folder (hazards survey "
            "import FILE --provider P --surveyed-on DATE --corrects ID --photos FOLDER) to "
            "show them."
        )
    return out


def photos_html(photos: Sequence[Photo], *, title: str = "") -> str:
    """Thumbnails linking to the full photos, for a popup or a dossier cell (escaped; empty
    when there are none). ``title``: the hover text of each (e.g. 照片 / photo)."""
    import html

    return "".join(
        f'<a class="hz-photo" href="{html.escape(p["src"])}" target="_blank" rel="noopener">'
        f'<img src="{html.escape(p["thumb"])}" alt="{html.escape(p["name"])}" '
        f'title="{html.escape(title or p["name"])}" loading="lazy" '
        'style="max-width:120px;max-height:90px;margin:2px"></a>'
        for p in photos
    )
