"""Route assembly: a route's pieces chained into segments with from/to chainage (pure: no files, no database).

:func:`build_routes` groups validated features (in a metric CRS) by route code and assembles
every route. Routes that are one chain of pieces are assembled all at once, with arrays
(:func:`_assemble_chains`); the others (branches, gaps, loops, junctions) one by one with
:func:`assemble_route`, the general path. Reading and validating road files is
:mod:`hazards.roads`; this module only sees geometries and attributes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import LineString
from shapely.ops import substring

from hazards.fingerprints import route_checksums, route_groups
from hazards.offload import Offloaded, here, offload

CHECKSUMS_APART_MIN = 50_000
"""Lines from which :func:`build_routes` works out the route fingerprints in a forked child
(:mod:`hazards.offload`) while it assembles the routes; below, forking costs more than it saves."""


# ----------------------------------------------------------------------------- the general path
class _UnionFind:
    """Disjoint sets over ``0..n-1`` (path halving; the smaller root becomes the parent)."""

    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, a: int) -> int:
        while self.parent[a] != a:
            self.parent[a] = self.parent[self.parent[a]]
            a = self.parent[a]
        return a

    def union(self, a: int, b: int) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return False
        self.parent[max(ra, rb)] = min(ra, rb)
        return True


def _cluster_points(points: np.ndarray, tol: float) -> np.ndarray:
    """Label points that lie within ``tol`` of each other (transitively) with one id."""
    pts = shapely.points(points)
    tree = shapely.STRtree(pts)
    a, b = tree.query(pts, predicate="dwithin", distance=tol)
    uf = _UnionFind(len(points))
    for i, j in zip(a.tolist(), b.tolist(), strict=True):
        if i < j:
            uf.union(i, j)
    roots = np.array([uf.find(i) for i in range(len(points))])
    _, labels = np.unique(roots, return_inverse=True)
    return labels


def _split_at_junctions(
    lines: list[LineString], rows: list[int], tol: float
) -> tuple[list[LineString], list[int]]:
    """Split lines where another line's loose end touches them (a branch leaving mid-line)."""
    if len(lines) < 2:
        return lines, rows
    ends = np.array([[ln.coords[0], ln.coords[-1]] for ln in lines]).reshape(-1, 2)
    labels = _cluster_points(ends, tol)
    degree = np.bincount(labels)
    loose = np.flatnonzero(degree[labels] == 1)
    arr = np.array(lines, dtype=object)
    tree = shapely.STRtree(arr)
    pts = shapely.points(ends[loose])
    qi, li = tree.query(pts, predicate="dwithin", distance=tol)
    cuts: dict[int, list[float]] = {}
    for q, j in zip(qi.tolist(), li.tolist(), strict=True):
        own = loose[q] // 2
        if j == own:
            continue
        s = float(arr[j].project(pts[q]))
        if tol < s < arr[j].length - tol:
            cuts.setdefault(j, []).append(s)
    if not cuts:
        return lines, rows
    new_lines: list[LineString] = []
    new_rows: list[int] = []
    for j, ln in enumerate(lines):
        if j not in cuts:
            new_lines.append(ln)
            new_rows.append(rows[j])
            continue
        marks = [0.0, *sorted(set(cuts[j])), ln.length]
        for s0, s1 in zip(marks[:-1], marks[1:], strict=True):
            if s1 - s0 > 0:
                new_lines.append(substring(ln, s0, s1))
                new_rows.append(rows[j])
    return new_lines, new_rows


@dataclass
class AssembledSegment:
    """One piece of an assembled route, with its place along the route."""

    geometry: LineString  # oriented with increasing chainage
    row: int
    part: int
    from_m: float
    to_m: float
    section: int = 0  # pieces more than max_gap apart are separate sections (own chainage)


@dataclass
class AssembledRoute:
    """One route assembled by :func:`assemble_route`: its segments in chainage order."""

    segments: list[AssembledSegment]
    length_m: float  # sum of the pieces' lengths (road actually present)
    end_m: float  # chainage at the end of the main line (of section 0)
    parts: int
    gaps: int  # gaps bridged by a straight line (at most max_gap long)
    gap_m: float
    sections: int = 1
    breaks: list[dict[str, Any]] = field(default_factory=list)
    """Gaps longer than ``max_gap`` left open between sections: ``length_m``, and each end's
    ``section``, ``chainage_m`` and working-CRS ``xy``."""


