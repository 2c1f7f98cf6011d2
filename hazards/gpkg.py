"""The inventory as one GeoPackage for QGIS (``hazards export inventory``): road segments with
their class, township and chainage range; hazards as points with their effective tier, status,
cost and latest batch; the runs of linear hazards; batches with the points of their hazards;
the 100 m cells of route risk; and crashes. One layer each, in the working CRS, EPSG:4326 or
EPSG:4490 (CGCS2000). Each layer has its QGIS style (QML) in the GeoPackage's ``layer_styles``
table, marked default, so QGIS opens it with the maps' colours: hazards by tier
(:data:`hazards.map_style.TIER_COLOURS`) with the status in the outline
(:data:`hazards.map_style.STATUS_STYLES`), roads by class, cells by their worst open tier,
crashes by severity; zh or en legend labels, field names and value names. The roads layer also
carries the maps' road modes as further named styles (QGIS: Layer Properties > Style > Load
Style > From database): worst open tier, % remediated (graduated) and not surveyed, in the
colours of :data:`hazards.map_style.ROAD_STYLES` and :data:`hazards.map_style.UNSURVEYED_STYLE`,
on the roads' ``worst_tier``, ``pct_remediated`` and ``surveyed`` attributes."""

from __future__ import annotations

import math
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hazards.errors import InputError

if TYPE_CHECKING:
    from sqlalchemy import Engine

__all__ = ["CRS_CHOICES", "LAYERS", "ROAD_MODES", "export_inventory", "qml", "write_styles"]

CRS_CHOICES = ("working", "4326", "4490")
LAYERS = {
    "roads": "LineString",
    "hazards": "Point",
    "hazard_extents": "LineString",
    "batches": "MultiPoint",
    "cells": "MultiLineString",
    "crashes": "Point",
}
"""The GeoPackage's layers and their geometry types (``hazard_extents`` and ``crashes`` only when
the database holds any)."""
GEOMETRY = "geom"
"""The geometry column of every layer (named in ``layer_styles``)."""
ROAD_MODES = ("worst", "pct", "surveyed")
"""The roads layer's further named styles, the maps' road modes: ``worst`` (worst open tier),
``pct`` (% remediated, graduated), ``surveyed`` (not surveyed grey dashed, others by class)."""
PX_MM = 0.2
"""Millimetres per pixel of the maps' line weights in the QGIS road-mode styles."""


def _chainage(values: Any) -> list[str | None]:
    from hazards.chainage import format_chainage

    return [
        format_chainage(v) if v is not None and math.isfinite(float(v)) else None for v in values
    ]


