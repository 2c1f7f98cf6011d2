"""Linear hazards' extents: the run of each along its route between its two chainages."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy import text

if TYPE_CHECKING:
    from sqlalchemy import Connection


# The run of a linear hazard along its route part between from_m and to_m: each segment of the
# part that the range overlaps, cut with ST_LineSubstring in the working CRS (where the
# chainages were measured: a fraction of a segment is a fraction of its length there), the
# pieces joined in chainage order by ST_MakeLine (a gap in the road data is bridged by a
# straight line, as a chainage in a gap is placed), stored in lon/lat.
_EXTENT_SQL = """
    UPDATE hazards h SET extent = x.line
    FROM (
        SELECT hz.id, CASE WHEN hz.from_m IS NOT NULL THEN (
            SELECT ST_Transform(ST_MakeLine(
                       ST_LineSubstring(g.geom,
                           greatest(0.0, least(1.0, (hz.from_m - s.from_m) / g.len)),
                           greatest(0.0, least(1.0, (hz.to_m - s.from_m) / g.len)))
                       ORDER BY s.from_m), 4326)
            FROM road_segments s
            CROSS JOIN LATERAL (SELECT ST_Transform(s.geom, :srid) AS geom) t
            CROSS JOIN LATERAL (SELECT t.geom, ST_Length(t.geom) AS len) g
            WHERE s.road_id = hz.road_id AND s.part = hs.part AND g.len > 0
              AND s.to_m > hz.from_m AND s.from_m < hz.to_m) END AS line
        FROM hazards hz JOIN road_segments hs ON hs.id = hz.segment_id
        WHERE {where}
    ) x
    WHERE x.id = h.id AND (h.extent IS NOT NULL OR x.line IS NOT NULL)
"""


def set_extents(
    conn: Connection,
    *,
    srid: int,
    survey_id: int | None = None,
    hazard_ids: Sequence[int] = (),
) -> int:
    """Cut the ``extent`` of the linear hazards of ``survey_id`` and of ``hazard_ids`` from
    their route (``ST_LineSubstring`` in the working CRS ``srid``), clearing it where a hazard
    has no range; in the caller's transaction. Returns the rows updated."""
    # Only rows that have a range or had an extent can change: a bulk import of points
    # skips the join for every one of its hazards.
    where = (
        "(hz.survey_id = :sid AND (hz.from_m IS NOT NULL OR hz.extent IS NOT NULL)) "
        "OR hz.id = ANY(:ids)"
    )
    return int(
        conn.execute(
            text(_EXTENT_SQL.format(where=where)),
            {"srid": srid, "sid": survey_id, "ids": list(hazard_ids)},
        ).rowcount
        or 0
    )