def assemble_route(
    lines: Sequence[LineString],
    rows: Sequence[int],
    *,
    tol: float = 0.5,
    max_gap: float = math.inf,
) -> AssembledRoute:
    """Chain one route's pieces and give each its from/to chainage.

    The main line is the longest chain through the pieces (part 0), from the end that most of
    its length is digitised from. Pieces that do not touch are joined by the shortest
    straight-line gaps up to ``max_gap`` long, and chainage runs on across each gap by its
    straight-line length (stakes are physical). A spur leaving the main line is its own part,
    its chainage starting at the main line's chainage where it leaves.

    Pieces farther than ``max_gap`` from the rest are separate sections, longest first (section
    0 holds part 0): each section has its own main line starting at K0+000 and its own
    branches (parts numbered on across sections); the open gaps are listed in ``breaks``.
    """
    lines, rows = _split_at_junctions(list(lines), list(rows), tol)
    m = len(lines)
    lengths = np.array([ln.length for ln in lines])
    if m == 1:
        ln = lines[0]
        seg = AssembledSegment(ln, rows[0], 0, 0.0, float(lengths[0]))
        return AssembledRoute([seg], float(lengths[0]), float(lengths[0]), 1, 0, 0.0)
    ends = np.array([[ln.coords[0], ln.coords[-1]] for ln in lines]).reshape(-1, 2)
    node_of_end = _cluster_points(ends, tol)
    n_nodes = int(node_of_end.max()) + 1
    node_xy = np.zeros((n_nodes, 2))
    node_xy[node_of_end] = ends
    # edges: (u, v, weight, piece index or -1 for a gap)
    edges: list[tuple[int, int, float, int]] = [
        (int(node_of_end[2 * k]), int(node_of_end[2 * k + 1]), float(lengths[k]), k)
        for k in range(m)
    ]
    uf = _UnionFind(n_nodes)
    tree_edges: list[tuple[int, int, float, int]] = []
    extra: list[tuple[int, int, float, int]] = []
    for edge in sorted(edges, key=lambda t: (-t[2], t[3])):
        (tree_edges if uf.union(edge[0], edge[1]) else extra).append(edge)
    # Join separate components by the shortest straight gaps (Kruskal over component pairs).
    comps: dict[int, list[int]] = {}
    for node in range(n_nodes):
        comps.setdefault(uf.find(node), []).append(node)
    n_gaps = 0
    open_gaps: list[tuple[float, int, int]] = []
    if len(comps) > 1:
        degree = np.zeros(n_nodes, dtype=int)
        for u, v, _, _ in edges:
            degree[u] += 1
            degree[v] += 1
        cands: list[tuple[float, int, int]] = []
        keys = sorted(comps)
        # loose ends (all nodes of a loop without any)
        ends_of = {c: np.array([x for x in comps[c] if degree[x] == 1] or comps[c]) for c in keys}
        for ai, a in enumerate(keys):
            for b in keys[ai + 1 :]:
                na, nb = ends_of[a], ends_of[b]
                d = np.linalg.norm(node_xy[na][:, None, :] - node_xy[nb][None, :, :], axis=2)
                i, j = np.unravel_index(int(np.argmin(d)), d.shape)
                cands.append((float(d[i, j]), int(na[i]), int(nb[j])))
        for d, u, v in sorted(cands):
            if d > max_gap:
                open_gaps.append((d, u, v))
            elif uf.union(u, v):
                tree_edges.append((u, v, d, -1))
                n_gaps += 1
    adj: dict[int, list[tuple[int, float, int]]] = {x: [] for x in range(n_nodes)}
    for u, v, w, k in tree_edges:
        adj[u].append((v, w, k))
        adj[v].append((u, w, k))

    def farthest(start: int) -> tuple[int, dict[int, float], dict[int, tuple[int, int]]]:
        dist = {start: 0.0}
        parent: dict[int, tuple[int, int]] = {}
        stack = [start]
        while stack:
            x = stack.pop()
            for y, w, k in adj[x]:
                if y not in dist:
                    dist[y] = dist[x] + w
                    parent[y] = (x, k)
                    stack.append(y)
        far = max(sorted(dist), key=lambda z: dist[z])
        return far, dist, parent

    # Sections: what the bridged gaps leave connected, longest first.
    members: dict[int, list[int]] = {}
    for node in range(n_nodes):
        members.setdefault(uf.find(node), []).append(node)
    sec_len = dict.fromkeys(members, 0.0)
    for k in range(m):
        sec_len[uf.find(int(node_of_end[2 * k]))] += float(lengths[k])
    chain: dict[int, float] = {}
    part_of: dict[int, int] = {}
    section_of: dict[int, int] = {}
    next_part = 0
    end_m = 0.0
    for sec, root in enumerate(sorted(members, key=lambda r: (-sec_len[r], members[r][0]))):
        first = members[root][0]
        a, _, _ = farthest(first)
        b, _, parent = farthest(a)
        path = [b]
        path_edges: list[int] = []
        while path[-1] != a:
            x, k = parent[path[-1]]
            path_edges.append(k)
            path.append(x)
        # path runs b -> a; orient by the digitised direction of most of its length
        agree = 0.0
        total = 0.0
        for (x, y), k in zip(zip(path[:-1], path[1:], strict=True), path_edges, strict=True):
            if k < 0:
                continue
            total += lengths[k]
            if node_of_end[2 * k] == x and node_of_end[2 * k + 1] == y:
                agree += lengths[k]
        if agree < total / 2 or (
            agree == total / 2 and tuple(node_xy[path[0]]) > tuple(node_xy[path[-1]])
        ):
            path.reverse()
            path_edges.reverse()
        main = next_part
        next_part += 1
        chain[path[0]] = 0.0
        part_of[path[0]] = main
        on_path = set(path)
        for (x, y), e in zip(zip(path[:-1], path[1:], strict=True), path_edges, strict=True):
            w = next(wt for z, wt, kk in adj[x] if z == y and kk == e)
            chain[y] = chain[x] + w
            part_of[y] = main
        if sec == 0:
            end_m = chain[path[-1]]
        # Branches: everything hanging off the main line, in order of where it leaves it.
        for x in sorted(path, key=lambda z: chain[z]):
            for y, _w, _k in sorted(adj[x], key=lambda t: (t[2], t[0])):
                if y in on_path or y in chain:
                    continue
                part = next_part
                next_part += 1
                stack = [(x, y)]
                while stack:
                    p, q = stack.pop()
                    w = next(w for z, w, _ in adj[p] if z == q)
                    chain[q] = chain[p] + w
                    part_of[q] = part
                    stack.extend((q, r) for r, _, _ in adj[q] if r not in chain)
        for node in members[root]:
            section_of[node] = sec

    # The open gaps that would join the sections (shortest first), named by their two ends.
    def describe(z: int) -> dict[str, Any]:
        xy = (float(node_xy[z][0]), float(node_xy[z][1]))
        return {"section": section_of[z], "part": part_of[z], "chainage_m": chain[z], "xy": xy}

    joined = _UnionFind(n_nodes)
    for u, v, _, _ in tree_edges:
        joined.union(u, v)
    breaks = [
        {"length_m": d, "ends": [describe(z) for z in sorted((u, v), key=lambda z: section_of[z])]}
        for d, u, v in open_gaps
        if joined.union(u, v)
    ]
    segments: list[AssembledSegment] = []
    for u, v, w, k in tree_edges + extra:
        if k < 0:
            continue
        ln = lines[k]
        start, end = int(node_of_end[2 * k]), int(node_of_end[2 * k + 1])
        lo = start if chain[start] <= chain[end] else end
        f = chain[lo]
        if (u, v, w, k) in extra:  # closes a loop: its own part, measured from its lower end
            part = next_part
            next_part += 1
        else:  # a branch edge joins its section's main line and its branch's part
            part = max(part_of[start], part_of[end])
        geom = ln if lo == start else shapely.reverse(ln)
        segments.append(
            AssembledSegment(
                geom, rows[k], part, float(f), float(f + lengths[k]), section_of[start]
            )
        )
    segments.sort(key=lambda s: (s.part, s.from_m, s.row))
    gap_m = sum(w for _, _, w, k in tree_edges if k < 0)
    return AssembledRoute(
        segments=segments,
        length_m=float(lengths.sum()),
        end_m=float(end_m),
        parts=next_part,
        gaps=n_gaps,
        gap_m=float(gap_m),
        sections=len(members),
        breaks=breaks,
    )


