"""The parts of the map pages built in Python as HTML: the road dossier's facts, chainage strip
(一路一档 桩号示意图) and hazard table, the batch page's site table, and the page words these
need beyond :data:`hazards.map_style.LABELS` (in both languages, :func:`page_labels`).

Every text from the data is escaped here; :mod:`hazards.mapping` places the results in the
page as they are (never through Jinja).
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from hazards.chainage import format_chainage
from hazards.map_style import LABELS, STATUS_STYLES, TIER_COLOURS
from hazards.photos import Photo, photos_html, publish_photos
from hazards.vocabulary import (
    CATEGORY_ZH,
    CLASS_ZH,
    COST_SOURCES,
    TIERS,
    UNIT_ZH,
    event_note,
    event_word,
    money_text,
)

STRIP_PX_PER_KM = 120
"""The dossier strip's least scale: a kilometre is at least this many pixels wide, so that on
a phone the strip scrolls sideways instead of shrinking to an unreadable line."""

STRIP_MIN_PX = 1000
"""The dossier strip's least width in pixels (a short road still fills a desktop page)."""

MORE_LABELS: dict[str, dict[str, Any]] = {
    "en": {
        "fields": {"measure": "Countermeasure", "photos": "Photos", "no": "No."},
        "sites": "Sites",
        "siteCols": {
            "no": "No.",
            "id": "Hazard",
            "route": "Route",
            "chainage": "Chainage",
            "category": "Category",
            "measure": "Countermeasure",
            "quantity": "Quantity",
            "cost": "Estimated cost",
        },
        "total": "Total",
        "fromLibrary": "cost library",
        "otherRoads": "Other roads (not in this batch)",
        "classes": {c: c.replace("_", " ") for c in CLASS_ZH},
        "units": {"m": "m", "each": "each", "m2": "m²"},
        "photo": "photo",
        "km": "km",
        "m": "m",
    },
    "zh": {
        "fields": {"measure": "整治措施", "photos": "现场照片", "no": "序号"},
        "sites": "整治点位清单",
        "siteCols": {
            "no": "序号",
            "id": "隐患编号",
            "route": "路线编码",
            "chainage": "桩号",
            "category": "隐患类型",
            "measure": "整治措施",
            "quantity": "工程量",
            "cost": "估算费用",
        },
        "total": "合计",
        "fromLibrary": "成本库",
        "otherRoads": "其他道路（不在本批次）",
        "classes": CLASS_ZH,
        "units": UNIT_ZH,
        "photo": "照片",
        "km": "km",
        "m": "m",
    },
}
"""Page words that :data:`hazards.map_style.LABELS` does not hold, merged in by
:func:`page_labels`."""


def page_labels(lang: str) -> dict[str, Any]:
    """Every word of a map page in ``lang``: :data:`~hazards.map_style.LABELS` with
    :data:`MORE_LABELS` merged in (``fields`` merged key by key)."""
    base, more = LABELS[lang], MORE_LABELS[lang]
    return {**base, **more, "fields": {**base["fields"], **more["fields"]}}


def road_title(road: dict[str, Any], lang: str) -> str:
    """``X018 南嘴至新湾公路 一路一档``: the route code once, even when the name repeats it."""
    code = str(road["route_code"])
    name = str(road.get("name") or "").strip()
    if name.upper().startswith(code.upper()):
        name = name[len(code) :].lstrip(" -—–_:：·")
    label = LABELS[lang]["road"] if lang in LABELS else ""
    return " ".join(p for p in (code, name, label) if p)


def category_word(category: str | None, lang: str) -> str:
    """A category code in ``lang`` (zh: :data:`~hazards.vocabulary.CATEGORY_ZH`; en: the code
    with spaces); other text as it is."""
    if not category:
        return ""
    if lang == "zh":
        return CATEGORY_ZH.get(category, category)
    return category.replace("_", " ")


def event_text(text: str | None, lang: str) -> str:
    """A history line ``2025-03-01 planned 列入第一批`` with its status or kind in ``lang``
    (``2025-03-01 已计划 列入第一批``)."""
    if not text:
        return ""
    parts = str(text).split(" ", 2)
    if len(parts) >= 2:
        what = parts[1]
        parts[1] = LABELS[lang]["statuses"].get(what) or event_word(what, lang) or what
    if len(parts) == 3:
        parts[2] = event_note(parts[2], lang) or ""
    return " ".join(parts)


