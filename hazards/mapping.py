"""Interactive maps: the county overview, a road's dossier (一路一档) and a batch, as folium maps.

Every map draws hazards as circles on one canvas, coloured by tier (I red, II orange, III
yellow) with the status in the outline; roads are coloured by their worst open tier or by the
share remediated. A layer control switches tiers, statuses and the road colouring; a legend,
popups and a search box (hazard id or route code) work without tiles. Leaflet and the project's
own JS/CSS are vendored in ``hazards/static`` and inlined in the page, so a map built with
``tiles="none"`` loads nothing from the network.

Hazards travel as columns, not as one GeoJSON object per point (see :func:`encode_hazards`):
delta-coded integer micro-degrees, dictionary-coded tier/status, route, category and texts, in
``<script type="application/json">`` blocks; the popup columns are parsed only when a popup or
the search box first needs them. Nothing generated from data is ever run through Jinja (folium's
templates), so survey text such as ``{{ 7*7 }}`` stays text.

Library functions return a :class:`folium.Map` and take ``m=`` to draw onto an existing map.
"""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Callable, Iterable, Sequence
from importlib import resources
from typing import TYPE_CHECKING, Any

import folium
from branca.element import Element, Figure, MacroElement

from hazards.basemaps import add_basemap
from hazards.basemaps import check as check_tiles
from hazards.chainage import format_chainage
from hazards.db import store
from hazards.errors import InputError
from hazards.map_columns import compact_json as _json
from hazards.map_columns import encode_hazards as encode_hazards
from hazards.map_style import (
    LABELS,
    LANGS,
    MARKER_RADIUS,
    NO_OPEN_COLOUR,
    ROAD_WEIGHT,
    STATUS_STYLES,
    TIER_COLOURS,
)
from hazards.vocabulary import COST_SOURCES, STATUSES, TIERS

if TYPE_CHECKING:
    from sqlalchemy import Engine


# ----------------------------------------------------------------------------- assets
def _static(name: str) -> str:
    return resources.files("hazards").joinpath("static", name).read_text(encoding="utf-8")


def _data_uri(match: re.Match[str]) -> str:
    data = resources.files("hazards").joinpath("static", "leaflet", match.group(1)).read_bytes()
    return f"url(data:image/png;base64,{base64.b64encode(data).decode('ascii')})"


def _leaflet_css() -> str:
    """Leaflet's CSS with its images as data URIs, so the page requests no image file."""
    return re.sub(r"url\((images/[\w.-]+\.png)\)", _data_uri, _static("leaflet/leaflet.css"))


def _inline_assets() -> str:
    """``<style>`` and ``<script>`` elements with vendored Leaflet and the hazards layer code."""
    css = _leaflet_css() + "\n" + _static("hazards_map.css")
    js = "\n".join(_static(f) for f in ("leaflet/leaflet.js", "hazards_map.js", "crash_map.js"))
    js = js.replace("</script", "<\\/script")
    return f"<style>{css}</style>\n<script>{js}</script>"


def use_vendored_assets(m: folium.Map) -> folium.Map:
    """Replace folium's CDN links on ``m`` by the vendored Leaflet, inlined in the page.

    The map then needs no network for its code; only tile layers, if any, are fetched.
    """
    m.default_js = []
    m.default_css = []
    _ensure_assets(m)
    return m


def _figure(m: folium.Map) -> Figure:
    root = m.get_root()
    assert isinstance(root, Figure), "a folium map always sits in a Figure"
    return root


class _Raw(Element):
    """Text placed in the page as it is: branca's ``Element(text)`` would compile ``text`` as a
    Jinja template (slow for megabytes, and ``{{ ... }}`` in survey text would be evaluated)."""

    def __init__(self, markup: str) -> None:
        super().__init__()
        self._name = "Raw"
        self.markup = markup

    def render(self, **kwargs: Any) -> str:
        return self.markup


def _ensure_assets(m: folium.Map) -> None:
    header = _figure(m).header
    if "hazards_assets" not in header._children:
        header.add_child(_Raw(_inline_assets()), name="hazards_assets")


# ----------------------------------------------------------------------------- building blocks
def _check(lang: str, tiles: str) -> None:
    if lang not in LANGS:
        raise InputError(f"Unknown language {lang!r}: use one of {', '.join(LANGS)}.")
    check_tiles(tiles)


