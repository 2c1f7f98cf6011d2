"""The inventory as one GeoPackage for QGIS (``hazards export inventory``): road segments with
their class, township and chainage range; hazards as points with their effective tier, status,
cost and latest batch; batches with the points of their hazards. One layer each, in the working
CRS, EPSG:4326 or EPSG:4490 (CGCS2000). Each layer has its QGIS style (QML) in the
GeoPackage's ``layer_styles`` table, marked default, so QGIS opens it with the maps' colours:
hazards by tier (:data:`hazards.map_style.TIER_COLOURS`) with zh or en labels, roads by class,
batches as one symbol."""

from __future__ import annotations

import math
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hazards.errors import InputError

if TYPE_CHECKING:
    from sqlalchemy import Engine

__all__ = ["CRS_CHOICES", "LAYERS", "export_inventory", "qml", "write_styles"]

CRS_CHOICES = ("working", "4326", "4490")
LAYERS = {"roads": "LineString", "hazards": "Point", "batches": "MultiPoint"}
"""The GeoPackage's layers and their geometry types."""
GEOMETRY = "geom"
"""The geometry column of every layer (named in ``layer_styles``)."""


def _chainage(values: Any) -> list[str | None]:
    from hazards.chainage import format_chainage

    return [
        format_chainage(v) if v is not None and math.isfinite(float(v)) else None for v in values
    ]


def export_inventory(
    path: str | Path, *, crs: str = "working", lang: str = "zh", engine: Engine | None = None
) -> dict[str, Any]:
    """Write the inventory's layers (:data:`LAYERS`) to the GeoPackage ``path`` (replaced when
    it exists); ``{"file", "crs", "layers": {name: features}}``. ``crs``: ``working`` (the
    database's metric CRS), ``4326`` (WGS 84) or ``4490`` (CGCS2000); ``lang``: the styles' legend labels, ``zh`` or ``en``."""
    from hazards.db import store
    from hazards.db.session import get_engine
    from hazards.sheets import writable_file

    p = Path(path)
    if p.suffix.lower() != ".gpkg":
        raise InputError(
            f"{p}: the inventory is written as a GeoPackage; give a file name ending in .gpkg.",
            param="path",
        )
    if crs not in CRS_CHOICES:
        raise InputError(f"The CRS {crs!r} is not one of: {', '.join(CRS_CHOICES)}.", param="crs")
    engine = engine or get_engine()
    target = store.require_working_crs(engine) if crs == "working" else f"EPSG:{crs}"
    layers = store.inventory_layers(engine)
    layers["roads"].insert(
        layers["roads"].columns.get_loc("length_m"),
        "chainage_from",
        _chainage(layers["roads"]["from_m"]),
    )
    layers["roads"].insert(
        layers["roads"].columns.get_loc("length_m"),
        "chainage_to",
        _chainage(layers["roads"]["to_m"]),
    )
    layers["hazards"].insert(
        layers["hazards"].columns.get_loc("chainage_m"),
        "chainage",
        _chainage(layers["hazards"]["chainage_m"]),
    )
    writable_file(p, param="path", what="GeoPackage")
    if p.exists():
        p.unlink()
    counts = {}
    for name, kind in LAYERS.items():
        frame = layers[name].to_crs(target)
        frame.to_file(
            p,
            layer=name,
            driver="GPKG",
            engine="pyogrio",
            geometry_type=kind,
            GEOMETRY_NAME=GEOMETRY,
        )
        counts[name] = len(frame)
    write_styles(p, lang=lang)
    return {"file": str(p), "crs": frame.crs.to_string(), "layers": counts}


CLASS_COLOURS = {
    "national": "#b2182b",
    "provincial": "#ef8a62",
    "county": "#2166ac",
    "township": "#67a9cf",
    "village": "#4d9221",
    "special": "#8073ac",
    "other": "#999999",
    "unknown": "#cccccc",
}


def _rgba(hex_colour: str) -> str:
    h = hex_colour.lstrip("#")
    return ",".join(str(int(h[i : i + 2], 16)) for i in (0, 2, 4)) + ",255"