def facts(road: dict[str, Any], lang: str) -> str:
    """The dossier's line of facts: townships, class, length, chainage range, missing geometry."""
    labels = page_labels(lang)
    cls = road.get("road_class")
    items = [
        (
            labels["townships"],
            "、".join(road.get("townships") or []) or road.get("township") or "—",
        ),
        (labels["class"], labels["classes"].get(cls, cls) if cls else "—"),
        (labels["length"], f"{float(road['length_m']) / 1000:.2f} km"),
        (labels["end"], f"K0+000 – {format_chainage(float(road['end_m']))}"),
        (labels["gap"], f"{float(road.get('gap_m') or 0):.0f} m"),
    ]
    spans = "".join(
        f"<span><b>{html.escape(k)}</b>: {html.escape(str(v))}</span>" for k, v in items
    )
    return f'<div class="hz-facts">{spans}</div>'


STRIP_RADIUS = 6
"""A hazard's circle on the strip (pixels): the map's marker size, so its mark reads."""


def chainage_strip(
    rows: Any,
    parts: Any,
    end_m: float,
    *,
    lang: str = "en",
    width: int | None = None,
    marks: Callable[[Callable[[float], float]], str] | None = None,
) -> str:
    """An SVG straight-line diagram of a route from K0 to its end: the covered chainage ranges
    of the main line, a tick per kilometre, hazards placed by chainage in one lane per tier, each
    with the map's symbol for its status (dash, tick, cross: :data:`~hazards.map_style.STATUS_STYLES`).

    ``rows`` are :func:`hazards.db.store.road_hazard_rows`, ``parts`` are
    :func:`hazards.db.store.road_parts`. ``marks(x)``, given the chainage → x function, returns
    more SVG for the free band above the lanes (y 0-22), e.g. crash ticks. ``width`` (pixels,
    default: :data:`STRIP_PX_PER_KM` per km, at least :data:`STRIP_MIN_PX`): the SVG is drawn at
    that size inside a container that scrolls sideways on a narrow screen.
    """
    end = max(end_m, 1.0)
    if width is None:
        width = max(STRIP_MIN_PX, round(end / 1000 * STRIP_PX_PER_KM) + 60)
    labels = LABELS[lang]
    x0, span, lanes = 40, width - 60, {"I": 30, "II": 50, "III": 70, None: 90}

    def x(m: float) -> float:
        return round(x0 + span * min(max(m, 0.0), end) / end, 1)

    main = parts[parts["part"] == 0] if len(parts) else parts
    out = [
        '<div class="hz-strip-scroll" style="overflow-x:auto;max-width:100%;'
        '-webkit-overflow-scrolling:touch">'
        f'<svg class="hz-strip" viewBox="0 0 {width} 130" width="{width}" height="130" '
        f'style="width:{width}px;min-width:{width}px;height:130px;max-width:none" '
        'xmlns="http://www.w3.org/2000/svg">'
    ]
    out += [
        f'<line x1="{x(a)}" y1="60" x2="{x(b)}" y2="60" stroke="#555" stroke-width="6"/>'
        for a, b in zip(main["from_m"], main["to_m"], strict=True)
    ]
    per_km = span / (end / 1000)
    step = 1000 * next((k for k in (1, 2, 5, 10, 20, 50) if k * per_km >= 40), 100)
    for k in range(0, int(end) + 1, step):
        out.append(
            f'<line x1="{x(k)}" y1="100" x2="{x(k)}" y2="108" stroke="#333"/>'
            f'<text x="{x(k)}" y="122" font-size="11" text-anchor="middle">K{k // 1000}</text>'
        )
    for t, y in lanes.items():
        name = labels["tiers"]["" if t is None else t]
        out.append(
            f'<text x="2" y="{y + 4}" font-size="10">{html.escape(name.split("（")[0])}</text>'
        )
    placed = rows[rows["chainage_m"].notna()] if len(rows) else rows
    for r in placed.itertuples(index=False):
        tier = r.tier if r.tier in TIERS else None
        style = STATUS_STYLES.get(r.status, {})
        tip = " ".join(
            str(v)
            for v in (
                r.id,
                r.chainage,
                labels["tiers"].get(r.tier or "", r.tier) if r.tier else "",
                labels["statuses"].get(r.status, r.status),
                r.description or "",
            )
            if v
        )
        lo, hi = getattr(r, "from_m", None), getattr(r, "to_m", None)
        if lo is not None and hi is not None and lo == lo and hi == hi:  # NaN: a point hazard
            out.append(
                f'<rect class="hz-strip-extent" x="{x(float(lo))}" y="{lanes[tier] - 3}" '
                f'width="{max(x(float(hi)) - x(float(lo)), 1.0):.1f}" height="6" '
                f'fill="{TIER_COLOURS[tier or ""]}" fill-opacity="0.55"><title>'
                f"{html.escape(f'{r.id} {format_chainage(lo)}–{format_chainage(hi)}')}</title></rect>"
            )
        out.append(_strip_symbol(x(float(r.chainage_m)), lanes[tier], tier, r.status, style, tip))
    out.append((marks(x) if marks is not None else "") + "</svg></div>")
    return "".join(out)