def base_map(
    *, tiles: str = "none", height: str | int = "100%", title: str | None = None
) -> folium.Map:
    """An empty canvas-rendering map with the vendored assets inlined.

    Parameters
    ----------
    tiles
        ``"none"`` (no background, nothing from the network), ``"osm"``, ``"tianditu"``, a
        URL template or an XYZ folder (:func:`hazards.basemaps.resolve`).
    height
        CSS height of the map (``"100%"`` or pixels).
    title
        Page title (escaped).
    """
    _check("en", tiles)
    m = folium.Map(tiles=None, prefer_canvas=True, control_scale=True, height=height)
    add_basemap(m, tiles)
    if title:
        _figure(m).title = html.escape(title)
    return use_vendored_assets(m)


def _filter(
    tiers: Iterable[str] | None,
    statuses: Iterable[str] | None,
    townships: Iterable[str] | None,
    **kw: Any,
) -> store.HazardFilter:
    tiers_t = None if tiers is None else tuple(tiers)
    statuses_t = None if statuses is None else tuple(statuses)
    bad = [t for t in tiers_t or () if t not in TIERS] + [
        s for s in statuses_t or () if s not in STATUSES
    ]
    if bad:
        raise InputError(
            f"Unknown tier or status {', '.join(map(repr, bad))}: tiers are {', '.join(TIERS)}; "
            f"statuses are {', '.join(STATUSES)}."
        )
    towns = None if townships is None else tuple(townships)
    return store.HazardFilter(tiers=tiers_t, statuses=statuses_t, townships=towns, **kw)


def _safe_json(obj: Any) -> str:
    return _escape_script(json.dumps(obj, ensure_ascii=False))


def _escape_script(text: str) -> str:
    """JSON made safe to sit inside ``<script>``: no ``<``, ``>`` or ``&`` survives."""
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


class _Overlay(MacroElement):
    """Calls ``HazardsMap.draw`` (or ``function``) on the parent map; the data sits in JSON
    script blocks.

    ``render`` adds raw elements itself instead of using a Jinja macro: branca would compile
    the rendered text (megabytes, with survey text in it) as a template.
    """

    def __init__(
        self, config: str, blocks: dict[str, str], function: str = "HazardsMap.draw"
    ) -> None:
        super().__init__()
        self._name = "HazardsOverlay"
        self.config = config
        self.blocks = blocks
        self.function = function

    def render(self, **kwargs: Any) -> None:  # type: ignore[override]  # MacroElement returns None
        figure = self.get_root()
        assert isinstance(figure, Figure), "the overlay must be on a map in a Figure"
        name = self.get_name()
        figure.html.add_child(
            _Raw(
                "".join(
                    f'<script type="application/json" id="{name}-{key}">{_escape_script(text)}'
                    "</script>"
                    for key, text in self.blocks.items()
                )
            ),
            name=name,
        )
        assert self._parent is not None
        figure.script.add_child(
            _Raw(f"{self.function}({self._parent.get_name()}, {self.config}, {_json(name)});"),
            name=name,
        )


def _config(
    hazards: dict[str, Any],
    roads: dict[str, Any] | None,
    *,
    lang: str,
    title: str,
    subtitle: str,
    hide: Sequence[str],
    search: bool,
    collapsed: bool = False,
) -> str:
    """The (small) JSON configuration given to ``HazardsMap.draw``."""
    groups = hazards["groups"]
    tiers = [t for t in (*TIERS, "") if any(g["tier"] == t for g in groups)]
    statuses = [s for s in STATUSES if any(g["status"] == s for g in groups)]
    cfg = {
        "lang": lang,
        "labels": LABELS[lang],
        "title": title,
        "subtitle": subtitle,
        "tierColours": TIER_COLOURS,
        "statusStyles": STATUS_STYLES,
        "radius": MARKER_RADIUS,
        "roadWeight": ROAD_WEIGHT,
        "noOpenColour": NO_OPEN_COLOUR,
        "collapsed": collapsed,
        "tiers": tiers,
        "statuses": statuses,
        "hiddenStatuses": list(hide),
        "search": search,
        "legendTiers": [*TIERS, *([""] if "" in tiers else [])],
        "legendStatuses": statuses or list(STATUSES),
        "count": hazards["count"],
        "groups": groups,
        "roads": bool(roads and roads["count"]),
    }
    return _safe_json(cfg)


def _bounds(hazards: dict[str, Any], roads: dict[str, Any] | None) -> list[list[float]] | None:
    boxes = [b for b in (hazards["bbox"], roads["bbox"] if roads else None) if b]
    if not boxes:
        return None
    w, s, e, n = (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )
    return [[s, w], [n, e]]