def export_inventory(
    path: str | Path, *, crs: str = "working", lang: str = "zh", engine: Engine | None = None
) -> dict[str, Any]:
    """Write the inventory's layers (:data:`LAYERS`) to the GeoPackage ``path`` (replaced when
    it exists); ``{"file", "crs", "layers": {name: features}}``; ``hazard_extents`` and
    ``crashes`` are written only when there are linear hazards and crashes. ``crs``: ``working`` (the
    database's metric CRS), ``4326`` (WGS 84) or ``4490`` (CGCS2000); ``lang``: the styles' legend labels, ``zh`` or ``en``."""
    from hazards.db import store
    from hazards.db.session import get_engine
    from hazards.outfiles import writable_file

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
    layers["roads"]["pct_remediated"] = layers["roads"]["pct_remediated"].astype("Int64")
    layers["hazards"].insert(
        layers["hazards"].columns.get_loc("chainage_m"),
        "chainage",
        _chainage(layers["hazards"]["chainage_m"]),
    )
    for name in ("cells", "hazard_extents"):
        if name in layers:
            frame = layers[name]
            at = frame.columns.get_loc("to_m") + 1
            frame.insert(at, "chainage_to", _chainage(frame["to_m"]))
            frame.insert(at, "chainage_from", _chainage(frame["from_m"]))
    writable_file(p, param="path", what="GeoPackage")
    if p.exists():
        p.unlink()
    counts = {}
    for name, kind in LAYERS.items():
        if name not in layers:
            continue
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
    write_styles(p, lang=lang, layers=list(counts))
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
FIELDS: dict[str, dict[str, str]] = {
    "zh": {
        "segment_id": "路段编号",
        "route_code": "路线编码",
        "name": "路线名称",
        "road_class": "公路等级",
        "township": "乡镇",
        "part": "分段",
        "section": "路段",
        "from_m": "起点(米)",
        "to_m": "止点(米)",
        "chainage_from": "起点桩号",
        "chainage_to": "止点桩号",
        "length_m": "长度(米)",
        "remediated": "已治理隐患(处)",
        "pct_remediated": "治理完成率(%)",
        "surveyed": "已排查",
        "id": "隐患编号",
        "chainage": "桩号",
        "chainage_m": "桩号(米)",
        "category": "隐患类型",
        "description": "隐患描述",
        "tier": "风险等级",
        "status": "状态",
        "cost_cny": "估算费用(元)",
        "cost_source": "费用来源",
        "batch": "批次",
        "plan_name": "计划",
        "contractor": "施工单位",
        "plan_budget_cny": "计划预算(元)",
        "starts_on": "开工日期",
        "due_on": "完工期限",
        "hazards": "隐患(处)",
        "cell": "单元序号",
        "open_hazards": "未治理隐患(处)",
        "risk": "风险值",
        "worst_tier": "未治理最高风险等级",
        "crash_id": "事故编号",
        "source": "来源",
        "occurred_on": "发生日期",
        "severity": "事故严重程度",
        "fatalities": "死亡(人)",
        "injuries": "受伤(人)",
        "crash_type": "事故形态",
        "junction": "交叉口",
    },
    "en": {},
}
"""Field names (QGIS aliases) per language; English keeps the column names."""
LAYER_NAMES = {
    "zh": {
        "roads": "路网",
        "hazards": "隐患",
        "hazard_extents": "隐患路段",
        "batches": "整治批次",
        "cells": "百米单元",
        "crashes": "交通事故",
    },
    "en": {
        "roads": "Roads",
        "hazards": "Hazards",
        "hazard_extents": "Hazard extents",
        "batches": "Batches",
        "cells": "100 m cells",
        "crashes": "Crashes",
    },
}
SEVERITY_LABELS = {
    "zh": {"K": "死亡", "A": "重伤", "B": "轻伤", "C": "可能受伤", "O": "仅财产损失", "": "不详"},
    "en": {"K": "fatal", "A": "serious", "B": "minor", "C": "possible", "O": "PDO", "": "unknown"},
}


def _rgba(hex_colour: str) -> str:
    h = hex_colour.lstrip("#")
    return ",".join(str(int(h[i : i + 2], 16)) for i in (0, 2, 4)) + ",255"


def _options(opts: dict[str, str]) -> str:
    return "".join(
        f'<Option type="QString" name="{escape(k)}" value="{escape(v)}"/>' for k, v in opts.items()
    )


def _defined(props: dict[str, str]) -> str:
    """Data-defined symbol properties (QGIS expressions) of a symbol layer."""
    inner = "".join(
        f'<Option type="Map" name="{k}"><Option type="bool" name="active" value="true"/>'
        f'<Option type="QString" name="expression" value="{escape(e)}"/>'
        '<Option type="int" name="type" value="3"/></Option>'
        for k, e in props.items()
    )
    return (
        '<data_defined_properties><Option type="Map"><Option type="QString" name="name" value=""/>'
        f'<Option type="Map" name="properties">{inner}</Option>'
        '<Option type="QString" name="type" value="collection"/></Option></data_defined_properties>'
    )


def _status_outline() -> dict[str, str]:
    """The hazards' outline by status, as in the maps: colour, width and dash."""
    from hazards.map_style import STATUS_STYLES

    def case(value: Any) -> str:
        whens = " ".join(f"WHEN '{s}' THEN {value(st)}" for s, st in STATUS_STYLES.items())
        return f'CASE "status" {whens} END'

    return {
        "outlineColor": case(lambda st: f"'{st['color']}'"),
        "outlineWidth": case(lambda st: f"{round(st['weight'] * 0.25, 2)}"),
        "outlineStyle": case(lambda st: "'dash'" if st.get("dashArray") else "'solid'"),
    }


