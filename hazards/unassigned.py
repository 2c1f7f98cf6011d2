"""Roads without a route code, known again when the network is delivered again.

A line without a route code is loaded as its own unassigned road, named from its geometry
(``U-`` and a hash of its line, :func:`hazards.roads.validate_features`). The next delivery of
the network gives the same road a new name as soon as its coordinates differ at all: another
CRS, a nudge of a few decimetres, another digitising of the same line. Named anew, it was loaded
a second time beside the first, and the network's length (and every figure of the report
built on it) grew by it. Before a load assembles its routes, :func:`known_unassigned` names
each such line after the unassigned road loaded before that is the same line within
:data:`SAME_LINE_M`, so that it is that road: unchanged, or changed (replaced with
``--replace``), never a second one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import shapely

from hazards.settings import county

if TYPE_CHECKING:
    import geopandas as gpd
    from sqlalchemy import Engine

SAME_LINE_M = 1.0
"""How far (m, the Hausdorff distance in the working CRS) a line without a route code may lie
from an unassigned road loaded before and still be that road: a reprojection moves a line by
millimetres, a re-digitised or nudged one by decimetres; two roads side by side are metres
apart."""


def known_unassigned(
    metric: gpd.GeoDataFrame,
    *,
    engine: Engine,
    within_m: float = SAME_LINE_M,
    admin_code: str | None = None,
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """``metric`` (a load's lines in the working CRS, with ``code`` and ``unassigned``) with
    each unassigned line that is an unassigned road loaded before (within ``within_m``) named
    after that road; and what to tell the user about it (nothing when none was)."""
    admin_code = county(admin_code)
    from hazards.db import store

    if not len(metric) or "unassigned" not in metric or not metric["unassigned"].any():
        return metric, []
    un = metric[metric["unassigned"].to_numpy(dtype=bool)]
    codes, inverse = np.unique(un["code"].to_numpy(dtype=str), return_inverse=True)
    # a line split into several (a multi-line whose parts do not join) is one road
    order = np.argsort(inverse, kind="stable")
    geoms = np.asarray(un.geometry.array, dtype=object)[order]
    shapes = shapely.multilinestrings(geoms, indices=inverse[order])
    lines = dict(zip(codes.tolist(), shapely.to_wkb(shapes).tolist(), strict=True))
    srid = metric.crs.to_epsg()
    if srid is None:  # a working CRS without an EPSG code cannot be named to PostGIS
        return metric, []
    same = store.unassigned_like(engine, lines, srid=srid, within_m=within_m, admin_code=admin_code)
    if not same:
        return metric, []
    out = metric.assign(code=metric["code"].replace(same))
    pairs = ", ".join(f"{new} = {old}" for new, old in list(same.items())[:5])
    note = (
        f"{len(same)} line(s) without a route code are roads without a code loaded before "
        f"(within {within_m:g} m), kept under their names: {pairs}"
        f"{', ...' if len(same) > 5 else ''}."
    )
    return out, [note]