def _strip_symbol(
    cx: float, cy: float, tier: str | None, status: str, style: dict[str, Any], tip: str
) -> str:
    """A hazard on the strip with the map's symbol for its status (see
    :data:`~hazards.map_style.STATUS_STYLES`): tier fill (or the status's own), outline colour,
    width and dash, fill opacity, and the tick or cross drawn inside (as hazards_map.js does)."""
    r = STRIP_RADIUS
    fill = style.get("fillColor") or TIER_COLOURS[tier or ""]
    dash = f' stroke-dasharray="{style["dashArray"]}"' if style.get("dashArray") else ""
    svg = (
        f'<circle class="hz-strip-hazard" data-status="{html.escape(str(status))}" cx="{cx}" '
        f'cy="{cy}" r="{r}" fill="{fill}" fill-opacity="{style.get("fillOpacity", 0.9)}" '
        f'stroke="{style.get("color", "#333")}" stroke-width="{style.get("weight", 1)}"{dash}>'
        f"<title>{html.escape(tip)}</title></circle>"
    )
    mark, k = style.get("mark"), r * 0.55
    if mark == "check":
        d = f"M{cx - k:.1f} {cy} L{cx - k * 0.2:.1f} {cy + k * 0.7:.1f} L{cx + k:.1f} {cy - k * 0.7:.1f}"
    elif mark == "cross":
        d = (
            f"M{cx - k:.1f} {cy - k:.1f} L{cx + k:.1f} {cy + k:.1f} "
            f"M{cx + k:.1f} {cy - k:.1f} L{cx - k:.1f} {cy + k:.1f}"
        )
    else:
        return svg
    return svg + (
        f'<path class="hz-strip-mark" data-mark="{mark}" d="{d}" fill="none" '
        f'stroke="{style.get("color", "#333")}" stroke-width="1.8" pointer-events="none"/>'
    )