def _subtitle(count: int, unplaced: int, lang: str) -> str:
    text = LABELS[lang]["count"].format(n=count)
    if unplaced:
        text += "; " + LABELS[lang]["unplaced"].format(n=unplaced)
    return text


def _draw(
    engine: Engine,
    flt: store.HazardFilter,
    roads: dict[str, Any] | None,
    *,
    m: folium.Map | None,
    lang: str,
    tiles: str,
    title: str,
    search: bool,
    height: str | int = "100%",
) -> folium.Map:
    """Query the hazards for ``flt`` and draw them (and ``roads``) onto ``m`` or a new map."""
    _check(lang, tiles)
    hazards = encode_hazards(store.hazard_columns(engine, flt), lang=lang)
    subtitle = _subtitle(hazards["count"], store.unplaced_count(engine, flt), lang)
    hide = ("rejected",) if flt.statuses is None else ()
    fit = m is None
    if m is None:
        m = base_map(tiles=tiles, height=height, title=title)
    _ensure_assets(m)
    config = _config(
        hazards,
        roads,
        lang=lang,
        title=title,
        subtitle=subtitle,
        hide=hide,
        search=search,
        collapsed=height != "100%",
    )
    blocks = {"points": hazards["points"], "attrs": hazards["attrs"]}
    if roads and roads["count"]:
        blocks["roads"] = roads["geojson"]
    m.add_child(_Overlay(config, blocks))
    bounds = _bounds(hazards, roads)
    if fit and bounds:
        m.fit_bounds(bounds, max_zoom=17, padding=(20, 20))
    return m


def _engine(engine: Engine | None) -> Engine:
    if engine is not None:
        return engine
    from hazards.db.session import get_engine

    return get_engine()


# ----------------------------------------------------------------------------- public maps
def overview_map(
    *,
    engine: Engine | None = None,
    tiers: Iterable[str] | None = None,
    statuses: Iterable[str] | None = None,
    townships: Iterable[str] | None = None,
    lang: str = "en",
    tiles: str = "none",
    m: folium.Map | None = None,
) -> folium.Map:
    """The county overview: every road and every placed hazard matching the filters.

    Parameters
    ----------
    engine
        Database to read (default: the configured one).
    tiers, statuses, townships
        Keep only these effective tiers (``I``, ``II``, ``III``), statuses and road townships.
    lang
        ``"en"`` or ``"zh"`` for the legend, layer names and popup fields.
    tiles
        ``"none"`` or ``"osm"``; ignored when ``m`` is given.
    m
        A map to draw onto; a new one, fitted to the data, is made otherwise.
    """
    engine = _engine(engine)
    flt = _filter(tiers, statuses, townships)
    roads = store.road_layer(engine, townships=flt.townships)
    return _draw(
        engine,
        flt,
        roads,
        m=m,
        lang=lang,
        tiles=tiles,
        title=LABELS[lang]["overview"] if lang in LANGS else "",
        search=True,
    )


def road_map(
    code: str,
    *,
    engine: Engine | None = None,
    tiers: Iterable[str] | None = None,
    statuses: Iterable[str] | None = None,
    townships: Iterable[str] | None = None,
    lang: str = "en",
    tiles: str = "none",
    height: str | int = "100%",
    m: folium.Map | None = None,
) -> folium.Map:
    """One road and its hazards; :class:`~hazards.errors.NotFound` for an unknown route code.

    Parameters
    ----------
    code
        Route code, e.g. ``X001``.
    engine, tiers, statuses, townships, lang, tiles, m
        As for :func:`overview_map` (a road outside ``townships`` shows no hazard).
    height
        CSS height of a new map.
    """
    engine = _engine(engine)
    road = store.get_road(engine, code)
    flt = _filter(tiers, statuses, townships, route=road["route_code"])
    roads = store.road_layer(engine, route=road["route_code"])
    title = _road_title(road, lang)
    return _draw(
        engine, flt, roads, m=m, lang=lang, tiles=tiles, title=title, search=True, height=height
    )


