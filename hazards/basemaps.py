"""Map backgrounds (``--tiles``): none, OpenStreetMap, 天地图 (Tianditu), a URL template, a local
XYZ tile folder, or an MBTiles or PMTiles file unpacked into an XYZ folder next to the page.

A page opened from disk (``file://``) cannot read an SQLite file or ranges of a PMTiles archive,
but it can show image files beside it: :func:`unpack_mbtiles` writes an MBTiles file's tiles as
``Z/X/Y.png`` (TMS rows flipped to XYZ), :func:`unpack_pmtiles` those of a PMTiles v3 archive
(read with Protomaps' ``pmtiles`` reader), and the page refers to that folder by a relative
path, so the HTML and its folder can be copied together to a machine with no network. Only
raster tiles (png, jpg, webp) can be drawn: vector tile sets are refused with what to do. Every tile layer gets a small
script that shows one unobtrusive notice (``.hazards-tiles-notice``) the first time a tile
fails to load, instead of a silently grey map.

Tianditu (the official CGCS2000 basemap) is offered as its Web Mercator ``vec_w`` (roads) and
``cva_w`` (Chinese annotation) layers; it needs a key, the ``tianditu_key`` setting.
"""

from __future__ import annotations

import json
import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hazards.errors import ConfigError, InputError

__all__ = [
    "NAMED",
    "Basemap",
    "add_basemap",
    "resolve",
    "tile_spec",
    "unpack",
    "unpack_mbtiles",
    "unpack_pmtiles",
]

NAMED = ("none", "osm", "tianditu")
"""The named backgrounds; anything else is a URL template, an XYZ folder or an MBTiles or
PMTiles file."""
ARCHIVES = (".mbtiles", ".pmtiles")
"""The tile archives unpacked next to the page (:func:`unpack`)."""
OSM_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
OSM_ATTRIBUTION = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>'
TIANDITU_URL = (
    "https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
    "&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
    "&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={key}"
)
TIANDITU_ATTRIBUTION = '&copy; <a href="https://www.tianditu.gov.cn/">天地图</a> GS(2024)0650号'
NOTICE = {
    "zh": "底图瓦片未能加载，地图数据不受影响",
    "en": "Basemap tiles could not be loaded; the map's own data is unaffected",
}
"""The failed-tiles notice, shown once per page in the page's language (its ``lang`` attribute,
else that of its legend, else zh)."""


@dataclass(frozen=True)
class Basemap:
    """A resolved background: its tile layers as ``(url template, options)``; none for ``none``."""

    name: str
    layers: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


def _ext(folder: Path) -> str:
    for z in sorted(p for p in folder.iterdir() if p.is_dir() and p.name.isdigit()):
        for x in z.iterdir():
            for tile in x.iterdir() if x.is_dir() else ():
                return tile.suffix.lstrip(".") or "png"
    raise InputError(
        f"{folder}: no tiles in this folder; an XYZ tile folder holds Z/X/Y.png files "
        "(or give an .mbtiles or .pmtiles file).",
        param="tiles",
    )


def _url_of_folder(folder: Path, page_dir: Path | None) -> str:
    ext = _ext(folder)
    if page_dir is not None:
        rel = os.path.relpath(folder.resolve(), page_dir.resolve())
        return Path(rel).as_posix() + f"/{{z}}/{{x}}/{{y}}.{ext}"
    if folder.is_absolute():
        return folder.as_uri() + f"/{{z}}/{{x}}/{{y}}.{ext}"
    return folder.as_posix() + f"/{{z}}/{{x}}/{{y}}.{ext}"


def _zooms(folder: Path) -> tuple[int, int]:
    zs = [int(p.name) for p in folder.iterdir() if p.is_dir() and p.name.isdigit()]
    return min(zs), max(zs)


