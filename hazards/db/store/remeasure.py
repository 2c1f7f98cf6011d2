"""Every county's routes measured again in a new working CRS (``hazards db working-crs``).

The working CRS is the database's, not a county's: a change measures again the routes of every
county stored (:func:`remeasure_input` reads them all, with their county code), in one
transaction (:func:`apply_remeasure`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import shapely
from sqlalchemy import text

from hazards.db.store.roads import WORKING_CRS_KEY
from hazards.errors import InputError

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd
    from pyproj import CRS
    from sqlalchemy import Engine


def remeasure_input(engine: Engine) -> gpd.GeoDataFrame:
    """Every stored segment of every county (lon/lat) with what assembling it again needs: its
    route's county code (``admin_code``), code, name, class, class_raw, township and unassigned
    flag, the segment's township and id (``row``)."""
    import geopandas as gpd
    import pandas as pd

    sql = (
        "SELECT s.id AS row, r.admin_code, r.route_code AS code, r.name, r.road_class, "
        "r.class_raw, s.township, r.unassigned, ST_AsBinary(s.geom) AS wkb FROM road_segments s "
        "JOIN roads r ON r.id = s.road_id ORDER BY s.id"
    )
    with engine.connect() as conn:
        frame = pd.read_sql(text(sql), conn)
    geoms = shapely.from_wkb(frame.pop("wkb").to_numpy())
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, index=frame.index, crs=4326))


def apply_remeasure(
    engine: Engine, crs: CRS, roads: pd.DataFrame, segments: pd.DataFrame
) -> dict[str, Any]:
    """Store lengths and chainages measured again in ``crs`` and record it as the working CRS,
    in one transaction. ``roads``: admin_code, code, length_m, end_m, gap_m, parts, gaps,
    sections; ``segments``: row (the segment id), seq, part, section, from_m, to_m, length_m,
    flip (its stored line runs against the new chainage and is reversed). Each hazard's
    chainage is measured again on its segment in ``crs`` (``ST_LineLocatePoint`` there; a
    hazard placed in a gap keeps its distance past the segment's end, scaled alike)."""
    from hazards.crs import crs_label

    srid = crs.to_epsg()
    if srid is None:
        raise InputError(
            f"{crs.name} has no EPSG code; the working CRS must be an EPSG CRS (e.g. EPSG:4546).",
            param="crs",
        )
    with engine.begin() as conn:
        conn.execute(
            text(
                "CREATE TEMP TABLE _seg ON COMMIT DROP AS SELECT * FROM unnest("
                "CAST(:id AS bigint[]), CAST(:part AS int[]), CAST(:sec AS int[]), "
                "CAST(:f AS float8[]), CAST(:t AS float8[]), CAST(:l AS float8[]), "
                "CAST(:seq AS int[])) AS x(id, part, section, from_m, to_m, length_m, seq)"
            ),
            {
                "id": [int(v) for v in segments["row"]],
                "seq": [int(v) for v in segments["seq"]],
                "part": [int(v) for v in segments["part"]],
                "sec": [int(v) for v in segments["section"]],
                "f": [float(v) for v in segments["from_m"]],
                "t": [float(v) for v in segments["to_m"]],
                "l": [float(v) for v in segments["length_m"]],
            },
        )
        flipped = [int(v) for v in segments.loc[segments["flip"].astype(bool), "row"]]
        if flipped:  # assembled the other way round now: stored in chainage order
            conn.execute(
                text("UPDATE road_segments SET geom = ST_Reverse(geom) WHERE id = ANY(:f)"),
                {"f": flipped},
            )
        hazards = conn.execute(
            text(
                "UPDATE hazards h SET chainage_m = CASE "
                "WHEN h.geom IS NOT NULL AND h.chainage_m <= s.to_m + 0.001 THEN n.from_m + "
                "ST_LineLocatePoint(ST_Transform(s.geom, :srid), ST_Transform(h.geom, :srid)) "
                "* n.length_m "
                "WHEN h.chainage_m > s.to_m THEN n.to_m + (h.chainage_m - s.to_m) "
                "* n.length_m / nullif(s.length_m, 0) "
                "ELSE n.from_m + (h.chainage_m - s.from_m) * n.length_m / nullif(s.length_m, 0) "
                "END "
                "FROM road_segments s JOIN _seg n ON n.id = s.id "
                "WHERE s.id = h.segment_id AND h.chainage_m IS NOT NULL"
            ),
            {"srid": srid},
        ).rowcount
        conn.execute(
            text(
                "UPDATE road_segments s SET seq = n.seq, part = n.part, section = n.section, "
                "from_m = n.from_m, to_m = n.to_m, length_m = n.length_m FROM _seg n "
                "WHERE n.id = s.id"
            )
        )
        conn.execute(
            text(
                "UPDATE roads r SET length_m = x.len, end_m = x.end_m, gap_m = x.gap, "
                "parts = x.parts, has_gap = x.gaps > 0, has_branch = x.parts > x.sections, "
                "sections = x.sections FROM unnest(CAST(:admin AS text[]), "
                "CAST(:code AS text[]), CAST(:len AS float8[]), CAST(:end AS float8[]), "
                "CAST(:gap AS float8[]), CAST(:parts AS int[]), CAST(:gaps AS int[]), "
                "CAST(:sections AS int[])) "
                "AS x(admin, code, len, end_m, gap, parts, gaps, sections) "
                "WHERE r.admin_code = x.admin AND r.route_code = x.code"
            ),
            {
                "admin": [str(v) for v in roads["admin_code"]],
                "code": [str(v) for v in roads["code"]],
                "len": [float(v) for v in roads["length_m"]],
                "end": [float(v) for v in roads["end_m"]],
                "gap": [float(v) for v in roads["gap_m"]],
                "parts": [int(v) for v in roads["parts"]],
                "gaps": [int(v) for v in roads["gaps"]],
                "sections": [int(v) for v in roads["sections"]],
            },
        )
        conn.execute(
            text(
                "INSERT INTO metadata (key, value) VALUES (:k, :v) ON CONFLICT (key) "
                "DO UPDATE SET value = EXCLUDED.value, updated_at = now()"
            ),
            {"k": WORKING_CRS_KEY, "v": crs_label(crs)},
        )
    return {"routes": len(roads), "segments": len(segments), "hazards": int(hazards or 0)}