def _symbol(
    n: int,
    kind: str,
    colour: str,
    *,
    outline: str = "#232323",
    size: float = 3,
    dash: str | None = None,
) -> str:
    """A QGIS symbol; ``dash``: a line's dash pattern in the maps' pixels (``"6,6"``)."""
    defined = ""
    if kind.startswith("marker"):
        layer, opts = (
            "SimpleMarker",
            {
                "name": "circle",
                "size": str(size),
                "color": _rgba(colour),
                "outline_color": _rgba(outline),
                "outline_width": "0.3",
            },
        )
    else:
        layer, opts = "SimpleLine", {"line_color": _rgba(colour), "line_width": str(size)}
        if dash:
            opts |= {
                "line_style": "dash",
                "use_custom_dash": "1",
                "customdash": ";".join(f"{float(d) * PX_MM:g}" for d in dash.split(",")),
                "customdash_unit": "MM",
            }
    if kind == "marker-status":
        kind, defined = "marker", _defined(_status_outline())
    return (
        f'<symbol type="{kind}" name="{n}" alpha="1" clip_to_extent="1" force_rhr="0">'
        f'<layer class="{layer}" enabled="1" pass="0" locked="0"><Option type="Map">'
        f"{_options(opts)}</Option>{defined}</layer></symbol>"
    )


def _categories(layer: str, lang: str) -> tuple[str, str, list[tuple[str, str, str]]]:
    """``(attribute, symbol kind, [(value, label, colour)])`` of a categorized layer."""
    from hazards.map_style import LABELS, SEVERITY_STYLES, TIER_COLOURS
    from hazards.report import CLASS_ZH

    tiers = LABELS.get(lang, LABELS["en"])["tiers"]
    if layer in ("hazards", "hazard_extents"):
        kind = "marker-status" if layer == "hazards" else "line"
        return "tier", kind, [(t, tiers.get(t, t), c) for t, c in TIER_COLOURS.items()]
    if layer == "cells":
        none = "无未治理隐患" if lang == "zh" else "no open hazard"
        cats = [(t, tiers.get(t, t), c) for t, c in TIER_COLOURS.items() if t]
        return "worst_tier", "line", [*cats, ("", none, "#bdbdbd")]
    if layer == "crashes":
        words = SEVERITY_LABELS[lang]
        return (
            "severity",
            "marker",
            [(k, words[k], st["fillColor"]) for k, st in SEVERITY_STYLES.items()],
        )
    return (
        "road_class",
        "line",
        [(c, CLASS_ZH[c] if lang == "zh" else c, col) for c, col in CLASS_COLOURS.items()],
    )


_UNSURVEYED = 'CASE WHEN NOT "surveyed" THEN'
"""How the road-mode styles pick out a road with no hazard recorded (drawn the same in every
mode, as on the maps)."""


def road_mode_classes(mode: str, *, lang: str = "zh") -> tuple[str, list[tuple[Any, str, dict]]]:
    """``(QGIS expression, [(value, label, map style)])`` of a road mode (:data:`ROAD_MODES`):
    the value is a category (``worst``, ``surveyed``) or a ``(lower, upper)`` range of the
    expression (``pct``: -2 not surveyed, -1 surveyed with no hazard, else ``pct_remediated``);
    the styles are :data:`hazards.map_style.ROAD_STYLES` and ``UNSURVEYED_STYLE``."""
    from hazards.map_style import LABELS, ROAD_STYLES, UNSURVEYED_STYLE
    from hazards.report import CLASS_ZH

    words = LABELS.get(lang, LABELS["en"])
    never = ("unsurveyed", words["unsurveyed"], UNSURVEYED_STYLE)
    if mode == "worst":
        expr = f"{_UNSURVEYED} 'unsurveyed' ELSE coalesce(\"worst_tier\", 'clear') END"
        names = words["roadClasses"]["worst"]
        return expr, [*((k, names[k], st) for k, st in ROAD_STYLES["worst"].items()), never]
    if mode == "pct":
        expr = f'{_UNSURVEYED} -2 WHEN "pct_remediated" IS NULL THEN -1 ELSE "pct_remediated" END'
        names = words["roadClasses"]["pct"]
        steps = sorted(int(k[1:]) for k in ROAD_STYLES["pct"] if k.startswith("p"))
        tops = [nxt - 1 for nxt in steps[1:]] + [steps[-1]]
        out: list[tuple[Any, str, dict]] = [((-2, -2), never[1], UNSURVEYED_STYLE)]
        out.append(((-1, -1), names["clear"], ROAD_STYLES["pct"]["clear"]))
        for low, top in zip(steps, tops, strict=True):
            out.append(((low, top), names[f"p{low}"], ROAD_STYLES["pct"][f"p{low}"]))
        return expr, out
    if mode == "surveyed":
        expr = f"{_UNSURVEYED} 'unsurveyed' ELSE \"road_class\" END"
        classes = [
            (c, CLASS_ZH[c] if lang == "zh" else c, {"color": col, "weight": 4})
            for c, col in CLASS_COLOURS.items()
        ]
        return expr, [never, *classes]
    raise InputError(
        f"The road mode {mode!r} is not one of: {', '.join(ROAD_MODES)}.", param="mode"
    )