def resolve(spec: str, *, page_dir: str | Path | None = None, key: str | None = None) -> Basemap:
    """The background ``spec`` names: ``none``, ``osm``, ``tianditu`` (``key``, else the
    ``tianditu_key`` setting), a URL template with ``{z}/{x}/{y}``, or an XYZ tile folder (used
    by a path relative to ``page_dir`` when given, so the page and the folder travel together).

    An MBTiles or PMTiles file must first be unpacked (:func:`tile_spec` does it next to the
    page)."""
    spec = (spec or "none").strip()
    if spec == "none":
        return Basemap("none")
    if spec == "osm":
        opts = {"attr": OSM_ATTRIBUTION, "max_zoom": 19}
        return Basemap("osm", [(OSM_URL, opts)])
    if spec == "tianditu":
        if key is None:
            from hazards.settings import get_settings

            key = get_settings().tianditu_key
        if not key:
            raise ConfigError(
                "天地图 tiles need a key: set HAZARDS_TIANDITU_KEY (or tianditu_key in "
                "hazards.toml); apply for one at console.tianditu.gov.cn."
            )
        opts = {"attr": TIANDITU_ATTRIBUTION, "subdomains": "01234567", "max_zoom": 18}
        return Basemap(
            "tianditu",
            [
                (TIANDITU_URL.format(layer=layer, key=key, s="{s}"), opts)
                for layer in ("vec", "cva")
            ],
        )
    if "{z}" in spec and "{x}" in spec and "{y}" in spec:
        return Basemap("url", [(spec, {"attr": "tiles: " + spec.split("{")[0][:80]})])
    path = Path(spec).expanduser()
    if path.suffix.lower() in ARCHIVES:
        kind = "MBTiles" if path.suffix.lower() == ".mbtiles" else "PMTiles"
        raise InputError(
            f"{path}: a {kind} file cannot be read by a page opened from disk; unpack it "
            "next to the page first (hazards.basemaps.tile_spec does, as `hazards map` does).",
            param="tiles",
        )
    if path.is_dir():
        here = Path(page_dir) if page_dir is not None else None
        url = _url_of_folder(path, here)
        opts = {"attr": f"tiles: {path.name}", "max_native_zoom": _zooms(path)[1], "max_zoom": 20}
        return Basemap("folder", [(url, opts)])
    raise InputError(
        f"Unknown tiles {spec!r}: use none, osm, tianditu, a URL template with {{z}}/{{x}}/{{y}}, "
        "an XYZ tile folder, or an .mbtiles or .pmtiles file.",
        param="tiles",
    )


def unpack_mbtiles(mbtiles: str | Path, folder: str | Path) -> dict[str, Any]:
    """Write the tiles of an MBTiles file to ``folder`` as ``Z/X/Y.<format>`` (MBTiles rows
    count from the south, XYZ rows from the north: flipped here); ``{"folder", "tiles",
    "format", "zooms"}``. A clear error when the file is not an MBTiles database."""
    src, out = Path(mbtiles), Path(folder)
    if not src.is_file():
        raise InputError(f"{src}: no such MBTiles file.", param="tiles")
    try:
        con = sqlite3.connect(f"file:{src}?mode=ro", uri=True)
        try:
            meta = dict(con.execute("SELECT name, value FROM metadata").fetchall())
            rows = con.execute(
                "SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles"
            ).fetchall()
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        raise InputError(
            f"{src}: not an MBTiles file ({exc}); MBTiles is an SQLite database with the "
            "tables metadata and tiles.",
            param="tiles",
        ) from exc
    fmt = str(meta.get("format") or "png").lower()
    if fmt in VECTOR_FORMATS:
        raise _vector(src, "MBTiles", fmt)
    zooms = set()
    for z, x, row, data in rows:
        y = (1 << int(z)) - 1 - int(row)
        target = out / str(z) / str(x) / f"{y}.{fmt}"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(bytes(data))
        zooms.add(int(z))
    if not rows:
        raise InputError(f"{src}: the MBTiles file holds no tile.", param="tiles")
    return {"folder": str(out), "tiles": len(rows), "format": fmt, "zooms": sorted(zooms)}


