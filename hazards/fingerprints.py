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


def single_parts(geoms: np.ndarray) -> np.ndarray:
    """``geoms`` with each MultiLineString of one part as that LineString (a layer typed
    MultiLineString, as GIS software often writes, holds most lines that way): not a repair."""
    one = (shapely.get_type_id(geoms) == 5) & (shapely.get_num_geometries(geoms) == 1)
    if not one.any():
        return geoms
    out = geoms.copy()
    out[one] = shapely.get_geometry(geoms[one], 0)
    return out


def line_keys(geoms: np.ndarray) -> np.ndarray:
    """Each line's key: the WKB of its normalised form (:func:`shapely.normalize`), so that a
    line and the same line drawn the other way have one key. The duplicate check compares
    them, and the fingerprints are made of their hex; None for a missing geometry."""
    return shapely.to_wkb(shapely.normalize(geoms))


_LINE = b"\x01\x02\x00\x00\x00"  # a little-endian WKB LineString's first bytes


def wkb_line_keys(wkb: np.ndarray) -> np.ndarray:
    """:func:`line_keys` of lines given as WKB, each MultiLineString of one part as its line
    (:func:`single_parts`); None for a missing or unreadable one. The same bytes as GEOS
    makes, from the WKB itself where its normalisation is a plain reversal: an open 2D
    LineString in little-endian WKB is its own key when its first point comes before its
    last (x, then y), else the line reversed. Any other line (closed, 3D, big-endian, several
    parts) goes through GEOS. A road file's lines as read (a province's half million) are
    keyed without a geometry made for each, in a third of the time."""
    wkb = np.asarray(wkb, dtype=object)
    n = len(wkb)
    out = np.empty(n, dtype=object)
    have = np.flatnonzero(np.fromiter((type(w) is bytes for w in wkb), dtype=bool, count=n))
    size = np.fromiter(map(len, wkb[have]), dtype=np.int64, count=len(have))
    have, size = have[size >= 9], size[size >= 9]
    buf = np.frombuffer(b"".join(wkb[have]), dtype=np.uint8)
    at = np.cumsum(size) - size  # each line's first byte in buf

    def u32(pos: np.ndarray) -> np.ndarray:
        return buf[pos[:, None] + np.arange(4)].copy().view("<u4")[:, 0].astype(np.int64)

    kind = u32(at + 1)
    # a MultiLineString of one part: its line's WKB follows a header of 9 bytes
    one = (kind == 5) & (buf[at] == 1)
    one[one] = (u32(at[one] + 5) == 1) & (size[one] >= 18)
    head = np.where(one, 9, 0)
    one[one] = (buf[at[one] + 9] == 1) & (u32(at[one] + 10) == 2)
    line = at + head
    points = np.zeros(len(have), dtype=np.int64)
    plain = ((kind == 2) & (buf[at] == 1)) | one
    points[plain] = u32(line[plain] + 5)
    plain &= (points >= 2) & (size == head + 9 + 16 * points)
    ok = np.flatnonzero(plain)
    first = line[ok] + 9
    last = first + 16 * (points[ok] - 1)
    ends = buf[np.concatenate([first, last])[:, None] + np.arange(16)].copy().view("<f8")
    (x0, y0), (x1, y1) = ends[: len(ok)].T, ends[len(ok) :].T
    # closed, or an end not a finite number (GEOS then compares by y alone): through GEOS
    finite = np.isfinite(x0) & np.isfinite(y0) & np.isfinite(x1) & np.isfinite(y1)
    closed = ((x0 == x1) & (y0 == y1)) | ~finite
    flip = (x0 > x1) | ((x0 == x1) & (y0 > y1))
    ok, flip = ok[~closed], flip[~closed]
    # kept as they are: the WKB of a LineString whose first point comes first
    keep = ok[~flip & ~one[ok]]
    out[have[keep]] = wkb[have[keep]]
    # made again: a part taken out of its MultiLineString, a line reversed
    remake = ok[flip | one[ok]]
    if len(remake):
        k = points[remake]
        coords = np.frombuffer(
            b"".join(
                w[h + 9 :] for w, h in zip(wkb[have[remake]], head[remake].tolist(), strict=True)
            ),
            dtype="<f8",
        ).reshape(-1, 2)
        start = np.cumsum(k) - k
        step = np.arange(len(coords)) - np.repeat(start, k)
        back = np.repeat(flip[np.searchsorted(ok, remake)], k)
        step[back] = np.repeat(k - 1, k)[back] - step[back]
        turned = coords[np.repeat(start, k) + step].tobytes()
        bounds = (np.concatenate([[0], np.cumsum(k)]) * 16).tolist()
        counts = k.astype("<u4").tobytes()
        out[have[remake]] = [
            _LINE + counts[4 * j : 4 * j + 4] + turned[bounds[j] : bounds[j + 1]]
            for j in range(len(remake))
        ]
    rest = np.ones(n, dtype=bool)
    rest[have[ok]] = False
    rest &= pd.notna(wkb)
    if rest.any():  # through GEOS
        out[rest] = line_keys(single_parts(shapely.from_wkb(wkb[rest], on_invalid="ignore")))
    return out


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