def _symbol(n: int, kind: str, colour: str) -> str:
    e = escape
    if kind == "marker":
        layer, opts = (
            "SimpleMarker",
            {
                "name": "circle",
                "size": "3",
                "color": _rgba(colour),
                "outline_color": "35,35,35,255",
            },
        )
    else:
        layer, opts = "SimpleLine", {"line_color": _rgba(colour), "line_width": "0.8"}
    options = "".join(
        f'<Option type="QString" name="{k}" value="{e(v)}"/>' for k, v in opts.items()
    )
    return (
        f'<symbol type="{kind}" name="{n}" alpha="1" clip_to_extent="1" force_rhr="0">'
        f'<layer class="{layer}" enabled="1" pass="0" locked="0"><Option type="Map">{options}'
        "</Option></layer></symbol>"
    )


def qml(layer: str, *, lang: str = "zh") -> str:
    """The QGIS style (QML) of a layer of the GeoPackage: a categorized renderer on ``tier``
    (hazards) or ``road_class`` (roads), a single symbol (batches)."""
    from hazards.map_style import LABELS, TIER_COLOURS
    from hazards.report import CLASS_ZH

    e = escape
    if layer == "batches":
        renderer = (
            '<renderer-v2 type="singleSymbol" symbollevels="0" enableorderby="0" '
            f'forceraster="0"><symbols>{_symbol(0, "marker", "#1f5fbf")}</symbols></renderer-v2>'
        )
    else:
        if layer == "hazards":
            attr, kind = "tier", "marker"
            words = LABELS.get(lang, LABELS["en"])["tiers"]
            cats = [(t, words.get(t, t), c) for t, c in TIER_COLOURS.items()]
        else:
            attr, kind = "road_class", "line"
            cats = [
                (c, CLASS_ZH[c] if lang == "zh" else c, col) for c, col in CLASS_COLOURS.items()
            ]
        categories = "".join(
            f'<category render="true" value="{e(v)}" symbol="{i}" label="{e(lab)}"/>'
            for i, (v, lab, _) in enumerate(cats)
        )
        symbols = "".join(_symbol(i, kind, col) for i, (_, _, col) in enumerate(cats))
        renderer = (
            f'<renderer-v2 type="categorizedSymbol" attr="{attr}" symbollevels="0" '
            'enableorderby="0" forceraster="0">'
            f"<categories>{categories}</categories><symbols>{symbols}</symbols></renderer-v2>"
        )
    return (
        "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>"
        f'<qgis version="3.28.0" styleCategories="Symbology">{renderer}</qgis>'
    )


def write_styles(path: Path, *, lang: str = "zh") -> None:
    """Add each layer's style to the GeoPackage's ``layer_styles`` table (the table QGIS reads and
    writes; created when missing), as the layer's default style."""
    import sqlite3

    con = sqlite3.connect(path)
    try:
        con.execute(
            "CREATE TABLE IF NOT EXISTS layer_styles (id INTEGER PRIMARY KEY AUTOINCREMENT, "
            "f_table_catalog TEXT(256), f_table_schema TEXT(256), f_table_name TEXT(256), "
            "f_geometry_column TEXT(256), styleName TEXT(30), styleQML TEXT, styleSLD TEXT, "
            "useAsDefault BOOLEAN, description TEXT, owner TEXT(30), ui TEXT(30), "
            "update_time DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))"
        )
        con.execute(  # an attribute table of the GeoPackage, as QGIS registers it
            "INSERT INTO gpkg_contents (table_name, data_type, identifier) "
            "SELECT 'layer_styles', 'attributes', 'layer_styles' WHERE NOT EXISTS "
            "(SELECT 1 FROM gpkg_contents WHERE table_name = 'layer_styles')"
        )
        for layer in LAYERS:
            con.execute(
                "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, "
                "f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description, "
                "owner) VALUES ('', '', ?, ?, ?, ?, '', 1, ?, 'hazards')",
                (
                    layer,
                    GEOMETRY,
                    layer,
                    qml(layer, lang=lang),
                    f"hazards export inventory: {layer}",
                ),
            )
        con.commit()
    finally:
        con.close()