def batch_map(
    name: str,
    *,
    engine: Engine | None = None,
    tiers: Iterable[str] | None = None,
    statuses: Iterable[str] | None = None,
    townships: Iterable[str] | None = None,
    lang: str = "en",
    tiles: str = "none",
    m: folium.Map | None = None,
) -> folium.Map:
    """The hazards of one remediation batch and the roads they are on.

    :class:`~hazards.errors.NotFound` for an unknown batch name. Options as for
    :func:`overview_map`.
    """
    engine = _engine(engine)
    batch = store.find_batch(engine, name)
    flt = _filter(tiers, statuses, townships, batch_id=batch["id"])
    roads = store.road_layer(engine, batch_id=batch["id"], townships=flt.townships)
    title = f"{LABELS[lang]['batch'] if lang in LANGS else ''} {batch['name']}"
    if batch.get("contractor"):
        title += f" · {batch['contractor']}"
    return _draw(engine, flt, roads, m=m, lang=lang, tiles=tiles, title=title, search=True)


def _road_title(road: dict[str, Any], lang: str) -> str:
    label = LABELS[lang]["road"] if lang in LANGS else ""
    return " ".join(p for p in (road["route_code"], road.get("name") or "", label) if p)


# ----------------------------------------------------------------------------- road dossier
def road_dossier(
    code: str,
    *,
    engine: Engine | None = None,
    tiers: Iterable[str] | None = None,
    statuses: Iterable[str] | None = None,
    townships: Iterable[str] | None = None,
    lang: str = "en",
    tiles: str = "none",
    strip_marks: Callable[[Callable[[float], float]], str] | None = None,
    decorate: Callable[[folium.Map], Any] | None = None,
) -> Figure:
    """The road's page (一路一档): facts, a chainage strip diagram, the map and a hazard table.

    The filters (as for :func:`overview_map`) apply to the map, the diagram and the table.
    ``strip_marks`` and ``decorate`` add to the diagram and the map (crashes, see
    :mod:`hazards.crash_maps`): as for :func:`chainage_strip`, and called with the map.
    Returns the page as a :class:`branca.element.Figure`; ``.save(path)`` writes it.
    """
    engine = _engine(engine)
    road = store.get_road(engine, code)
    road["townships"] = store.route_townships(engine, road["id"])
    m = road_map(
        code,
        engine=engine,
        tiers=tiers,
        statuses=statuses,
        townships=townships,
        lang=lang,
        tiles=tiles,
        height=440,
    )
    if decorate is not None:
        decorate(m)
    rows = _filtered_rows(
        store.road_hazard_rows(engine, road["id"]), road, _filter(tiers, statuses, townships)
    )
    parts = store.road_parts(engine, road["id"])
    labels = LABELS[lang]
    fig = _figure(m)
    head = (
        f'<div class="hz-dossier"><h1>{html.escape(_road_title(road, lang))}</h1>'
        f"{_facts(road, labels)}<h2>{labels['strip']}</h2>"
        f"{chainage_strip(rows, parts, float(road['end_m']), lang=lang, marks=strip_marks)}</div>"
    )
    fig.html.add_child(_Raw(head), name="hazards_dossier_head")
    m.add_child(
        _HtmlAfter(
            f'<div class="hz-dossier"><h2>{labels["table"]}</h2>'
            f"{hazard_table(rows, lang=lang)}</div>"
        )
    )
    return fig


def _filtered_rows(rows: Any, road: dict[str, Any], flt: store.HazardFilter) -> Any:
    keep = rows["status"].notna()
    if flt.tiers is not None:
        keep &= rows["tier"].fillna("").isin(flt.tiers)
    if flt.statuses is not None:
        keep &= rows["status"].isin(flt.statuses)
    if flt.townships is not None:  # the township of the segment under each hazard
        keep &= rows["township"].isin(flt.townships)
    return rows[keep]


class _HtmlAfter(MacroElement):
    """HTML placed in the page after its parent map's ``<div>`` (as it is, not as a template)."""

    def __init__(self, markup: str) -> None:
        super().__init__()
        self._name = "HtmlAfter"
        self.markup = markup

    def render(self, **kwargs: Any) -> None:  # type: ignore[override]  # MacroElement returns None
        figure = self.get_root()
        assert isinstance(figure, Figure), "the element must be on a map in a Figure"
        figure.html.add_child(_Raw(self.markup), name=self.get_name())


def _facts(road: dict[str, Any], labels: dict[str, Any]) -> str:
    items = [
        (
            labels["townships"],
            "、".join(road.get("townships") or []) or road.get("township") or "—",
        ),
        (labels["class"], road.get("road_class") or "—"),
        (labels["length"], f"{float(road['length_m']) / 1000:.2f} km"),
        (labels["end"], f"K0+000 – {format_chainage(float(road['end_m']))}"),
        (labels["gap"], f"{float(road.get('gap_m') or 0):.0f} m"),
    ]
    spans = "".join(
        f"<span><b>{html.escape(k)}</b>: {html.escape(str(v))}</span>" for k, v in items
    )
    return f'<div class="hz-facts">{spans}</div>'