def hazard_table(
    rows: Any,
    *,
    lang: str = "en",
    photos: Sequence[Sequence[Photo]] | None = None,
    filtered: bool = False,
) -> str:
    """The dossier's hazard table as HTML, every cell escaped; ``photos`` (one list per row,
    paths relative to the page) add a column of thumbnails. ``filtered``: the rows are those
    a filter kept (none: none matches it, not none recorded)."""
    labels = page_labels(lang)
    if not len(rows):
        return f"<p>{html.escape(labels['no_hazards_filtered' if filtered else 'no_hazards'])}</p>"
    f = labels["fields"]
    cols = [
        ("id", f["id"]),
        ("chainage", f["chainage"]),
        ("tier", f["tier"]),
        ("status", f["status"]),
        ("category", f["category"]),
        ("description", f["description"]),
        ("batch", f["batch"]),
        ("last_event", f["event"]),
        ("cost_cny", f["cost"]),
    ]
    shown = rows.assign(
        tier=rows["tier"].map(lambda t: labels["tiers"].get(t or "", t)),
        status=rows["status"].map(lambda s: labels["statuses"].get(s, s)),
        last_event=rows["last_event"].map(lambda e: event_text(e, lang) if e == e else None),
        cost_cny=[
            cost_text(c, s, lang=lang)
            for c, s in zip(
                rows["cost_cny"],
                rows["cost_source"] if "cost_source" in rows else [None] * len(rows),
                strict=True,
            )
        ],
    )
    with_photos = photos is not None and any(photos)
    head = "".join(f"<th>{html.escape(label)}</th>" for _, label in cols)
    if with_photos:
        head += f"<th>{html.escape(f['photos'])}</th>"
    body = []
    for i, rec in enumerate(shown[[c for c, _ in cols]].itertuples(index=False)):
        cells = "".join(f"<td>{_cell(v)}</td>" for v in rec)
        if with_photos:
            assert photos is not None
            cells += f'<td class="hz-photos">{photos_html(photos[i], title=labels["photo"])}</td>'
        body.append(f"<tr>{cells}</tr>")
    return (
        f'<table class="hz-table"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def cost_text(cost: float | None, source: str | None, *, lang: str = "en") -> str:
    """A hazard's effective cost with its source, as the popup shows it: ``34,200 CNY (survey)``,
    ``18,040 元 (成本库)``; empty when there is no cost."""
    if cost is None or cost != cost:
        return ""
    labels = LABELS[lang]
    text = f"{float(cost):,.0f} {labels['yuan']}"
    if source in COST_SOURCES:
        text += f" ({labels['costSources'][source]})"
    return text


def quantity_text(quantity: Any, unit: str | None, lang: str) -> str:
    """``329 米`` / ``329 m``: a quantity with its unit in ``lang``; empty without a quantity."""
    if quantity is None or quantity != quantity or quantity == "":
        return ""
    q = float(quantity)
    number = f"{q:,.0f}" if q == int(q) else f"{q:,.1f}"
    units = page_labels(lang)["units"]
    return f"{number} {units.get(unit, unit)}" if unit else number


def measure_text(props: dict[str, Any], lang: str) -> str:
    """A batch site's countermeasure with its quantity, and the cost library's mark when the
    countermeasure is the library's: ``增设警告标志 · 2 处``."""
    qty = quantity_text(props.get("quantity"), props.get("unit"), lang)
    return " · ".join(p for p in (_measure_name(props, lang), qty) if p)


def _measure_name(props: dict[str, Any], lang: str) -> str:
    measure = str(props.get("countermeasure") or "")
    if measure and props.get("countermeasure_source") == "library":
        word = page_labels(lang)["fromLibrary"]
        measure += f"（{word}）" if lang == "zh" else f" ({word})"
    return measure


def site_chainage(props: dict[str, Any]) -> str:
    """A site's 桩号, or its 起止桩号 (``K0+744–K1+073``) for a linear hazard."""
    lo, hi = props.get("from_m"), props.get("to_m")
    if lo is not None and hi is not None:
        return f"{format_chainage(float(lo))}–{format_chainage(float(hi))}"
    return str(props.get("chainage") or "")


def site_table(sites: Sequence[dict[str, Any]], *, lang: str = "en") -> str:
    """A batch's ordered site table as HTML (序号, 隐患编号, 路线, 桩号 or 起止桩号, category,
    countermeasure, quantity and unit, cost by :func:`~hazards.vocabulary.money_text`), with a
    total; ``sites`` are the batch's feature properties in work-list order."""
    labels = page_labels(lang)
    c = labels["siteCols"]
    keys = ("no", "id", "route", "chainage", "category", "measure", "quantity", "cost")
    head = "".join(f"<th>{html.escape(c[k])}</th>" for k in keys)
    body = []
    total: float | None = None
    for n, p in enumerate(sites, start=1):
        cost = p.get("estimated_cost_cny")
        if cost is not None:
            total = (total or 0.0) + float(cost)
        measure = _measure_name(p, lang)
        cells = (
            n,
            p.get("id"),
            p.get("route_code"),
            site_chainage(p),
            category_word(p.get("category"), lang),
            measure,
            quantity_text(p.get("quantity"), p.get("unit"), lang),
            money_text(float(cost), lang=lang) if cost is not None else "",
        )
        body.append("<tr>" + "".join(f"<td>{_cell(v)}</td>" for v in cells) + "</tr>")
    foot = (
        f'<tr><th colspan="{len(keys) - 1}">{html.escape(labels["total"])}</th>'
        f"<th>{html.escape(money_text(total, lang=lang))}</th></tr>"
    )
    return (
        f'{_SITE_CSS}<div class="hz-dossier"><h2>{html.escape(labels["sites"])}</h2>'
        f'<table class="hz-table hz-sites"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody><tfoot>{foot}</tfoot></table></div>"
    )


def hazard_ids(frame: Any) -> list[str]:
    """The public ids of :func:`hazards.db.store.hazard_columns` rows."""
    return [
        f"{p}{str(n).zfill(w)}" if w else str(p)
        for p, w, n in zip(frame["id_prefix"], frame["id_width"], frame["id_num"], strict=True)
    ]


def encoded_photos(frame: Any, out_dir: str | Path | None) -> tuple[list[Any] | None, list[str]]:
    """Per hazard (:func:`hazards.db.store.hazard_columns` rows) null or its photos as
    ``[thumb, src]`` pairs, copied beside the page in ``out_dir`` (None: no photos shown), and
    the warnings of :func:`hazards.photos.publish_photos`."""
    if out_dir is None or "photo" not in frame or not frame["photo"].notna().any():
        return None, []
    has = frame["photo"].notna().to_numpy()
    ids = [i for i, h in zip(hazard_ids(frame), has, strict=True) if h]
    published, warnings = publish_photos(frame["photo"][has], out_dir=out_dir, labels=ids)
    out: list[Any] = [None] * len(frame)
    for pos, photos in zip(has.nonzero()[0].tolist(), published, strict=True):
        out[pos] = [[p["thumb"], p["src"]] for p in photos] or None
    return out, warnings


_SITE_CSS = (
    "<style>.leaflet-tooltip.hz-site-label{font:bold 12px/14px sans-serif;color:#111;"
    "padding:0 3px;border:1px solid #666;border-radius:3px;box-shadow:none}"
    ".leaflet-tooltip.hz-site-label::before{display:none}"
    ".hz-sites tfoot th{text-align:right}</style>"
)
"""The site numbers beside the batch's hazards and the table's total (the page's own CSS)."""


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return html.escape(str(value))
