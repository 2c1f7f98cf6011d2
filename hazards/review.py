"""The review queue (the ``review`` step): a hazard that matching sent to review is accepted
(optionally placed on another route) or rejected by an engineer; each decision goes through the
transition table (:func:`hazards.vocabulary.check_transition`)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from pyproj import CRS

from hazards.crs import transformer
from hazards.errors import InputError
from hazards.reconcile import Match, Network, place
from hazards.settings import get_settings
from hazards.vocabulary import check_transition

if TYPE_CHECKING:
    from sqlalchemy import Engine


def review_accept(
    public_id: str,
    *,
    route: str | None = None,
    by: str | None = None,
    max_distance_m: float | None = None,
    engine: Engine | None = None,
) -> dict[str, Any]:
    """Accept a hazard waiting in review (it becomes ``identified``); with ``route``, place it
    on the nearest point of that route instead of where the matching put it (a hazard on that
    route already stays where it is, its chainage range kept). A point farther
    from that route than ``max_distance_m`` (default: the ``match_review_m`` setting, as an
    import would send it no nearer than to review) is refused: a mistyped route code would
    put it kilometres away.

    The decision goes through the transition table (:func:`hazards.vocabulary.check_transition`);
    returns ``{"id", "status"}``.
    """
    from hazards.chainage import normalise_code
    from hazards.db import store
    from hazards.db.session import get_engine

    engine = engine or get_engine()
    placement = None
    limit = max_distance_m if max_distance_m is not None else get_settings().match_review_m
    if not (math.isfinite(limit) and limit >= 0):
        raise InputError(
            f"The distance {limit} is not a number of metres ≥ 0.", param="max_distance_m"
        )
    if not route:  # accepted where the matching put it: not kilometres from its own point
        h = store.get_hazard(engine, public_id)
        d = h["snap_distance_m"]
        if h["status"] == "review" and h["lon"] is not None and d is not None and d > limit:
            why = f" (why it is in review: {h['review_reason']})" if h["review_reason"] else ""
            raise InputError(
                f"Hazard {public_id} is placed {d:.0f} m from its point, more than {limit:.0f} "
                f"m{why}. Accept it on the route it lies on (--route CODE), reject it, or, "
                f"to keep it where it is all the same, allow the distance (--max-distance "
                f"{math.ceil(d)}).",
                param="route",
            )
    if route:
        code = normalise_code(route)
        road = store.get_road(engine, code)
        h = store.get_hazard(engine, public_id)
        if h["status"] != "review":
            return store.resolve_review(
                engine, public_id, accept=True, by=by, check=check_transition
            )  # says why not
        if h["road_id"] != road["id"]:  # on the route already: accepted there, range kept
            placement = _placement(public_id, h, road, code, limit, engine=engine)
    return store.resolve_review(
        engine,
        public_id,
        accept=True,
        placement=placement,
        by=by,
        reason=f"accepted on route {route}" if route else None,
        check=check_transition,
    )


def _placement(
    public_id: str,
    h: dict[str, Any],
    road: dict[str, Any],
    code: str,
    limit: float,
    *,
    engine: Engine,
) -> dict[str, Any]:
    """Where :func:`review_accept` puts hazard ``h`` on another route ``road``: its nearest
    point (a point: the range it had was on the other route), refused beyond ``limit`` m."""
    from hazards.db import store

    if h["lon"] is None:
        raise InputError(
            f"Hazard {public_id} has no coordinates to place on route {code}.", param="route"
        )
    crs = store.require_working_crs(engine)
    network = Network.from_segments(store.network_segments(engine, road_id=road["id"]), crs)
    x, y = transformer(CRS.from_epsg(4326), crs).transform(h["lon"], h["lat"])
    pt = shapely.Point(x, y)
    d = shapely.distance(network.geoms, pt)
    best = int(np.argmin(d))
    if float(d.min()) > limit:
        raise InputError(
            f"Hazard {public_id} is {float(d.min()):.0f} m from route {code}, more than "
            f"{limit:.0f} m: check the route code (its nearest road may be another). To "
            f"place it on {code} all the same, allow the distance (--max-distance "
            f"{math.ceil(float(d.min()))}).",
            param="route",
        )
    m = Match(line=0, status="accepted")
    place(
        m,
        network,
        best,
        float(network.from_m[best] + network.geoms[best].project(pt)),
        float(d.min()),
    )
    return {
        "road_id": m.road_id,
        "segment_id": m.segment_id,
        "chainage_m": m.chainage_m,
        "snap_distance_m": m.snap_distance_m,
        "match_method": "review",
    }


def review_reject(
    public_id: str, *, reason: str, by: str | None = None, engine: Engine | None = None
) -> dict[str, Any]:
    """Reject a hazard waiting in review (false positive, duplicate...), with the reason.

    The decision goes through the transition table (:func:`hazards.vocabulary.check_transition`);
    returns ``{"id", "status"}``.
    """
    from hazards.db import store
    from hazards.db.session import get_engine

    if not reason or not reason.strip():
        raise InputError("A reason is required: say why the hazard is rejected.", param="reason")
    return store.resolve_review(
        engine or get_engine(),
        public_id,
        accept=False,
        reason=reason.strip(),
        by=by,
        check=check_transition,
    )
