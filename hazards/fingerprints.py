"""Route fingerprints: what a route's input was, so that loading the same file again adds nothing.

A road load compares each route's fingerprint (:func:`route_checksums`) with the one stored
when the route was loaded: the same lines and attributes, in whatever row order or direction,
leave the route alone; anything else is a changed route (replaced only when asked). On a large
load :func:`hazards.assembly.build_routes` works them out in a forked child
(:mod:`hazards.offload`) while it assembles the routes.
"""

from __future__ import annotations

import base64
import hashlib

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely


def line_keys(geoms: np.ndarray) -> np.ndarray:
    """Each line's key: the WKB of its normalised form (:func:`shapely.normalize`), so that a
    line and the same line drawn the other way have one key. The duplicate check compares
    them, and the fingerprints are made of their hex; None for a missing geometry."""
    return shapely.to_wkb(shapely.normalize(geoms))


def route_groups(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Rows grouped by route code as ``groupby("code", sort=True)`` groups them.

    Returns ``(order, route, start, uniques)``: ``order`` lists the rows route by route (file
    order within a route), ``route[i]`` is the route of row ``order[i]``, route ``r`` is
    ``order[start[r]:start[r + 1]]``, and ``uniques`` are the sorted codes.
    """
    labels, uniques = pd.factorize(pd.Series(codes, dtype=object), sort=True)
    order = np.argsort(labels, kind="stable")
    route = labels[order]
    start = np.searchsorted(route, np.arange(len(uniques) + 1))
    return order, route, start, np.asarray(uniques, dtype=object)


def route_checksums(
    features: gpd.GeoDataFrame, *, line_wkb: np.ndarray | None = None
) -> dict[str, str]:
    """A fingerprint of each route's input (pieces and attributes), independent of row order.

    The SHA-1 of the route's lines ``WKB-hex|name|class|township`` (normalised geometry;
    ``|aadt`` after it when the line has an AADT), sorted and joined by newlines. ``line_wkb``:
    the lines' normalised WKB when it is already made (else made here)."""
    if line_wkb is None:
        line_wkb = line_keys(np.asarray(features.geometry.array, dtype=object))
    elif len(line_wkb) != len(features):
        raise ValueError(f"line_wkb has {len(line_wkb)} lines for {len(features)} features")
    name, cls, town = (
        features[c].to_numpy(dtype=object) for c in ("name", "road_class", "township")
    )
    aadt = features.get("aadt", pd.Series(np.nan, index=features.index)).to_numpy(float)
    more = [f"|{v:g}" if v == v else "" for v in aadt.tolist()]  # no AADT: as it was
    # Made as UTF-8 bytes from the start (sorted bytes are in the order of the texts' code
    # points, so the lines sort as their texts did): no pass to upper-case the hex, nor to
    # encode the joined text.
    suffix = [f"|{a}|{b}|{c}{d}".encode() for a, b, c, d in zip(name, cls, town, more, strict=True)]
    order, _route, start, codes = route_groups(features["code"].to_numpy(dtype=object))
    hexes = list(map(base64.b16encode, line_wkb))  # upper-case hex
    items = [hexes[i] + suffix[i] for i in order.tolist()]
    bounds = start.tolist()
    return {
        code: hashlib.sha1(b"\n".join(sorted(items[lo:hi]))).hexdigest()
        for code, lo, hi in zip(codes.tolist(), bounds[:-1], bounds[1:], strict=True)
    }