VECTOR_FORMATS = ("pbf", "mvt", "mlt")
"""Vector tile formats (MBTiles ``format``, PMTiles tile types): refused, the maps draw images."""
_PM_FORMATS = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp", "AVIF": "avif"}


def _vector(src: Path, kind: str, fmt: str) -> InputError:
    return InputError(
        f"{src}: this {kind} file holds vector tiles ({fmt}), and the maps draw raster tiles "
        "(png, jpg or webp) only; give a raster tile set instead (QGIS makes one from any map: "
        "Processing > Generate XYZ tiles (MBTiles)), or use osm, tianditu or a URL template.",
        param="tiles",
    )


def unpack_pmtiles(pmtiles: str | Path, folder: str | Path) -> dict[str, Any]:
    """Write the tiles of a raster PMTiles v3 archive to ``folder`` as ``Z/X/Y.<format>`` (tiles
    stored gzip-compressed are decompressed); ``{"folder", "tiles", "format", "zooms"}``, as
    :func:`unpack_mbtiles`. A clear error for a file that is not PMTiles v3, is damaged, or holds
    vector tiles."""
    import gzip

    from pmtiles.reader import MmapSource, all_tiles
    from pmtiles.tile import (
        Compression,
        MagicNumberNotFound,
        SpecVersionUnsupported,
        deserialize_header,
    )

    src, out = Path(pmtiles), Path(folder)
    if not src.is_file():
        raise InputError(f"{src}: no such PMTiles file.", param="tiles")
    count, zooms, fmt = 0, set(), ""
    try:
        with src.open("rb") as f:
            head = f.read(8)
            if head[:7] != b"PMTiles":
                raise MagicNumberNotFound
            if head[7:8] != b"\x03":
                raise InputError(
                    f"{src}: a PMTiles archive of version {head[7] if head[7:] else '?'}; only "
                    "version 3 is read (convert it with the pmtiles tool: pmtiles convert "
                    "OLD.pmtiles NEW.pmtiles).",
                    param="tiles",
                )
            get = MmapSource(f)
            header = deserialize_header(get(0, 127))
            kind = header["tile_type"].name
            if kind in ("MVT", "MLT"):
                raise _vector(src, "PMTiles", kind.lower())
            fmt = _PM_FORMATS.get(kind, "")
            if not fmt:
                raise InputError(
                    f"{src}: the PMTiles archive does not say its tile format (type {kind}); "
                    "give one of png, jpg or webp tiles.",
                    param="tiles",
                )
            packed = header["tile_compression"]
            if packed not in (Compression.NONE, Compression.UNKNOWN, Compression.GZIP):
                raise InputError(
                    f"{src}: the tiles are compressed with {packed.name.lower()}, which cannot "
                    "be unpacked here; give an archive with uncompressed image tiles.",
                    param="tiles",
                )
            for (z, x, y), data in all_tiles(get):
                blob = bytes(data)
                if packed == Compression.GZIP:
                    blob = gzip.decompress(blob)
                target = out / str(z) / str(x) / f"{y}.{fmt}"
                try:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(blob)
                except OSError as exc:
                    raise InputError(
                        f"{target}: the tile cannot be written ({exc.strerror or exc}); "
                        "write the page to a folder you can write to.",
                        param="folder",
                    ) from exc
                zooms.add(int(z))
                count += 1
    except (
        MagicNumberNotFound,
        SpecVersionUnsupported,
        ValueError,
        IndexError,
        OSError,
        EOFError,
    ) as exc:
        if isinstance(exc, InputError):
            raise
        why = "" if isinstance(exc, MagicNumberNotFound) else f" ({exc or type(exc).__name__})"
        raise InputError(
            f"{src}: not a readable PMTiles archive{why}; a PMTiles v3 file starts with "
            "'PMTiles' and holds a tile directory and the tiles.",
            param="tiles",
        ) from exc
    if not count:
        raise InputError(f"{src}: the PMTiles archive holds no tile.", param="tiles")
    return {"folder": str(out), "tiles": count, "format": fmt, "zooms": sorted(zooms)}


