"""Hazards of a replaced route re-attached to its new geometry, in the road load's transaction.

:func:`hold_hazards` runs before the old routes are deleted (which would leave their hazards
without a road): it locks the hazards of the routes being replaced and keeps where they were.
:func:`reattach_hazards` runs once the new routes are in: each hazard is measured again on its
route's new segments (by its point, else by its chainage). Within the accept distance it stays
attached, at its new chainage; beyond it, it goes to review with its old and new positions
(an ``identified`` hazard becomes ``review``; one in work keeps its status, with
``match_status`` ``review`` and the reason). Either way it is attached to its route, and an
event (kind ``road_reload``) records the old and new positions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import text

from hazards.db.sql import CHAINAGE_TEXT, CODES, codes_param
from hazards.settings import county

if TYPE_CHECKING:
    from sqlalchemy import Connection


def hold_hazards(conn: Connection, codes: list[str], *, admin_code: str | None = None) -> int:
    """Lock the hazards on routes ``codes`` and keep their place (temp table ``_reattach``,
    dropped at commit); how many."""
    admin_code = county(admin_code)
    locked = conn.execute(
        text(
            "SELECT h.id FROM hazards h JOIN roads r ON r.id = h.road_id "
            f"WHERE r.admin_code = :a AND r.route_code = ANY({CODES}) "
            "ORDER BY h.id FOR UPDATE OF h"
        ),
        {"a": admin_code, "codes": codes_param(codes)},
    ).first()
    if locked is None:  # a first load of these routes: nothing to keep (the table is not made)
        return 0
    return conn.execute(
        text(
            "CREATE TEMP TABLE _reattach ON COMMIT DROP AS SELECT h.id, r.route_code AS code, "
            "h.chainage_m AS old_m, h.status AS old_status, h.geom, coalesce(s.part, 0) AS part "
            "FROM hazards h JOIN roads r ON r.id = h.road_id "
            "LEFT JOIN road_segments s ON s.id = h.segment_id "
            f"WHERE r.admin_code = :a AND r.route_code = ANY({CODES})"
        ),
        {"a": admin_code, "codes": codes_param(codes)},
    ).rowcount


# Where a hazard lands on a segment ``s`` of its new route: by its point when it has one (the
# distance from the line), else by its chainage (how far outside the segment's span it is).
_DISTANCE = (
    "CASE WHEN m.geom IS NOT NULL THEN ST_Distance(ST_Transform(s.geom, :srid), "
    "ST_Transform(m.geom, :srid)) WHEN m.old_m IS NULL THEN NULL "
    "ELSE greatest(s.from_m - m.old_m, m.old_m - s.to_m, 0) END"
)
_CHAINAGE = (
    "CASE WHEN m.geom IS NOT NULL THEN s.from_m + ST_LineLocatePoint(ST_Transform(s.geom, "
    ":srid), ST_Transform(m.geom, :srid)) * s.length_m ELSE m.old_m END"
)


_RELOADED = r"(^|; )route \S+ was reloaded from .*$"
"""The part of a review reason a reload gives (``reason`` below), to know it again: the whole
reason, or the end of one the hazard had before (a survey's, kept before it)."""


def reattach_hazards(
    conn: Connection, *, accept_m: float, source: str, admin_code: str | None = None
) -> dict[str, int]:
    """Measure the held hazards again on their routes' new segments, in the working CRS, and
    attach them (see the module); ``{"reattached": n, "review": m}``."""
    admin_code = county(admin_code)
    srid = _working_srid(conn)
    conn.execute(
        text(
            "CREATE TEMP TABLE _placed ON COMMIT DROP AS "
            "SELECT m.id, m.code, m.old_m, m.old_status, r.id AS road_id, n.seg, n.d, n.ch, "
            "(n.d IS NOT NULL AND n.d <= :accept) AS kept, "
            "coalesce(h.review_reason ~ :reloaded, false) AS back, "
            "nullif(regexp_replace(h.review_reason, :reloaded, ''), '') AS rest "
            "FROM _reattach m JOIN hazards h ON h.id = m.id "
            "JOIN roads r ON r.admin_code = :a AND r.route_code = m.code "
            f"LEFT JOIN LATERAL (SELECT s.id AS seg, {_DISTANCE} AS d, {_CHAINAGE} AS ch "
            "FROM road_segments s WHERE s.road_id = r.id "
            f"ORDER BY {_DISTANCE} NULLS LAST, s.part <> m.part, s.seq LIMIT 1) n ON TRUE"
        ),
        {"a": admin_code, "srid": srid, "accept": accept_m, "reloaded": _RELOADED},
    )
    old_text = CHAINAGE_TEXT.replace("h.chainage_m", "p.old_m")
    new_text = CHAINAGE_TEXT.replace("h.chainage_m", "p.ch")
    reason = (
        "'route ' || p.code || ' was reloaded from ' || :src || ': ' || CASE WHEN p.d IS NULL "
        "THEN 'the hazard has neither a point nor a chainage to measure it by' ELSE "
        "'the hazard is ' || round(p.d::numeric, 1) || ' m from the new line (more than the ' "
        "|| :accept || ' m accept distance)' END || '; it was at ' || "
        f"coalesce({old_text}, 'no chainage') || ', now nearest ' || coalesce({new_text}, '-')"
    )
    # A hazard an earlier reload sent to review (``back``) that is within reach again is
    # accepted as it was, its reason gone (it stayed in review, the reason naming the old line)
    # -- unless it was in review for a reason of its own before (``rest``, a survey's): that
    # reason is kept, and it stays in review for it. Sent to review again, a hazard keeps that
    # reason too, the reload's after it.
    status = (
        "CASE WHEN NOT p.kept AND p.old_status = 'identified' THEN 'review' "
        "WHEN p.kept AND p.back AND p.rest IS NULL AND p.old_status = 'review' "
        "THEN 'identified' ELSE p.old_status END"
    )
    conn.execute(
        text(
            "INSERT INTO hazard_events (hazard_id, kind, by, from_status, to_status, note, data) "
            f"SELECT p.id, 'road_reload', NULL, p.old_status, {status}, CASE WHEN p.kept THEN "
            f"'route ' || p.code || ' reloaded from ' || :src || ': ' || coalesce({old_text}, "
            f"'-') || ' -> ' || coalesce({new_text}, '-') ELSE {reason} END, "
            "jsonb_build_object('route', p.code, 'old_chainage_m', p.old_m, 'new_chainage_m', "
            "p.ch, 'distance_m', p.d, 'kept', p.kept) FROM _placed p "
            # a hazard left where it was (kept, back from no review, its chainage within
            # half a metre) has nothing to record: a reload of an unchanged network, say
            "WHERE NOT (p.kept AND NOT p.back AND coalesce(abs(p.ch - p.old_m) < 0.5, false)) "
            "ORDER BY p.id"
        ),
        {"src": source, "accept": accept_m},
    )
    conn.execute(
        text(
            "UPDATE hazards h SET road_id = p.road_id, segment_id = p.seg, "
            "chainage_m = coalesce(p.ch, h.chainage_m), "
            "snap_distance_m = CASE WHEN h.geom IS NOT NULL THEN p.d ELSE h.snap_distance_m END, "
            f"status = {status}, "
            "match_status = CASE WHEN p.kept AND p.back AND p.rest IS NULL THEN 'accepted' "
            "WHEN p.kept THEN h.match_status ELSE 'review' END, "
            "review_reason = CASE WHEN p.kept AND p.back THEN p.rest "
            f"WHEN p.kept THEN h.review_reason ELSE coalesce(p.rest || '; ', '') || {reason} END, "
            "version = h.version + 1, updated_at = now() FROM _placed p WHERE p.id = h.id"
        ),
        {"src": source, "accept": accept_m},
    )
    counts: dict[Any, Any] = dict(
        conn.execute(text("SELECT p.kept, count(*) FROM _placed p GROUP BY p.kept")).all()
    )
    return {"reattached": int(counts.get(True, 0)), "review": int(counts.get(False, 0))}


def reattach_crashes(
    conn: Connection,
    codes: list[str],
    *,
    snap_m: float,
    slack_m: float,
    admin_code: str | None = None,
) -> dict[str, int]:
    """Measure the crashes attached to the routes ``codes`` again on their new segments (see
    the module), once the new routes are in: ``snap_m``, the crash snap distance; ``slack_m``,
    how far past a route's end a stake still lies on it. ``{"reattached": n, "unattached": m}``."""
    admin_code = county(admin_code)
    srid = _working_srid(conn)
    by_point = "c.match_method = 'coords'"
    seg = "ST_Transform(s.geom, :srid)"
    pt = "ST_Transform(c.geom, :srid)"
    # nearest segment of the route: by the point, or the segment of the part whose span
    # holds the chainage (within the slack of a stake at a route's end)
    distance = (
        f"CASE WHEN {by_point} THEN ST_Distance({seg}, {pt}) "
        "ELSE greatest(s.from_m - c.chainage_m, c.chainage_m - s.to_m, 0) END"
    )
    chainage = (
        f"CASE WHEN {by_point} THEN s.from_m + ST_LineLocatePoint({seg}, {pt}) * s.length_m "
        "ELSE c.chainage_m END"
    )
    fraction = "least(greatest((n.ch - n.from_m) / nullif(n.length_m, 0), 0), 1)"
    placed = conn.execute(
        text(
            "CREATE TEMP TABLE _crash_placed ON COMMIT DROP AS "
            "SELECT c.source, c.crash_id, r.id AS road_id, n.seg, n.part, n.d, n.ch, "
            f"CASE WHEN {by_point} THEN n.d <= :snap ELSE n.d <= :slack END AS kept, "
            f"CASE WHEN NOT {by_point} AND n.d <= :slack THEN ST_Transform("
            f"ST_LineInterpolatePoint(n.line, {fraction}), 4326) END AS point "
            "FROM crashes c JOIN roads r ON r.admin_code = c.admin_code "
            "AND r.route_code = c.route_code "
            f"LEFT JOIN LATERAL (SELECT s.id AS seg, s.part, s.from_m, s.length_m, {seg} AS line, "
            f"{distance} AS d, {chainage} AS ch FROM road_segments s WHERE s.road_id = r.id "
            f"AND ({by_point} OR s.part = c.part) ORDER BY {distance}, s.seq LIMIT 1) n ON TRUE "
            f"WHERE c.admin_code = :a AND c.route_code = ANY({CODES}) "
            "AND c.match_method IN ('coords', 'route+chainage')"
        ),
        {"a": admin_code, "codes": codes_param(codes), "srid": srid, "snap": snap_m,
         "slack": slack_m},
    ).rowcount  # fmt: skip
    if not placed:
        return {"reattached": 0, "unattached": 0}
    conn.execute(
        text(
            "UPDATE crashes c SET road_id = p.road_id, segment_id = p.seg, part = p.part, "
            "chainage_m = p.ch, snap_distance_m = CASE WHEN c.match_method = 'coords' "
            "THEN p.d ELSE 0 END, geom = coalesce(p.point, c.geom) "
            "FROM _crash_placed p WHERE p.kept AND c.admin_code = :a AND c.source = p.source "
            "AND c.crash_id = p.crash_id"
        ),
        {"a": admin_code},
    )
    conn.execute(  # as an import leaves a crash near no road: its position kept, no route
        text(
            "UPDATE crashes c SET route_code = NULL, road_id = NULL, segment_id = NULL, "
            "part = NULL, chainage_m = NULL, snap_distance_m = NULL, match_method = 'unattached' "
            "FROM _crash_placed p WHERE p.kept IS NOT TRUE AND c.admin_code = :a "
            "AND c.source = p.source AND c.crash_id = p.crash_id"
        ),
        {"a": admin_code},
    )
    kept = conn.execute(text("SELECT count(*) FROM _crash_placed WHERE kept")).scalar_one()
    return {"reattached": int(kept), "unattached": placed - int(kept)}


def _working_srid(conn: Connection) -> int | None:
    """The EPSG code of the database's working metric CRS, where distances are measured."""
    from pyproj import CRS

    working = conn.execute(
        text("SELECT value FROM metadata WHERE key = 'working_crs'")
    ).scalar_one()
    return CRS.from_user_input(working).to_epsg()


def attach_loose_crashes(
    conn: Connection, codes: list[str], *, snap_m: float, admin_code: str | None = None
) -> int:
    """Attach the crashes kept unattached (near no road when imported, or on a route dropped
    since) whose nearest road, within ``snap_m``, is a route ``codes`` just loaded, to its
    nearest segment, as an import would have (not those :func:`reattach_crashes` has just found
    too far from a replaced route: after it, in the same transaction); how many. A network delivered with a road it lacked, or a route
    dropped and loaded again, has its crashes back on it for screening."""
    admin_code = county(admin_code)
    srid = _working_srid(conn)
    seg, pt = "ST_Transform(s.geom, :srid)", "ST_Transform(c0.geom, :srid)"
    return int(
        conn.execute(
            text(
                "UPDATE crashes c SET route_code = n.code, road_id = n.road_id, "
                "segment_id = n.seg, part = n.part, chainage_m = n.ch, snap_distance_m = n.d, "
                "match_method = 'coords' FROM crashes c0 CROSS JOIN LATERAL ("
                f"SELECT r.route_code AS code, r.id AS road_id, s.id AS seg, s.part, "
                f"ST_Distance({seg}, {pt}) AS d, s.from_m + "
                f"ST_LineLocatePoint({seg}, {pt}) * s.length_m AS ch "
                "FROM road_segments s JOIN roads r ON r.id = s.road_id "
                "WHERE r.admin_code = c0.admin_code "
                f"AND s.geom && ST_Transform(ST_Expand({pt}, :snap), 4326) "
                "ORDER BY 5, s.seq LIMIT 1) n "
                "WHERE c0.admin_code = :a AND c0.match_method = 'unattached' "
                # the nearest road of all is one of the load's (as an import would place it),
                # and the crash was not just now found too far from a replaced route
                f"AND c0.geom IS NOT NULL AND n.d <= :snap AND n.code = ANY({CODES}) "
                "AND NOT EXISTS (SELECT 1 FROM _crash_placed p WHERE p.source = c0.source "
                "AND p.crash_id = c0.crash_id) AND c.admin_code = c0.admin_code "
                "AND c.source = c0.source AND c.crash_id = c0.crash_id"
            ),
            {"a": admin_code, "codes": codes_param(codes), "srid": srid, "snap": snap_m},
        ).rowcount
        or 0
    )


def replaced_crashes(
    conn: Connection,
    codes: list[str],
    *,
    snap_m: float,
    slack_m: float,
    admin_code: str | None = None,
) -> dict[str, int]:
    """The crashes of a road load of routes ``codes``: those on them measured again
    (:func:`reattach_crashes`), then the unattached ones near them attached
    (:func:`attach_loose_crashes`, counted as re-attached)."""
    admin_code = county(admin_code)
    if not conn.execute(
        text("SELECT EXISTS (SELECT 1 FROM crashes WHERE admin_code = :a)"), {"a": admin_code}
    ).scalar():  # the county has no crashes (yet): nothing to measure again
        return {"reattached": 0, "unattached": 0}
    out = reattach_crashes(conn, codes, snap_m=snap_m, slack_m=slack_m, admin_code=admin_code)
    out["reattached"] += attach_loose_crashes(conn, codes, snap_m=snap_m, admin_code=admin_code)
    return out
