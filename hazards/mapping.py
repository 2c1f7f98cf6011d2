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
Given ``out_dir`` (the folder the page will be written to), the hazards' survey photos are
copied beside it (:func:`hazards.photos.publish_photos`) and shown as thumbnails in the popups
and the dossier's table; photos not found are listed in :func:`page_warnings`, the page is
built all the same. The batch page numbers its sites in work-list order (route, chainage): a
label beside each hazard, a site table under the map, roads coloured by the batch's sites only
and the other roads drawn beneath in their own colour (in the legend too).
"""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Callable, Iterable, Sequence
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import folium
from branca.element import Element, Figure, MacroElement

from hazards.basemaps import add_basemap
from hazards.basemaps import check as check_tiles
from hazards.db import store
from hazards.errors import InputError
from hazards.map_columns import compact_json as _json
from hazards.map_columns import encode_hazards as encode_hazards
from hazards.map_html import chainage_strip as chainage_strip
from hazards.map_html import cost_text as cost_text
from hazards.map_html import (
    encoded_photos,
    facts,
    hazard_ids,
    measure_text,
    page_labels,
    road_title,
    site_table,
)
from hazards.map_html import hazard_table as hazard_table
from hazards.map_style import (
    LABELS,
    LANGS,
    MARKER_RADIUS,
    NO_OPEN_COLOUR,
    OTHER_ROADS_STYLE,
    ROAD_WEIGHT,
    STATUS_STYLES,
    TIER_COLOURS,
)
from hazards.vocabulary import STATUSES, TIERS

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
    *,
    engine: Engine,
    **kw: Any,
) -> store.HazardFilter:
    """The hazard filter of a map; a clear error for a tier, status or township that is not one."""
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
    towns = None if townships is None else tuple(t.strip() for t in townships)
    if towns:
        from hazards.network import check_townships

        check_townships(engine, towns)
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
        _allow_pinch_zoom(figure, self._parent.get_name())
        figure.script.add_child(
            _Raw(f"{self.function}({self._parent.get_name()}, {self.config}, {_json(name)});"),
            name=name,
        )


def _allow_pinch_zoom(figure: Figure, map_name: str) -> None:
    """Drop ``maximum-scale=1.0, user-scalable=no`` from folium's viewport tag (rendered into
    the header just before the map's children), so that phones can pinch-zoom the page."""
    header = figure.header._children.get(map_name)
    markup = getattr(header, "_template_str", None)
    if markup and "user-scalable=no" in markup:
        markup = re.sub(r",\s*maximum-scale=1\.0,\s*user-scalable=no", "", markup)
        figure.header._children[map_name] = _Raw(markup)


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
    other_roads: bool = False,
) -> str:
    """The (small) JSON configuration given to ``HazardsMap.draw``; ``other_roads``: the page
    also draws the roads outside the batch (their legend entry)."""
    from hazards.map_style import road_look  # road modes, "not surveyed", search highlight

    groups = hazards["groups"]
    tiers = [t for t in (*TIERS, "") if any(g["tier"] == t for g in groups)]
    statuses = [s for s in STATUSES if any(g["status"] == s for g in groups)]
    cfg = {
        "lang": lang,
        "labels": page_labels(lang),
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
        "otherRoads": other_roads,
        **road_look(),
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


def page_warnings(page: folium.Map | Figure) -> list[str]:
    """What went wrong while building ``page`` without stopping it (photos not found or
    unreadable), one line each; empty when nothing did."""
    root = page.get_root() if isinstance(page, folium.Map) else page
    return list(getattr(root, "hazards_warnings", []))


def _warn(m: folium.Map, lines: Sequence[str]) -> None:
    root = _figure(m)
    if not hasattr(root, "hazards_warnings"):
        root.hazards_warnings = []  # type: ignore[attr-defined]  # set on the page's Figure
    seen = set(root.hazards_warnings)  # type: ignore[attr-defined]
    root.hazards_warnings.extend(w for w in lines if w not in seen)  # type: ignore[attr-defined]


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
    out_dir: str | Path | None = None,
    sites: dict[str, tuple[int, dict[str, Any]]] | None = None,
    fit: bool | None = None,
    other_roads: bool = False,
) -> folium.Map:
    """Query the hazards for ``flt`` and draw them (and ``roads``) onto ``m`` or a new map;
    ``sites``: a batch's hazards by id, with their site number and feature properties;
    ``other_roads``: the roads outside the batch are drawn too (a legend entry for them)."""
    _check(lang, tiles)
    frame = store.hazard_columns(engine, flt)
    photos, warnings = encoded_photos(frame, out_dir)
    extra: dict[str, Any] = {}
    if sites is not None:
        ids = hazard_ids(frame)
        extra["sites"] = [sites[i][0] if i in sites else None for i in ids]
        extra["measures"] = [measure_text(sites[i][1], lang) if i in sites else None for i in ids]
    hazards = encode_hazards(frame, lang=lang, photos=photos, **extra)
    subtitle = _subtitle(hazards["count"], store.unplaced_count(engine, flt), lang)
    hide = ("rejected",) if flt.statuses is None else ()
    fit = m is None if fit is None else fit
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
        other_roads=other_roads,
    )
    blocks = {"points": hazards["points"], "attrs": hazards["attrs"]}
    if hazards.get("extents"):  # linear hazards' runs, drawn as lines (hazards_map.js)
        blocks["extents"] = hazards["extents"]
    if roads and roads["count"]:
        blocks["roads"] = roads["geojson"]
    m.add_child(_Overlay(config, blocks))
    _warn(m, warnings)
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
    out_dir: str | Path | None = None,
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
    out_dir
        The folder the page will be written to: the hazards' photos are copied into
        ``photos/`` there and shown in the popups (none shown without it).
    """
    engine = _engine(engine)
    flt = _filter(tiers, statuses, townships, engine=engine)
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
        out_dir=out_dir,
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
    out_dir: str | Path | None = None,
) -> folium.Map:
    """One road and its hazards; :class:`~hazards.errors.NotFound` for an unknown route code.

    Parameters
    ----------
    code
        Route code, e.g. ``X001``.
    engine, tiers, statuses, townships, lang, tiles, m, out_dir
        As for :func:`overview_map` (a road outside ``townships`` shows no hazard).
    height
        CSS height of a new map.
    """
    engine = _engine(engine)
    road = store.get_road(engine, code)
    flt = _filter(tiers, statuses, townships, engine=engine, route=road["route_code"])
    roads = store.road_layer(engine, route=road["route_code"])
    title = road_title(road, lang)
    return _draw(
        engine,
        flt,
        roads,
        m=m,
        lang=lang,
        tiles=tiles,
        title=title,
        search=True,
        height=height,
        out_dir=out_dir,
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
    out_dir: str | Path | None = None,
) -> folium.Map:
    """The sites of one remediation batch, numbered in work-list order (route, chainage).

    Each site has its number beside it on the map and its countermeasure and quantity in its
    popup; a site table (序号, 桩号 or 起止桩号, category, countermeasure, quantity, cost) is
    placed under the map. Roads are coloured by the batch's sites only; the county's other
    roads are drawn beneath in their own colour, with a legend entry. :class:`~hazards.errors.NotFound` for an unknown batch
    name. Options as for :func:`overview_map`.
    """
    engine = _engine(engine)
    batch = store.find_batch(engine, name)
    flt = _filter(tiers, statuses, townships, engine=engine, batch_id=batch["id"])
    roads = store.road_layer(engine, batch_id=batch["id"], townships=flt.townships)
    title = f"{LABELS[lang]['batch'] if lang in LANGS else ''} {batch['name']}"
    if batch.get("contractor"):
        title += f" · {batch['contractor']}"
    _check(lang, tiles)
    features = json.loads(store.batch_feature_collection(engine, batch["name"]))["features"]
    props = [f["properties"] for f in features]
    sites = {str(p["id"]): (n, p) for n, p in enumerate(props, start=1)}
    fit = m is None
    if m is None:
        m = base_map(tiles=tiles, height="70vh", title=title)
    other = _other_roads(m, engine, roads, flt.townships, lang)
    _draw(
        engine,
        flt,
        roads,
        m=m,
        lang=lang,
        tiles=tiles,
        title=title,
        search=True,
        height="70vh",
        out_dir=out_dir,
        sites=sites,
        fit=fit,
        other_roads=other,
    )
    shown = {h for h in hazard_ids(store.hazard_columns(engine, flt))}
    for n, p in sites.values():
        if p["id"] in shown and p.get("lon") is not None:
            folium.CircleMarker(  # invisible: the number is a permanent tooltip beside it
                [float(p["lat"]), float(p["lon"])],
                radius=0,
                stroke=False,
                fill=False,
                interactive=False,
                tooltip=folium.Tooltip(
                    str(int(n)),
                    permanent=True,
                    direction="right",
                    offset=[6, 0],
                    className="hz-site-label",
                ),
            ).add_to(m)
    m.add_child(_HtmlAfter(site_table(props, lang=lang)))
    return m


def _other_roads(
    m: folium.Map,
    engine: Engine,
    roads: dict[str, Any],
    townships: tuple[str, ...] | None,
    lang: str,
) -> bool:
    """The roads without a site of the batch, drawn thin under everything else in
    :data:`~hazards.map_style.OTHER_ROADS_STYLE`; whether there were any."""
    batch_routes = {f["properties"]["route"] for f in json.loads(roads["geojson"])["features"]}
    every = json.loads(store.road_layer(engine, townships=townships)["geojson"])["features"]
    rest = [
        {"type": "Feature", "geometry": f["geometry"], "properties": {}}
        for f in every
        if f["properties"]["route"] not in batch_routes
    ]
    if not rest:
        return False
    folium.GeoJson(
        {"type": "FeatureCollection", "features": rest},
        name=page_labels(lang)["otherRoads"],
        style_function=lambda _f: dict(OTHER_ROADS_STYLE),
        control=False,
        interactive=False,
    ).add_to(m)
    return True


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
    out_dir: str | Path | None = None,
) -> Figure:
    """The road's page (一路一档): facts, a chainage strip diagram, the map and a hazard table.

    The filters (as for :func:`overview_map`) apply to the map, the diagram and the table.
    ``strip_marks`` and ``decorate`` add to the diagram and the map (crashes, see
    :mod:`hazards.crash_maps`): as for :func:`chainage_strip`, and called with the map.
    ``out_dir``: the folder the page will be written to; the hazards' photos are copied there
    and shown in the popups and the table (see :func:`page_warnings`).
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
        out_dir=out_dir,
    )
    if decorate is not None:
        decorate(m)
    rows = _filtered_rows(
        store.road_hazard_rows(engine, road["id"]),
        road,
        _filter(tiers, statuses, townships, engine=engine),
    )
    photos = None
    if out_dir is not None and "photo" in rows and rows["photo"].notna().any():
        from hazards.photos import publish_photos

        photos, warnings = publish_photos(rows["photo"], out_dir=out_dir, labels=rows["id"])
        _warn(m, warnings)
    parts = store.road_parts(engine, road["id"])
    labels = page_labels(lang)
    fig = _figure(m)
    head = (
        f'<div class="hz-dossier"><h1>{html.escape(road_title(road, lang))}</h1>'
        f"{facts(road, lang)}<h2>{labels['strip']}</h2>"
        f"{chainage_strip(rows, parts, float(road['end_m']), lang=lang, marks=strip_marks)}</div>"
    )
    fig.html.add_child(_Raw(head), name="hazards_dossier_head")
    m.add_child(
        _HtmlAfter(
            f'<div class="hz-dossier"><h2>{labels["table"]}</h2>'
            f"{hazard_table(rows, lang=lang, photos=photos, filtered=bool(tiers or statuses or townships))}</div>"
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