def road_mode_renderer(mode: str, *, lang: str = "zh") -> str:
    """The ``<renderer-v2>`` of a road mode (:func:`road_mode_classes`): categorized, or
    graduated for ``pct``; line widths and dashes from the maps' weights and dash arrays."""
    e = escape
    expr, classes = road_mode_classes(mode, lang=lang)
    symbols = "".join(
        _symbol(
            i, "line", st["color"], size=round(st["weight"] * PX_MM, 2), dash=st.get("dashArray")
        )
        for i, (_, _, st) in enumerate(classes)
    )
    if mode == "pct":
        ranges = "".join(
            f'<range render="true" lower="{lo:.6f}" upper="{hi:.6f}" symbol="{i}" '
            f'label="{e(lab)}"/>'
            for i, ((lo, hi), lab, _) in enumerate(classes)
        )
        return (
            f'<renderer-v2 type="graduatedSymbol" attr="{e(expr)}" graduatedMethod="GraduatedColor" '
            'symbollevels="0" enableorderby="0" forceraster="0">'
            f'<ranges>{ranges}</ranges><symbols>{symbols}</symbols><mode name="manual"/>'
            "</renderer-v2>"
        )
    categories = "".join(
        f'<category render="true" value="{e(str(v))}" symbol="{i}" label="{e(lab)}"/>'
        for i, (v, lab, _) in enumerate(classes)
    )
    return (
        f'<renderer-v2 type="categorizedSymbol" attr="{e(expr)}" symbollevels="0" '
        'enableorderby="0" forceraster="0">'
        f"<categories>{categories}</categories><symbols>{symbols}</symbols></renderer-v2>"
    )


def road_mode_name(mode: str, *, lang: str = "zh") -> str:
    """The name of a road mode's style in ``layer_styles`` (the maps' layer-control words)."""
    from hazards.map_style import LABELS

    words = LABELS.get(lang, LABELS["en"])
    if mode == "surveyed":
        return "道路：是否已排查" if lang == "zh" else "Roads: surveyed or not"
    return str(words["roadsWorst" if mode == "worst" else "roadsPct"])


def renderer(layer: str, *, lang: str = "zh") -> str:
    """The ``<renderer-v2>`` element of a layer (see :func:`qml`)."""
    e = escape
    if layer == "batches":
        return (
            '<renderer-v2 type="singleSymbol" symbollevels="0" enableorderby="0" '
            f'forceraster="0"><symbols>{_symbol(0, "marker", "#1f5fbf")}</symbols></renderer-v2>'
        )
    attr, kind, cats = _categories(layer, lang)
    size = {"hazards": 3.2, "hazard_extents": 1.6, "cells": 1.2, "roads": 0.8}.get(layer, 2.4)
    categories = "".join(
        f'<category render="true" value="{e(v)}" symbol="{i}" label="{e(lab)}"/>'
        for i, (v, lab, _) in enumerate(cats)
    )
    symbols = "".join(_symbol(i, kind, col, size=size) for i, (_, _, col) in enumerate(cats))
    return (
        f'<renderer-v2 type="categorizedSymbol" attr="{attr}" symbollevels="0" '
        'enableorderby="0" forceraster="0">'
        f"<categories>{categories}</categories><symbols>{symbols}</symbols></renderer-v2>"
    )


def _value_maps(lang: str) -> dict[str, dict[str, str]]:
    from hazards.map_style import LABELS
    from hazards.report import CLASS_ZH

    words = LABELS.get(lang, LABELS["en"])
    out = {
        "status": dict(words["statuses"]),
        "tier": {k: v for k, v in words["tiers"].items() if k},
        "severity": {k: v for k, v in SEVERITY_LABELS[lang].items() if k},
    }
    out["worst_tier"] = out["tier"]
    if lang == "zh":
        out["road_class"] = dict(CLASS_ZH)
    return out