# ----------------------------------------------------------------------------- the vectorised path
# Most routes are one chain of pieces without branches or gaps. For those, assemble_route's
# result is fixed by a few array facts (the chain order, each piece's direction, the majority
# direction), so they are assembled for all routes at once below; the rest go through
# assemble_route one by one. tests/test_assembly.py checks both give the same segments.


def _components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Connected components of the pairs ``(a, b)`` over ``n`` items, labelled by their smallest item."""
    label = np.arange(n)
    while len(a):
        m = np.minimum(label[a], label[b])
        if (label[a] == m).all() and (label[b] == m).all():
            break
        np.minimum.at(label, a, m)
        np.minimum.at(label, b, m)
        label = label[label]
    while True:
        nxt = label[label]
        if (nxt == label).all():
            return label
        label = nxt


def _end_nodes(ends: np.ndarray, route: np.ndarray, *, tol: float) -> np.ndarray:
    """A node id per piece end: ends within ``tol`` of each other (transitively) in one route share one.

    The same partition as :func:`_cluster_points` on each route's ends. Ends that coincide
    exactly are grouped by sorting; only routes where two distinct points could be within
    ``tol`` (close neighbours both when sorted by x and by y) are searched with a tree.
    """
    n = len(ends)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    key = np.lexsort((ends[:, 1], ends[:, 0], route))
    ks, rs = ends[key], route[key]
    new = np.ones(n, dtype=bool)
    new[1:] = (rs[1:] != rs[:-1]) | (ks[1:, 0] != ks[:-1, 0]) | (ks[1:, 1] != ks[:-1, 1])
    node = np.empty(n, dtype=np.int64)
    node[key] = np.cumsum(new) - 1
    nxy, nroute = ks[new], rs[new]
    n_nodes = len(nxy)
    n_routes = int(route.max()) + 1
    suspect = np.ones(n_routes, dtype=bool)
    for axis in (0, 1):
        o = np.lexsort((nxy[:, axis], nroute))
        near = (nroute[o][1:] == nroute[o][:-1]) & (np.diff(nxy[o, axis]) <= tol)
        suspect &= np.bincount(nroute[o][1:][near], minlength=n_routes) > 0
    cand = np.flatnonzero(suspect[nroute])
    if len(cand) == 0:
        return node
    pts = shapely.points(nxy[cand])
    a, b = shapely.STRtree(pts).query(pts, predicate="dwithin", distance=tol)
    keep = (a < b) & (nroute[cand[a]] == nroute[cand[b]])
    label = _components(n_nodes, cand[a[keep]], cand[b[keep]])
    _, label = np.unique(label, return_inverse=True)
    return label[node]


@dataclass
class _Chains:
    """Routes assembled by :func:`_assemble_chains` (``simple``) and their pieces' places."""

    simple: np.ndarray  # per route: assembled here (else it needs assemble_route)
    pos: np.ndarray  # per piece of a simple route: its place along the route (0 = first)
    flip: np.ndarray  # per piece: reversed to run with increasing chainage