def unpack(archive: str | Path, folder: str | Path) -> dict[str, Any]:
    """Unpack an MBTiles (:func:`unpack_mbtiles`) or PMTiles (:func:`unpack_pmtiles`) file."""
    if Path(archive).suffix.lower() == ".pmtiles":
        return unpack_pmtiles(archive, folder)
    return unpack_mbtiles(archive, folder)


def tile_spec(spec: str | None, *, page_dir: str | Path) -> str:
    """``spec`` made ready for a page written in ``page_dir``: an MBTiles or PMTiles file is
    unpacked to ``<page_dir>/<name>_tiles/``, and it or an XYZ folder becomes a URL template
    relative to the page (``<name>_tiles/{z}/{x}/{y}.png``); other specs are returned as they
    are."""
    if not spec or spec in NAMED or "{z}" in spec:
        return spec or "none"
    path, here = Path(spec).expanduser(), Path(page_dir)
    if path.suffix.lower() in ARCHIVES:
        folder = here / f"{path.stem}_tiles"
        unpack(path, folder)
        path = folder
    if not path.is_dir():
        resolve(spec)  # the error that names what --tiles accepts
    return _url_of_folder(path, here)


def check(spec: str) -> None:
    """Raise :class:`InputError` for a spec :func:`resolve` would not accept (no tile read)."""
    if spec in NAMED or ("{z}" in spec and "{x}" in spec):
        return
    path = Path(spec).expanduser()
    if path.suffix.lower() in ARCHIVES or path.is_dir():
        return
    resolve(spec)


_NOTICE_JS = """
(function () {
  var map = %(map)s, layers = [%(layers)s], shown = false;
  var words = %(words)s;
  function note() {
    if (shown) return;
    shown = true;
    // the page's language: its lang attribute, else the legend's script (CJK or not), else zh
    var legend = document.querySelector(".hz-legend"), lang = document.documentElement.lang;
    if (!lang && legend) lang = /[\u4e00-\u9fff]/.test(legend.textContent) ? "zh" : "en";
    lang = (lang || "zh").slice(0, 2);
    var d = document.createElement("div");
    d.className = "hazards-tiles-notice";
    d.setAttribute("role", "status");
    d.textContent = lang === "en" ? words.en : words.zh;
    d.style.cssText = "position:absolute;left:50%%;bottom:22px;transform:translateX(-50%%);" +
      "z-index:800;background:rgba(255,255,255,.8);color:#555;font:12px sans-serif;" +
      "padding:2px 8px;border-radius:3px;pointer-events:none";
    map.getContainer().appendChild(d);
  }
  layers.forEach(function (l) { l.on("tileerror", note); });
})();
"""


def _notice(js: str) -> Any:
    """A map child whose script is ``js``, rendered after the tile layers added before it
    (``js`` is inserted as a value, never compiled as a template)."""
    from branca.element import MacroElement
    from jinja2 import Template

    class TilesNotice(MacroElement):
        _template = Template("{% macro script(this, kwargs) %}{{ this.js }}{% endmacro %}")

        def __init__(self) -> None:
            super().__init__()
            self._name = "TilesNotice"
            self.js = js

    return TilesNotice()


def add_basemap(m: Any, spec: str, *, page_dir: str | Path | None = None) -> Basemap:
    """Add the background ``spec`` (see :func:`resolve`) to the folium map ``m``, with the
    script that shows the failed-tiles notice once."""
    import folium

    base = resolve(spec, page_dir=page_dir)
    names = []
    for url, opts in base.layers:
        layer = folium.TileLayer(tiles=url, name=base.name, overlay=False, control=False, **opts)
        layer.add_to(m)
        names.append(layer.get_name())
    if names:
        js = _NOTICE_JS % {
            "map": m.get_name(),
            "layers": ", ".join(names),
            "words": json.dumps(NOTICE, ensure_ascii=False),
        }
        m.add_child(_notice(js), name="hazards_tiles_notice")
    return base