def fields_xml(columns: list[str], *, lang: str = "zh") -> str:
    """Field aliases and value maps (zh or en value names shown in QGIS forms and the
    identify panel; the stored values stay the codes) for ``columns``."""
    e = escape
    names = FIELDS.get(lang, {})
    maps = _value_maps(lang)
    config = "".join(
        f'<field name="{e(c)}"><editWidget type="ValueMap"><config><Option type="Map">'
        '<Option type="List" name="map">'
        + "".join(
            f'<Option type="Map"><Option type="QString" name="{e(lab)}" value="{e(v)}"/></Option>'
            for v, lab in maps[c].items()
        )
        + "</Option></Option></config></editWidget></field>"
        for c in columns
        if c in maps
    )
    aliases = "".join(
        f'<alias field="{e(c)}" index="{i}" name="{e(names.get(c, ""))}"/>'
        for i, c in enumerate(columns)
    )
    return f"<fieldConfiguration>{config}</fieldConfiguration><aliases>{aliases}</aliases>"


def labeling(layer: str) -> str:
    """Road labels (route code along the line); other layers carry none."""
    if layer != "roads":
        return ""
    return (
        '<labeling type="simple"><settings calloutType="simple">'
        '<text-style fieldName="route_code" isExpression="0" fontSize="8" '
        'fontFamily="Noto Sans CJK SC" textColor="50,50,50,255" fontSizeUnit="Point"/>'
        '<text-buffer bufferDraw="1" bufferSize="0.8" bufferColor="255,255,255,255"/>'
        '<placement placement="2" dist="1"/><rendering obstacle="1"/></settings></labeling>'
    )


def qml(
    layer: str, *, lang: str = "zh", columns: list[str] | None = None, mode: str | None = None
) -> str:
    """The QGIS style (QML) of a layer of the GeoPackage: a categorized renderer on ``tier``
    (hazards, with the status in the outline, and hazard extents), ``road_class`` (roads),
    ``worst_tier`` (cells) or ``severity`` (crashes), a single symbol (batches); road labels;
    zh or en aliases and value names for ``columns``. ``mode``: a road mode of the roads layer
    (:data:`ROAD_MODES`) instead of its style by class."""
    labels = labeling(layer)
    drawn = road_mode_renderer(mode, lang=lang) if mode else renderer(layer, lang=lang)
    return (
        "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>"
        f'<qgis version="3.22.0" styleCategories="AllStyleCategories" '
        f'labelsEnabled="{int(bool(labels))}">{drawn}{labels}'
        f"{fields_xml(columns or [], lang=lang)}</qgis>"
    )


def styles(layer: str, *, lang: str = "zh", columns: list[str] | None = None) -> list[dict]:
    """A layer's styles for ``layer_styles``: ``{"name", "qml", "default", "description"}``,
    the default first; the roads layer's road modes (:data:`ROAD_MODES`) follow it."""
    out = [
        {
            "name": LAYER_NAMES[lang][layer],
            "qml": qml(layer, lang=lang, columns=columns),
            "default": True,
            "description": f"hazards export inventory: {layer}",
        }
    ]
    if layer == "roads" and "surveyed" in (columns or ["surveyed"]):
        out += [
            {
                "name": road_mode_name(mode, lang=lang),
                "qml": qml(layer, lang=lang, columns=columns, mode=mode),
                "default": False,
                "description": f"hazards export inventory: {layer}, road mode {mode}",
            }
            for mode in ROAD_MODES
        ]
    return out


def write_styles(path: Path, *, lang: str = "zh", layers: list[str] | None = None) -> None:
    """Add each layer's styles (:func:`styles`) to the GeoPackage's ``layer_styles`` table (the
    table QGIS reads and writes; created when missing): its default style, and for the roads
    the road modes as further named styles."""
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
        for layer in layers or list(LAYERS):
            columns = [r[1] for r in con.execute(f'PRAGMA table_info("{layer}")')]
            columns = [c for c in columns if c not in ("fid", GEOMETRY)]
            con.executemany(
                "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, "
                "f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description, "
                "owner) VALUES ('', '', ?, ?, ?, ?, '', ?, ?, 'hazards')",
                [
                    (layer, GEOMETRY, st["name"], st["qml"], int(st["default"]), st["description"])
                    for st in styles(layer, lang=lang, columns=columns)
                ],
            )
        con.commit()
    finally:
        con.close()