def _assemble_chains(
    lines: np.ndarray, lengths: np.ndarray, route: np.ndarray, start: np.ndarray, *, tol: float
) -> _Chains:
    """Find the routes that are one chain of pieces and orient and order their pieces.

    ``lines`` are grouped by route (route ``r`` is ``lines[start[r]:start[r + 1]]``). A route is
    simple when it has one piece, or when its pieces' ends (clustered within ``tol``) form one
    path: every node joins at most two pieces, the pieces are connected and not a loop, no loose
    end touches another piece (which assemble_route would split there), and the majority
    direction is not a near tie. For those the result equals :func:`assemble_route`'s: the pieces
    in path order, from the end most of the length is digitised from.
    """
    n = len(lines)
    n_routes = len(start) - 1
    count = np.diff(start)
    pos = np.zeros(n, dtype=np.int64)
    flip = np.zeros(n, dtype=bool)
    simple = count == 1
    multi = np.flatnonzero(count[route] >= 2)
    if len(multi) == 0:
        return _Chains(simple, pos, flip)
    sub = lines[multi]
    sroute = route[multi]
    coords = shapely.get_coordinates(sub)
    nc = shapely.get_num_coordinates(sub)
    last = np.cumsum(nc) - 1
    ends = np.empty((2 * len(sub), 2))
    ends[0::2] = coords[last - nc + 1]
    ends[1::2] = coords[last]
    end_route = np.repeat(sroute, 2)
    node = _end_nodes(ends, end_route, tol=tol)
    degree = np.bincount(node)
    node_route = np.zeros(len(degree), dtype=np.int64)
    node_route[node] = end_route
    ok = count >= 2
    # one path: nodes = pieces + 1, degrees <= 2
    ok &= np.bincount(node_route, minlength=n_routes) == count + 1
    ok &= ~(np.bincount(node_route, weights=degree > 2, minlength=n_routes) > 0)
    # Walk the chains: a state is an end a piece is entered from; the next state is the other
    # end of the node the piece is left at. List ranking by pointer jumping gives, per state,
    # the pieces left to walk and the last state reached.
    e = len(ends)
    o = np.argsort(node, kind="stable")
    partner = np.full(e, -1, dtype=np.int64)
    pair = np.flatnonzero(node[o][1:] == node[o][:-1])
    pair = pair[degree[node[o[pair]]] == 2]
    partner[o[pair]] = o[pair + 1]
    partner[o[pair + 1]] = o[pair]
    nxt = partner[np.arange(e) ^ 1]
    rank = np.ones(e, dtype=np.int64)
    reach = np.arange(e)
    for _ in range(int(np.ceil(np.log2(max(int(count.max()), 2)))) + 2):
        has = nxt >= 0
        if not has.any():
            break
        j = np.where(has, nxt, 0)
        rank = rank + np.where(has, rank[j], 0)
        reach = np.where(has, reach[j], reach)
        nxt = np.where(has, nxt[j], -1)
    ok &= ~(np.bincount(end_route, weights=nxt >= 0, minlength=n_routes) > 0)
    # the walk from each route's first loose end covers all its pieces
    loose = np.flatnonzero(degree[node] == 1)
    first_loose = np.full(n_routes, e, dtype=np.int64)
    np.minimum.at(first_loose, end_route[loose], loose)
    ok &= first_loose < e
    t = np.where(ok, first_loose, 0)
    ok &= rank[t] == count
    # a loose end within tol of another piece of its route: assemble_route may split there
    loose = loose[ok[end_route[loose]]]
    lx, ly = ends[loose, 0], ends[loose, 1]
    lr = end_route[loose]
    own = multi[loose // 2]
    cand_piece = np.repeat(start[lr], count[lr]) + (
        np.arange(int(count[lr].sum())) - np.repeat(np.cumsum(count[lr]) - count[lr], count[lr])
    )
    cand_end = np.repeat(np.arange(len(loose)), count[lr])
    bounds = shapely.bounds(lines)[cand_piece]
    px, py = lx[cand_end], ly[cand_end]
    inbox = (
        (cand_piece != own[cand_end])
        & (px >= bounds[:, 0] - tol)
        & (px <= bounds[:, 2] + tol)
        & (py >= bounds[:, 1] - tol)
        & (py <= bounds[:, 3] + tol)
    )
    if inbox.any():
        hit = shapely.dwithin(shapely.points(px[inbox], py[inbox]), lines[cand_piece[inbox]], tol)
        ok[lr[cand_end[inbox][hit]]] = False
    # Each piece on the walk from the first loose end, in its walking direction.
    ends_on = reach == reach[t][end_route]
    ends_on &= ok[end_route]
    state = np.flatnonzero(ends_on)
    piece = state // 2  # index into sub
    forward = state % 2 == 0  # entered from its start: digitised in walking direction
    proute = sroute[piece]
    walk_pos = count[proute] - rank[state]
    plen = lengths[multi[piece]]
    total = np.bincount(proute, weights=plen, minlength=n_routes)
    agree = np.bincount(proute, weights=np.where(forward, plen, 0.0), minlength=n_routes)
    tie = np.abs(agree - total / 2) <= 1e-9 * total
    ok &= ~tie
    keep = ok[proute]
    piece, forward, proute, walk_pos = piece[keep], forward[keep], proute[keep], walk_pos[keep]
    same = agree[proute] > total[proute] / 2
    gi = multi[piece]
    pos[gi] = np.where(same, walk_pos, count[proute] - 1 - walk_pos)
    flip[gi] = forward != same
    simple |= ok
    return _Chains(simple, pos, flip)


# ----------------------------------------------------------------------------- all routes
def _modes(values: np.ndarray, route: np.ndarray, n_routes: int) -> np.ndarray:
    """Per route (``route[i]``: row i's), its rows' most common value; the smallest on a tie."""
    out = np.full(n_routes, None, dtype=object)
    labels, uniques = pd.factorize(pd.Series(values, dtype=object), sort=True)  # missing: -1
    has, k = labels >= 0, max(len(uniques), 1)
    keys, n = np.unique(route[has].astype(np.int64) * k + labels[has], return_counts=True)
    r, lab = keys // k, keys % k
    best = np.lexsort((lab, -n, r))  # by route, most rows first, then the smallest value
    first = best[np.diff(r[best], prepend=-1) != 0]
    out[r[first]] = np.asarray(uniques, dtype=object)[lab[first]]
    return out


def build_routes(
    features: gpd.GeoDataFrame,
    *,
    tol: float = 0.5,
    fast: bool = True,
    max_gap: float = math.inf,
    line_wkb: np.ndarray | None = None,
    fingerprints: Offloaded[dict[str, str]] | None = None,
) -> tuple[pd.DataFrame, gpd.GeoDataFrame]:
    """Group features (in a metric CRS) into routes and assemble each with chainage.

    Returns ``(roads, segments)``: one row per route (code, name, class, class_raw, township,
    length_m, end_m, parts, gaps, gap_m, sections, breaks, has_gap, has_branch, unassigned,
    checksum) and one row per segment (code, seq, part, section, from_m, to_m, length_m, row,
    township, geometry). ``class_raw`` is the most common of the file's own class values
    (column ``class_raw`` of ``features`` when present). Routes that are one chain of pieces
    are assembled for all routes at once; the others (branches, gaps, loops, junctions, pieces
    more than ``max_gap`` apart) one by one with :func:`assemble_route`, which is used for all
    with ``fast=False``. ``line_wkb``: as for :func:`route_checksums`. ``fingerprints``: the
    routes' fingerprints being made already (:func:`start_fingerprints`): the routes are then
    returned without their ``checksum``, which the caller asks for when it needs it.
    """
    if features.crs is None or not features.crs.is_projected:
        raise ValueError("build_routes needs features in a projected (metric) CRS")
    if fingerprints is not None:
        return _assembled(features, None, tol=tol, fast=fast, max_gap=max_gap)
    fingerprints = start_fingerprints(features, line_wkb=line_wkb)
    try:
        return _assembled(features, fingerprints, tol=tol, fast=fast, max_gap=max_gap)
    finally:
        fingerprints.cancel()  # nothing to stop once they came back


def start_fingerprints(
    features: gpd.GeoDataFrame, *, line_wkb: np.ndarray | None = None
) -> Offloaded[dict[str, str]]:
    """The routes' fingerprints (:func:`route_checksums`), being made: string work on another
    core (a forked child) on a large load, else here."""
    apart = offload if len(features) >= CHECKSUMS_APART_MIN else here
    return apart(route_checksums, features, line_wkb=line_wkb)


def _assembled(
    features: gpd.GeoDataFrame,
    fingerprints: Offloaded[dict[str, str]] | None,
    *,
    tol: float,
    fast: bool,
    max_gap: float,
) -> tuple[pd.DataFrame, gpd.GeoDataFrame]:
    """:func:`build_routes`' work, the fingerprints being made meanwhile (None: the caller
    takes them)."""
    order, route, start, uniques = route_groups(features["code"].to_numpy(dtype=object))
    geoms = np.asarray(features.geometry.array, dtype=object)[order]
    rows = features["row"].to_numpy()[order]
    towns = features["township"].to_numpy(dtype=object)[order]
    lengths = shapely.length(geoms)
    count = np.diff(start)
    n_routes = len(uniques)
    if fast:
        chains = _assemble_chains(geoms, lengths, route, start, tol=tol)
    else:
        chains = _Chains(
            np.zeros(n_routes, dtype=bool),
            np.zeros(len(geoms), dtype=np.int64),
            np.zeros(len(geoms), dtype=bool),
        )
    length_m = np.zeros(n_routes)
    end_m = np.zeros(n_routes)
    parts = np.ones(n_routes, dtype=np.int64)
    gaps = np.zeros(n_routes, dtype=np.int64)
    gap_m = np.zeros(n_routes)
    sections = np.ones(n_routes, dtype=np.int64)
    breaks: list[list[dict[str, Any]]] = [[] for _ in range(n_routes)]

    # Simple routes: pieces in chain order, chainage by a running sum along each route.
    sp = np.flatnonzero(chains.simple[route])
    s_route = route[sp]
    s_first = np.zeros(n_routes, dtype=np.int64)
    s_first[chains.simple] = np.cumsum(count[chains.simple]) - count[chains.simple]
    dest = s_first[s_route] + chains.pos[sp]
    s_piece = np.empty(len(sp), dtype=np.int64)
    s_piece[dest] = sp
    s_len = lengths[s_piece]
    s_from = np.empty(len(sp))
    s_to = np.empty(len(sp))
    simple_routes = np.flatnonzero(chains.simple)
    for c in np.unique(count[simple_routes]):
        rs = simple_routes[count[simple_routes] == c]
        cs = np.cumsum(s_len[s_first[rs][:, None] + np.arange(c)], axis=1)
        at = s_first[rs][:, None] + np.arange(c)
        s_to[at] = cs
        s_from[at[:, 1:]] = cs[:, :-1]
        s_from[at[:, 0]] = 0.0
        end_m[rs] = cs[:, -1]
        length_m[rs] = lengths[start[rs][:, None] + np.arange(c)].sum(axis=1)
    s_geom = geoms[s_piece]
    s_flip = chains.flip[s_piece]
    s_geom[s_flip] = shapely.reverse(s_geom[s_flip])
    seg = {
        "route": route[s_piece],
        "seq": chains.pos[s_piece],
        "part": np.zeros(len(sp), dtype=np.int64),
        "section": np.zeros(len(sp), dtype=np.int64),
        "from_m": s_from,
        "to_m": s_to,
        "row": rows[s_piece],
        "township": towns[s_piece],
        "geometry": s_geom,
    }

    # The others, one by one (the general path).
    slow: dict[str, list[Any]] = {k: [] for k in seg}
    for r in np.flatnonzero(~chains.simple).tolist():
        lo, hi = int(start[r]), int(start[r + 1])
        assembled = assemble_route(
            list(geoms[lo:hi]), rows[lo:hi].tolist(), tol=tol, max_gap=max_gap
        )
        town_of_row = dict(zip(rows[lo:hi].tolist(), towns[lo:hi], strict=True))
        length_m[r], end_m[r] = assembled.length_m, assembled.end_m
        parts[r], gaps[r], gap_m[r] = assembled.parts, assembled.gaps, assembled.gap_m
        sections[r], breaks[r] = assembled.sections, assembled.breaks
        for seq, s in enumerate(assembled.segments):
            values = (r, seq, s.part, s.section, s.from_m, s.to_m, s.row, town_of_row.get(s.row))
            for k, v in zip(seg, (*values, s.geometry), strict=True):
                slow[k].append(v)
    for k in seg:
        seg[k] = np.concatenate([seg[k], np.asarray(slow[k], dtype=seg[k].dtype)])
    by = np.lexsort((seg["seq"], seg["route"]))
    seg = {k: v[by] for k, v in seg.items()}

    cols = [c for c in ("name", "road_class", "township", "class_raw") if c in features]
    mode = {c: _modes(features[c].to_numpy(dtype=object)[order], route, n_routes) for c in cols}
    codes = uniques.tolist()
    roads = pd.DataFrame(
        {
            "code": codes,
            "name": mode["name"].tolist(),
            "road_class": [c or "unknown" for c in mode["road_class"].tolist()],
            "class_raw": mode["class_raw"].tolist() if "class_raw" in mode else None,
            "township": mode["township"].tolist(),
            "length_m": length_m,
            "end_m": end_m,
            "parts": parts,
            "gaps": gaps,
            "gap_m": gap_m,
            "sections": sections,
            "breaks": breaks,
            "has_gap": gaps > 0,
            "has_branch": parts > sections,  # each section has its own main line
            "unassigned": features["unassigned"].to_numpy(dtype=bool)[order][start[:-1]],
        }
    )
    segments = gpd.GeoDataFrame(
        {
            "code": uniques[seg["route"]].tolist(),
            "seq": seg["seq"],
            "part": seg["part"],
            "section": seg["section"],
            "from_m": seg["from_m"],
            "to_m": seg["to_m"],
            "length_m": shapely.length(seg["geometry"]),
            "row": seg["row"],
            "township": seg["township"].tolist(),
        },
        geometry=gpd.GeoSeries(seg["geometry"], crs=features.crs),
    )
    if fingerprints is not None:
        fingerprint = fingerprints.result()  # asked for last: made meanwhile on a large load
        roads["checksum"] = [fingerprint[c] for c in codes]
    return roads, segments
