"""The synthetic data of the benchmark: deterministic road networks and survey sheets per size."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

SIZES: dict[str, tuple[int, int]] = {
    "T": (500, 2_000),
    "S": (5_000, 20_000),
    "M": (50_000, 200_000),
    "L": (500_000, 2_000_000),
}
"""Size letter → (road segments, survey rows)."""

SEGS_PER_ROUTE = 10
SEG_VERTICES = 9  # vertices per segment (25 m apart)
VERTEX_STEP_M = 25.0
ROUTES_PER_TOWNSHIP = 2_500  # ~100k survey rows per township at 40 rows per route
CRS = "EPSG:4546"  # CGCS2000 / 3-degree Gauss-Kruger CM 111E
SRID = 4546
HEADER = ["序号", "路线编码", "桩号", "经度", "纬度", "隐患类型", "隐患描述", "风险等级"]
# The words a survey firm writes (the sheet's own vocabulary, not the library's).
CATEGORIES = ["急弯", "陡坡", "临水临崖", "交叉口", "视距不良", "路侧险要"]
DESCRIPTIONS = [
    "弯道视距不良，缺少警告标志",
    "长下坡无避险车道",
    "临崖路段无护栏",
    "平交口无减速带",
    "路侧有深沟",
    "连续弯道无标线",
]
TIER_WORDS = ["一级", "二级", "三级"]


@dataclass
class Dataset:
    """The files generated for one size, with their counts."""

    size: str
    n_segments: int
    n_rows: int
    roads_path: Path
    survey_path: Path
    seg_xy: Any  # shapely LineStrings (EPSG:4546), in file order
    n_routes: int


def route_lines(n_routes: int) -> tuple[np.ndarray, np.ndarray]:
    """Curvy west-to-east routes on a grid around CM 111E, 28°N; returns (routes, segments)."""
    import shapely

    cols = min(136, max(1, math.ceil(math.sqrt(n_routes))))
    k = np.arange(n_routes)
    col, row = k % cols, k // cols
    x0 = 500_000.0 - cols * 2_200.0 / 2 + col * 2_200.0
    y0 = 3_100_000.0 + row * 500.0
    n_v = SEGS_PER_ROUTE * (SEG_VERTICES - 1) + 1
    t = np.arange(n_v) * VERTEX_STEP_M
    phase = (k * 0.7) % (2 * np.pi)
    xs = x0[:, None] + t[None, :]
    ys = y0[:, None] + 60.0 * np.sin(2 * np.pi * t[None, :] / 700.0 + phase[:, None])
    routes = shapely.linestrings(np.stack([xs, ys], axis=2))
    # Segments: vertices [8i, 8i+8] of each route (consecutive, sharing end points).
    starts = np.arange(SEGS_PER_ROUTE) * (SEG_VERTICES - 1)
    idx = starts[:, None] + np.arange(SEG_VERTICES)[None, :]
    sx = xs[:, idx].reshape(-1, SEG_VERTICES)
    sy = ys[:, idx].reshape(-1, SEG_VERTICES)
    segments = shapely.linestrings(np.stack([sx, sy], axis=2))
    return routes, segments


def route_code(k: int) -> str:
    """The code of the ``k``-th synthetic route (``Y000000``, ``Y000001``…)."""
    return f"Y{k:06d}"


def township(k: int) -> str:
    """The township of the ``k``-th route (2,500 routes each)."""
    return f"乡镇{k // ROUTES_PER_TOWNSHIP:03d}"


def generate(size: str, workdir: Path, *, seed: int = 9) -> Dataset:
    """Write ``roads-<size>.gpkg`` and ``survey-<size>.csv`` under ``workdir`` (deterministic
    for a seed; files already there are reused)."""
    import geopandas as gpd
    import pandas as pd
    import pyogrio
    import shapely
    from pyproj import Transformer

    n_segments, n_rows = SIZES[size]
    n_routes = n_segments // SEGS_PER_ROUTE
    routes, segs = route_lines(n_routes)
    workdir.mkdir(parents=True, exist_ok=True)
    roads_path = workdir / f"roads-{size}.gpkg"
    survey_path = workdir / f"survey-{size}.csv"
    rk = np.repeat(np.arange(n_routes), SEGS_PER_ROUTE)
    if not roads_path.exists():
        codes = np.array([route_code(k) for k in range(n_routes)], dtype=object)
        towns = np.array([township(k) for k in range(n_routes)], dtype=object)
        gdf = gpd.GeoDataFrame(
            {
                "路线编码": codes[rk],
                "路线名称": np.char.add("乡道", codes[rk].astype(str)).astype(object),
                "行政等级": "乡道",
                "乡镇": towns[rk],
            },
            geometry=gpd.GeoSeries(segs, crs=CRS),
        )
        tmp = roads_path.with_suffix(".tmp.gpkg")
        tmp.unlink(missing_ok=True)
        pyogrio.write_dataframe(gdf, tmp, layer="roads")
        tmp.rename(roads_path)
    if not survey_path.exists():
        rng = np.random.default_rng(seed)
        which = rng.integers(0, n_routes, n_rows)
        length = shapely.length(routes)
        d = rng.random(n_rows) * length[which]
        pts = shapely.line_interpolate_point(routes[which], d)
        x = shapely.get_x(pts)
        y = shapely.get_y(pts) + rng.uniform(-12.0, 12.0, n_rows)
        lon, lat = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True).transform(x, y)
        has_code = rng.random(n_rows) < 0.9
        has_ch = rng.random(n_rows) < 0.7
        dm = np.round(d).astype(int)
        ch = np.char.add(
            np.char.add(np.char.add("K", (dm // 1000).astype(str)), "+"),
            np.char.zfill((dm % 1000).astype(str), 3),
        )
        cat = rng.integers(0, len(CATEGORIES), n_rows)
        desc = rng.integers(0, len(DESCRIPTIONS), n_rows)
        tier = rng.integers(0, 3, n_rows)
        codes = np.array([route_code(k) for k in range(n_routes)], dtype=object)
        df = pd.DataFrame(
            {
                "序号": np.arange(1, n_rows + 1),
                "路线编码": np.where(has_code, codes[which], ""),
                "桩号": np.where(has_ch, ch, ""),
                "经度": np.char.mod("%.7f", lon),
                "纬度": np.char.mod("%.7f", lat),
                "隐患类型": np.array(CATEGORIES, dtype=object)[cat],
                "隐患描述": np.array(DESCRIPTIONS, dtype=object)[desc],
                "风险等级": np.array(TIER_WORDS, dtype=object)[tier],
            }
        )
        tmp = survey_path.with_suffix(".tmp.csv")
        df.to_csv(tmp, index=False, encoding="utf-8")
        tmp.rename(survey_path)
    return Dataset(size, n_segments, n_rows, roads_path, survey_path, segs, n_routes)
