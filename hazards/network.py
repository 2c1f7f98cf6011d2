"""The stored road network: route details and summaries, route aliases and renumbering, and
changing the working CRS (every length and chainage measured again).

Below :mod:`hazards.roads` (which loads road files): these verbs read and change what is stored.
A route code given to any of them may be an alias (:func:`add_aliases`).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from hazards.errors import InputError, InputFileNotFound
from hazards.vocabulary import normalise_code

if TYPE_CHECKING:
    from sqlalchemy import Engine


def _engine(engine: Engine | None) -> Engine:
    from hazards.db.session import get_engine

    return engine or get_engine()


def _finite(v: float, digits: int = 1) -> float | None:
    """``round(v)``, or None for NaN/infinity (JSON has no such numbers)."""
    v = float(v)
    return round(v, digits) if math.isfinite(v) else None


# ----------------------------------------------------------------------------- reading back
def road_info(code: str, *, engine: Engine | None = None) -> dict[str, Any]:
    """A stored route: class (and the file's own class value), townships, length, chainage
    range, its sections (pieces farther apart than ``max_gap_m``, each with its own chainage),
    its parts (main line and branches of each section) with their bridged gaps, and aliases."""
    from hazards.chainage import format_chainage
    from hazards.db import store

    engine = _engine(engine)
    road = store.get_road(engine, code)
    segs = store.route_segments(engine, road["id"])

    def span(lo: float, hi: float) -> dict[str, Any]:
        ok = math.isfinite(lo) and math.isfinite(hi)
        return {
            "from_m": _finite(lo),
            "to_m": _finite(hi),
            "from": format_chainage(lo) if ok else None,
            "to": format_chainage(hi) if ok else None,
        }

    parts = []
    sections: dict[int, dict[str, Any]] = {}
    for part, g in segs.groupby("part", sort=True):
        g = g.sort_values("from_m")
        section = int(g["section"].iloc[0])
        gaps = []
        prev_to = None
        for s in g.itertuples():
            if prev_to is not None and s.from_m > prev_to + 0.01:
                gaps.append({**span(prev_to, s.from_m), "length_m": _finite(s.from_m - prev_to)})
            prev_to = s.to_m if prev_to is None else max(prev_to, s.to_m)
        main = section not in sections
        head = {"part": int(part), "section": section, "kind": "main" if main else "branch"}
        extent = span(float(g["from_m"].min()), float(g["to_m"].max()))
        length_m = _finite(g["length_m"].sum())
        parts.append({**head, **extent, "segments": len(g), "length_m": length_m, "gaps": gaps})
        sec = sections.setdefault(section, {"section": section, "main_part": int(part)})
        sec.update(segments=sec.get("segments", 0) + len(g))
        sec["length_m"] = _finite(sec.get("length_m", 0.0) + float(g["length_m"].sum()))
        if main:
            sec.update(extent)
    aliases = [a["alias"] for a in store.list_aliases(engine) if a["route"] == road["route_code"]]
    return {
        "route": road["route_code"],
        "name": road["name"],
        "class": road["road_class"],
        "class_source_value": road.get("class_raw"),
        "township": road["township"],
        "townships": store.route_townships(engine, road["id"]),
        "unassigned": road["unassigned"],
        "length_m": _finite(road["length_m"]),
        "length_km": _finite(road["length_m"] / 1000, 3),
        "chainage_from": "K0+000",
        "chainage_to": format_chainage(road["end_m"]) if math.isfinite(road["end_m"]) else None,
        "end_m": _finite(road["end_m"]),
        "segments": len(segs),
        "has_gap": road["has_gap"],
        "gap_m": _finite(road["gap_m"]),
        "has_branch": road["has_branch"],
        "sections": [sections[k] for k in sorted(sections)],
        "parts": parts,
        "aliases": aliases,
        "source": road["source"],
    }


def list_roads(
    *,
    road_class: str | None = None,
    township: str | None = None,
    engine: Engine | None = None,
) -> list[dict[str, Any]]:
    """The stored routes (coded ones by class, 国道 first, and route code; then the roads
    without a code), with the keys of :func:`road_info` for a route's head (``section_count``
    for its number of sections), its segments and its hazards (``hazards``: those not
    rejected; ``open_hazards``: not yet remediated either); the keys of ``roads list --json``.
    ``road_class`` (国道, 县道, county, X, ...: :func:`hazards.vocabulary.read_road_class`)
    keeps one class's routes; ``township`` the routes with a segment in it. An unknown class
    or township is refused (:class:`~hazards.errors.InputError`), not answered with none."""
    from hazards.chainage import format_chainage
    from hazards.db import store
    from hazards.vocabulary import read_road_class

    engine = _engine(engine)
    cls = None if road_class is None else read_road_class(road_class, param="road_class")
    town = None if township is None else township.strip()
    if town is not None:
        check_townships(engine, [town], param="township")
    out = []
    for r in store.list_routes(engine, road_class=cls, township=town):
        end_m = float(r["end_m"])
        out.append(
            {
                "route": r["route_code"],
                "name": r["name"],
                "class": r["road_class"],
                "class_source_value": r["class_raw"],
                "township": r["township"],
                "unassigned": r["unassigned"],
                "length_km": _finite(r["length_m"] / 1000, 3),
                "chainage_to": format_chainage(end_m) if math.isfinite(end_m) else None,
                "end_m": _finite(end_m),
                "section_count": int(r["sections"]),
                "segments": int(r["segments"]),
                "has_gap": r["has_gap"],
                "has_branch": r["has_branch"],
                "hazards": int(r["hazards"]),
                "open_hazards": int(r["open_hazards"]),
                "source": r["source"],
            }
        )
    return out


def road_summary(*, by: str = "class", engine: Engine | None = None) -> dict[str, Any]:
    """Routes, segments and km per class (or per township, from each segment's township) and
    in total, unassigned roads included (and given apart); the total's ``unique_length_km``
    counts carriageway shared by several routes once."""
    from hazards.db import store

    if by not in ("class", "township"):
        raise InputError(f"Summary by {by!r}: use class or township.", param="by")
    return store.road_summary(_engine(engine), by=by)


def check_townships(engine: Engine, towns: Sequence[str], *, param: str = "townships") -> None:
    """Refuse a township that no road segment of the county has (a map or list of it would
    be silently empty), naming the townships there are; ``param``: the option that gave
    them."""
    import difflib

    from hazards.db import store

    known = store.townships(engine)
    unknown = [t for t in towns if t not in known]
    if not unknown:
        return
    if not known:
        store.require_working_crs(engine)  # no roads loaded, or none of the county's: says so
        raise InputError(
            f"Unknown township {', '.join(map(repr, unknown))}: the road network has no "
            "townships (its road file had no 乡镇 column). Load the roads again with a township "
            "column, or give no township.",
            param=param,
        )
    hints = {h for t in unknown for h in difflib.get_close_matches(t, known, n=2, cutoff=0.5)}
    listed = ", ".join(known[:30]) + (f" … ({len(known)} in all)" if len(known) > 30 else "")
    raise InputError(
        f"Unknown township {', '.join(map(repr, unknown))}"
        + (f" (did you mean {', '.join(sorted(hints))}?)" if hints else "")
        + f": the road network's townships are {listed}.",
        param=param,
    )


# ----------------------------------------------------------------------------- aliases
def add_aliases(
    pairs: list[tuple[str, str]], *, note: str | None = None, engine: Engine | None = None
) -> list[dict[str, str]]:
    """Make each alias name its route wherever a route code is read (survey import, chainage,
    maps, lists); ``[{"alias", "route"}]``. The route may itself be given by an alias. A pair
    whose alias is already read as its route (``X002线`` for ``X002``: codes are read without
    their word 线) needs no alias and is left out."""
    from hazards.db import store

    engine = _engine(engine)
    resolved = [(a, store.resolve_code(engine, c)) for a, c in pairs]
    needed = [(a, c) for a, c in resolved if normalise_code(a) != c]
    return store.add_aliases(engine, needed, note=note) if needed else []


def _alias_header(cells: list[str]) -> bool:
    """Whether an alias file's first row names its columns: ``alias,code``, ``别名,路线编码``,
    ``旧编码,新编码`` (its second cell a word for a route code, not a code)."""
    second = cells[1].lower() if len(cells) > 1 else ""
    return second in ("code", "route", "route code", "route_code", "new code") or any(
        w in second for w in ("编码", "编号", "路线")
    )


def read_alias_file(path: str | Path) -> list[tuple[str, str]]:
    """``alias,code`` rows of a CSV (UTF-8, or GBK; a header row such as ``alias,code``,
    ``别名,路线编码`` or ``旧编码,新编码`` is skipped);
    a one-line error naming the row for a row that is not two values."""
    p = Path(path)
    if not p.is_file():
        raise InputFileNotFound(f"{p}: no such file. Check the path.")
    data = p.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("gb18030")
    pairs: list[tuple[str, str]] = []
    for n, row in enumerate(csv.reader(text.splitlines()), start=1):
        cells = [c.strip() for c in row]
        if not any(cells):
            continue
        if n == 1 and _alias_header(cells):
            continue
        if len(cells) != 2 or not all(cells):
            raise InputError(
                f"{p} row {n}: {','.join(row)!r} is not 'alias,code'. Write one alias and the "
                "route code it stands for per row, e.g. US-26,US HWY 26."
            )
        pairs.append((cells[0], cells[1]))
    if not pairs:
        raise InputError(f"{p} holds no alias,code rows.")
    return pairs


def list_aliases(*, engine: Engine | None = None) -> list[dict[str, Any]]:
    """Every alias with its route (``alias``, ``route``, ``note``, ``added``)."""
    from hazards.db import store

    return store.list_aliases(_engine(engine))


def drop_routes(codes: list[str], *, engine: Engine | None = None) -> dict[str, Any]:
    """Take the routes ``codes`` (as typed: ``x001`` is X001) out of the network; refused, with
    nothing dropped, while hazards are attached to one of them
    (:func:`hazards.db.store.drop_routes`)."""
    from hazards.db import store

    wanted = list(dict.fromkeys(normalise_code(c) for c in codes))
    return store.drop_routes(_engine(engine), wanted)  # the county's (HAZARDS_ADMIN_CODE)


def adopt_roads(code: str, *, engine: Engine | None = None) -> dict[str, Any]:
    """Give the roads stored without a county code the county code ``code`` (routes, segments,
    aliases, and the crashes, plans and batches stored without one: how many of each), so that
    the commands of that county (``HAZARDS_ADMIN_CODE``) see them; refused when the county has
    routes of the same codes or plans of the same names (:func:`hazards.db.store.adopt_roads`)."""
    from hazards.db import store

    return store.adopt_roads(_engine(engine), code)


def rename_route(
    old: str, new: str, *, by: str | None = None, engine: Engine | None = None
) -> dict[str, Any]:
    """Renumber a route (调后编号): its code becomes ``new``, ``old`` stays as an alias, and
    every hazard on it gets a ``route_renamed`` event in its history. ``{"route", "old",
    "hazards"}``."""
    from hazards.db import store

    return store.rename_route(_engine(engine), old, new, by=by)


# ----------------------------------------------------------------------------- working CRS
def working_crs_info(*, engine: Engine | None = None) -> dict[str, Any]:
    """The working CRS, the CRS the first roads came in, the setting, and what ``auto`` would
    choose."""
    from hazards.crs import crs_label
    from hazards.db import store
    from hazards.settings import get_settings

    engine = _engine(engine)
    crs = store.working_crs(engine)
    auto = _auto_crs(engine)
    return {
        "working_crs": crs_label(crs) if crs else None,
        "name": crs.name if crs else None,
        "source_crs": store.get_metadata(engine, store.SOURCE_CRS_KEY),
        "setting": get_settings().working_crs,
        "auto": crs_label(auto) if auto else None,
    }


def _auto_crs(engine: Engine) -> Any:
    """The zone of the stored network's centre (Gauss-Krüger for CGCS2000 data, else UTM)."""
    from pyproj import CRS
    from sqlalchemy import text

    from hazards.crs import auto_working_crs, is_cgcs2000
    from hazards.db import store

    with engine.connect() as conn:
        box = conn.execute(
            text(
                "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
                "(SELECT ST_Extent(geom) AS e FROM road_segments) x"
            )
        ).one()
    if box[0] is None:
        return None
    source = store.get_metadata(engine, store.SOURCE_CRS_KEY)
    cgcs = source is None or is_cgcs2000(CRS.from_user_input(source))
    return auto_working_crs(cgcs2000=cgcs, box=tuple(float(v) for v in box))  # type: ignore[arg-type]


def set_working_crs(crs: str, *, engine: Engine | None = None) -> dict[str, Any]:
    """Make ``crs`` (or ``"auto"``: the zone of the network's centre) the working CRS and
    measure every route again in it: segment lengths, chainages (routes are assembled again
    from their stored segments), route lengths, and each hazard's chainage on its segment. One
    transaction; nothing changes on any error. Refused for a CRS that is not projected or whose
    area of use the network lies outside."""
    import pandas as pd

    from hazards.assembly import build_routes
    from hazards.crs import check_working_area, crs_label, parse_crs
    from hazards.db import store
    from hazards.settings import get_settings

    engine = _engine(engine)
    before = store.working_crs(engine)
    if before is None:
        raise InputError(
            "No roads are loaded yet: the working CRS is chosen by the first load (or by the "
            "working_crs setting). Load the road network first: `hazards roads load FILE`."
        )
    target = _auto_crs(engine) if crs.strip().lower() == "auto" else parse_crs(crs)
    if not target.is_projected:
        raise InputError(
            f"{crs} is not a projected (metric) CRS: lengths cannot be measured in degrees. Use "
            "a Gauss-Krüger or UTM zone, e.g. EPSG:4546.",
            param="crs",
        )
    segs = store.remeasure_input(engine)
    if len(segs):
        check_working_area(target, tuple(segs.total_bounds), what="The road network")
    metric = segs.to_crs(target)
    xy = metric.get_coordinates().to_numpy()
    if not np.isfinite(xy).all():
        raise InputError(
            f"The road network does not transform to finite coordinates in {crs_label(target)}.",
            param="crs",
        )
    pieces = []  # each county's routes apart: two counties may each have a route of one code
    for code in metric["admin_code"].unique().tolist() or [""]:
        these = metric[metric["admin_code"] == code].drop(columns="admin_code")
        county_roads, county_segments = build_routes(these, max_gap=get_settings().max_gap_m)
        pieces.append((county_roads.assign(admin_code=code), county_segments))
    roads = pd.concat([r for r, _ in pieces], ignore_index=True)
    new = pd.concat([s for _, s in pieces], ignore_index=True)
    if new["row"].duplicated().any():  # a stored segment was cut again: refuse, change nothing
        raise InputError(
            "The stored segments do not assemble into the same pieces in "
            f"{crs_label(target)}; the working CRS was not changed. Load the road file again "
            "instead (after `hazards db working-crs` has nothing to re-measure)."
        )
    first = np.asarray([g.coords[0] for g in metric.geometry.array], dtype=float)
    start = dict(zip(metric["row"].tolist(), map(tuple, first), strict=True))
    new["flip"] = [
        tuple(g.coords[0]) != start[r] for r, g in zip(new["row"], new.geometry, strict=True)
    ]
    done = store.apply_remeasure(engine, target, roads, new)
    lengths_before = float(segs.to_crs(before)["geometry"].length.sum()) if len(segs) else 0.0
    return {
        "working_crs": crs_label(target),
        "previous": crs_label(before),
        **done,
        "length_km_before": round(lengths_before / 1000, 3),
        "length_km": round(float(roads["length_m"].sum()) / 1000, 3) if len(roads) else 0.0,
    }