def chainage_strip(
    rows: Any,
    parts: Any,
    end_m: float,
    *,
    lang: str = "en",
    width: int = 1000,
    marks: Callable[[Callable[[float], float]], str] | None = None,
) -> str:
    """An SVG straight-line diagram of a route from K0 to its end: the covered chainage ranges
    of the main line, a tick per kilometre, hazards placed by chainage in one lane per tier.

    ``rows`` are :func:`hazards.db.store.road_hazard_rows`, ``parts`` are
    :func:`hazards.db.store.road_parts`. ``marks(x)``, given the chainage → x function, returns
    more SVG for the free band above the lanes (y 0-22), e.g. crash ticks.
    """
    end = max(end_m, 1.0)
    x0, span, lanes = 40, width - 60, {"I": 30, "II": 50, "III": 70, None: 90}

    def x(m: float) -> float:
        return round(x0 + span * min(max(m, 0.0), end) / end, 1)

    main = parts[parts["part"] == 0] if len(parts) else parts
    out = [f'<svg class="hz-strip" viewBox="0 0 {width} 130" xmlns="http://www.w3.org/2000/svg">']
    out += [
        f'<line x1="{x(a)}" y1="60" x2="{x(b)}" y2="60" stroke="#555" stroke-width="6"/>'
        for a, b in zip(main["from_m"], main["to_m"], strict=True)
    ]
    step = 1000 * max(1, int(end // 20000) + 1)
    for k in range(0, int(end) + 1, step):
        out.append(
            f'<line x1="{x(k)}" y1="100" x2="{x(k)}" y2="108" stroke="#333"/>'
            f'<text x="{x(k)}" y="122" font-size="11" text-anchor="middle">K{k // 1000}</text>'
        )
    for t, y in lanes.items():
        name = LABELS[lang]["tiers"]["" if t is None else t]
        out.append(
            f'<text x="2" y="{y + 4}" font-size="10">{html.escape(name.split("（")[0])}</text>'
        )
    placed = rows[rows["chainage_m"].notna()] if len(rows) else rows
    for r in placed.itertuples(index=False):
        tier = r.tier if r.tier in TIERS else None
        style = STATUS_STYLES.get(r.status, {})
        tip = " ".join(
            str(v) for v in (r.id, r.chainage, r.tier or "", r.status, r.description or "") if v
        )
        lo, hi = getattr(r, "from_m", None), getattr(r, "to_m", None)
        if lo is not None and hi is not None and lo == lo and hi == hi:  # NaN: a point hazard
            out.append(
                f'<rect class="hz-strip-extent" x="{x(float(lo))}" y="{lanes[tier] - 3}" '
                f'width="{max(x(float(hi)) - x(float(lo)), 1.0):.1f}" height="6" '
                f'fill="{TIER_COLOURS[tier or ""]}" fill-opacity="0.55"><title>'
                f"{html.escape(f'{r.id} {format_chainage(lo)}–{format_chainage(hi)}')}</title></rect>"
            )
        out.append(
            f'<circle class="hz-strip-hazard" cx="{x(float(r.chainage_m))}" cy="{lanes[tier]}" r="5" '
            f'fill="{TIER_COLOURS[tier or ""]}" stroke="{style.get("color", "#333")}" '
            f'stroke-width="{style.get("weight", 1)}"><title>{html.escape(tip)}</title></circle>'
        )
    out.append((marks(x) if marks is not None else "") + "</svg>")
    return "".join(out)


def hazard_table(rows: Any, *, lang: str = "en") -> str:
    """The dossier's hazard table as HTML, every cell escaped."""
    labels = LABELS[lang]
    if not len(rows):
        return f"<p>{html.escape(labels['no_hazards'])}</p>"
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
        cost_cny=[
            cost_text(c, s, lang=lang)
            for c, s in zip(
                rows["cost_cny"],
                rows["cost_source"] if "cost_source" in rows else [None] * len(rows),
                strict=True,
            )
        ],
    )
    head = "".join(f"<th>{html.escape(label)}</th>" for _, label in cols)
    body = "".join(
        "<tr>" + "".join(f"<td>{_cell(v)}</td>" for v in rec) + "</tr>"
        for rec in shown[[c for c, _ in cols]].itertuples(index=False)
    )
    return f'<table class="hz-table"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


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


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return html.escape(str(value))
