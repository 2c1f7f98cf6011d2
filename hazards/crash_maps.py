"""Crashes on the maps (issue 17): a crash layer (symbol by severity, fatal on top), the black
spots (事故多发点段) drawn along the roads, crash ticks on the dossier's chainage strip, and the
network screening map (``hazards map screen``).

The crash layer and the black spots are added to a map made by :mod:`hazards.mapping` (they
join its layer control); :func:`screen_map` makes its own page. The data travel as JSON script
blocks read by ``hazards/static/crash_map.js`` (text only, never HTML), so pages stay offline.

Black spots on the overview and road maps: the sliding windows of the screening
(:func:`hazards.screening.screen`, ``unit="window"``, ``measure="count"``) with at least
``min_crashes`` crashes, taken worst first and skipping any that overlaps one already taken on
the same route part, at most ``top`` of them (:func:`black_spots`).
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import folium
import pandas as pd
from branca.element import Figure

from hazards.chainage import format_chainage
from hazards.db.store import crash_maps as crash_store
from hazards.map_columns import compact_json
from hazards.map_style import (
    BLACK_SPOT_STYLE,
    CRASH_LABELS,
    SCREEN_RAMP,
    SEVERITY_STYLES,
)
from hazards.mapping import (
    _bounds,
    _check,
    _engine,
    _ensure_assets,
    _Overlay,
    _safe_json,
    base_map,
    road_dossier,
)
from hazards.screening import STEP_M, WINDOW_M, distinct_sites, screen, sites_frame
from hazards.vocabulary import SEVERITIES

if TYPE_CHECKING:
    from sqlalchemy import Engine

BLACK_SPOT_TOP = 10
BLACK_SPOT_MIN_CRASHES = 3
_STRIP_TICK = {"K": 18, "A": 14, "B": 10, "C": 8, "O": 6, "": 6}


# ----------------------------------------------------------------------------- encoding
def _text(values: pd.Series) -> list[Any]:
    return [None if v is None or v != v or v == "" else str(v) for v in values]


def _count(values: pd.Series) -> list[Any]:
    return [None if v is None or v != v else int(v) for v in values]


def encode_crashes(frame: pd.DataFrame) -> tuple[str, list[str]]:
    """:func:`hazards.db.store.crash_maps.crash_points` rows as the columns ``crash_map.js``
    reads (JSON text), and the table of sources its ``src`` column indexes."""
    sources = sorted(set(frame["source"].astype(str))) if len(frame) else []
    x = frame["lon"].mul(1e6).round().astype("int64") if len(frame) else pd.Series([], "int64")
    y = frame["lat"].mul(1e6).round().astype("int64") if len(frame) else pd.Series([], "int64")
    times = [None if t is None or t != t else t.strftime("%H:%M") for t in frame["occurred_time"]]
    at = {s: k for k, s in enumerate(sources)}
    cols = {
        "x": x.diff().fillna(x).astype("int64").tolist(),
        "y": y.diff().fillna(y).astype("int64").tolist(),
        "s": [s if isinstance(s, str) else "" for s in frame["severity"]],
        "d": [d.isoformat() for d in frame["occurred_on"]],
        "t": times,
        "ty": _text(frame["crash_type"]),
        "f": _count(frame["fatalities"]),
        "i": _count(frame["injuries"]),
        "se": _count(frame["serious_injuries"]),
        "w": _text(frame["weather"]),
        "l": _text(frame["light"]),
        "r": _text(frame["route_code"]),
        "ch": _count(pd.to_numeric(frame["chainage_m"], errors="coerce").round()),
        "j": _text(frame["junction"]),
        "a": [int(bool(a)) for a in frame["attached"]],
        "src": [at[str(s)] for s in frame["source"]],
        "id": [str(i) for i in frame["crash_id"]],
    }
    return compact_json(cols), sources


def _config(
    lang: str, count: int, sources: list[str], frame: pd.DataFrame, **extra: Any
) -> dict[str, Any]:
    present = {s if isinstance(s, str) else "" for s in frame["severity"]} if len(frame) else set()
    return {
        "lang": lang,
        "labels": CRASH_LABELS[lang],
        "styles": SEVERITY_STYLES,
        "spotStyle": BLACK_SPOT_STYLE,
        "ramp": list(SCREEN_RAMP),
        "count": count,
        "sources": sources,
        "severities": [s for s in (*SEVERITIES, "") if s in present] or list(SEVERITIES),
        "crashesOn": True,
        "spotsOn": True,
        **extra,
    }


# ----------------------------------------------------------------------------- black spots
def black_spots(
    *,
    engine: Engine | None = None,
    route: str | None = None,
    townships: tuple[str, ...] | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    top: int = BLACK_SPOT_TOP,
    min_crashes: int = BLACK_SPOT_MIN_CRASHES,
    window_m: float = WINDOW_M,
    step_m: float = STEP_M,
) -> dict[str, Any]:
    """The black spots (事故多发点段) as a :func:`hazards.screening.screen` result of windows:
    those with ``min_crashes`` or more, worst first, none overlapping another on the same route
    part, at most ``top`` (only on ``route`` when given, only those on a road's stretch in
    ``townships`` when given); ``rank`` is their order here."""
    result = screen(
        unit="window",
        measure="count",
        date_from=date_from,
        date_to=date_to,
        window_m=window_m,
        step_m=step_m,
        engine=_engine(engine),
    )
    candidates = [
        s
        for s in result["sites"]
        if s["crashes"] >= min_crashes and (route is None or s["route"] == route)
    ]
    if townships:
        from hazards.db import store

        spans = store.township_spans(_engine(engine), townships)
        candidates = [
            s
            for s in candidates
            if any(
                lo < s["to_m"] and s["from_m"] < hi
                for lo, hi in spans.get((s["route"], s["part"]), ())
            )
        ]
    chosen = distinct_sites(candidates)[:top]
    return dict(result, sites=chosen, min_crashes=min_crashes, top=top)


def _geojson(result: dict[str, Any], engine: Engine) -> str | None:
    if not result["sites"]:
        return None
    frame = sites_frame(result, engine=engine)
    frame = frame.drop(columns=[c for c in ("k", "predicted") if c in frame.columns])
    return str(frame.to_json(na="drop", drop_id=True))


# ----------------------------------------------------------------------------- layers
def add_crash_layers(
    m: folium.Map,
    *,
    engine: Engine | None = None,
    route: str | None = None,
    townships: tuple[str, ...] | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    spots: bool = True,
    lang: str = "en",
) -> folium.Map:
    """Add the crash layer and (``spots``) the black spots to ``m``, a map of
    :mod:`hazards.mapping`: all crashes with a position, or those attached to ``route`` or to
    a road of ``townships``, with dates in [``date_from``, ``date_to``]. Both are switched on and
    listed in the map's layer control, with a legend; nothing is added when there is no crash,
    or when the login may not read crash records (a contractor's map is drawn without them).
    """
    _check(lang, "none")
    engine = _engine(engine)
    if not crash_store.may_read(engine):
        return m
    frame = crash_store.crash_points(
        engine,
        route=route,
        townships=townships,
        date_from=date_from,
        date_to=date_to,
    )
    if not len(frame):
        return m
    data, sources = encode_crashes(frame)
    blocks = {"crashes": data}
    rule = None
    if spots:
        found = black_spots(
            engine=engine, route=route, townships=townships, date_from=date_from, date_to=date_to
        )
        if (geojson := _geojson(found, engine)) is not None:
            blocks["spots"] = geojson
            rule = CRASH_LABELS[lang]["blackSpotRule"].format(
                n=found["top"], m=f"{WINDOW_M:.0f}", k=found["min_crashes"]
            )
    cfg = _config(lang, len(frame), sources, frame, spots="spots" in blocks, spotRule=rule)
    _ensure_assets(m)
    m.add_child(_Overlay(_safe_json(cfg), blocks, function="HazardsCrashes.draw"))
    return m


def strip_marks(frame: pd.DataFrame, *, lang: str = "en") -> Callable[[Any], str]:
    """The crash ticks of a dossier's chainage strip (for :func:`hazards.mapping.chainage_strip`
    ``marks``): one tick per crash at its chainage, longer and darker the more severe; ``frame``
    is :func:`hazards.db.store.crash_maps.route_crashes`."""
    labels = CRASH_LABELS[lang]

    def marks(x: Callable[[float], float]) -> str:
        if not len(frame):
            return ""
        out = [f'<text x="2" y="18" font-size="10">{html.escape(labels["strip"])}</text>']
        for r in frame.itertuples(index=False):
            sev = r.severity if isinstance(r.severity, str) else ""
            style = SEVERITY_STYLES[sev]
            parts = [
                str(r.occurred_on),
                labels["severities"][sev],
                r.crash_type if isinstance(r.crash_type, str) else "",
                format_chainage(float(r.chainage_m)),
                str(r.crash_id),
            ]
            tip = " ".join(p for p in parts if p)
            top, px = 22 - _STRIP_TICK[sev], x(float(r.chainage_m))
            out.append(
                f'<line class="hz-strip-crash" x1="{px}" y1="{top}" x2="{px}" y2="22" '
                f'stroke="{style["fillColor"]}" stroke-width="{2 if sev == "K" else 1.5}">'
                f"<title>{html.escape(tip)}</title></line>"
            )
        return "".join(out)

    return marks


def crash_dossier(
    code: str,
    *,
    engine: Engine | None = None,
    lang: str = "en",
    tiles: str = "none",
    **filters: Any,
) -> Figure:
    """The road's dossier (:func:`hazards.mapping.road_dossier`, same ``filters``) with its
    crashes: ticks on the chainage strip, the crash layer and the black spots on its map."""
    from hazards.db import store

    engine = _engine(engine)
    if not crash_store.may_read(engine):  # a contractor's login: the dossier without crashes
        return road_dossier(code, engine=engine, lang=lang, tiles=tiles, **filters)
    route = store.get_road(engine, code)["route_code"]
    crashes = crash_store.route_crashes(engine, route)
    return road_dossier(
        code,
        engine=engine,
        lang=lang,
        tiles=tiles,
        strip_marks=strip_marks(crashes, lang=lang),
        decorate=lambda m: add_crash_layers(m, engine=engine, route=route, lang=lang),
        **filters,
    )


# ----------------------------------------------------------------------------- screening map
def screen_map(
    *,
    unit: str = "window",
    measure: str = "count",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    top: int | None = 20,
    window_m: float = WINDOW_M,
    step_m: float = STEP_M,
    distinct: bool = False,
    lang: str = "en",
    tiles: str = "none",
    engine: Engine | None = None,
) -> folium.Map:
    """The network screening as a map: the ``top`` sites of :func:`hazards.screening.screen`
    (same options) along the roads (a junction as a circle), coloured from the lowest to the
    highest value shown, each with a popup (rank, chainage range, crashes, KSI, EPDO, value);
    the crashes of the period as a layer; a legend with the unit, measure and period.
    ``distinct``: no two sites overlap (the rule of :func:`black_spots`)."""
    _check(lang, tiles)
    from hazards.db import store

    engine = _engine(engine)
    result = screen(
        unit=unit,
        measure=measure,
        date_from=date_from,
        date_to=date_to,
        top=top,
        window_m=window_m,
        step_m=step_m,
        distinct=distinct,
        engine=engine,
    )
    labels = CRASH_LABELS[lang]
    roads = store.road_layer(engine)
    frame = crash_store.crash_points(engine, date_from=date_from, date_to=date_to)
    data, sources = encode_crashes(frame)
    blocks = {"crashes": data}
    if roads["count"]:
        blocks["roads"] = roads["geojson"]
    if (geojson := _geojson(result, engine)) is not None:
        blocks["sites"] = geojson
    values = [float(s["value"]) for s in result["sites"]] or [0.0]
    period = (
        f"{date_from or '…'} – {date_to or '…'}" if date_from or date_to else labels["allDates"]
    )
    title = f"{labels['screen']} · {labels['units'][unit]}"
    subtitle = (
        f"{labels['measures'][measure]}; {labels['period']}: {period}; "
        f"{labels['sites'].format(n=len(result['sites']))}"
    )
    cfg = _config(
        lang,
        len(frame),
        sources,
        frame,
        screen=True,
        title=title,
        subtitle=subtitle,
        measure=labels["measures"][measure],
        valueRange=[min(values), max(values)],
        spots=False,
        collapsed=False,
    )
    m = base_map(tiles=tiles, title=title)
    m.add_child(_Overlay(_safe_json(cfg), blocks, function="HazardsCrashes.draw"))
    hazards_box = {"bbox": None}
    if bounds := _bounds(hazards_box, roads):
        m.fit_bounds(bounds, max_zoom=17, padding=(20, 20))
    return m
