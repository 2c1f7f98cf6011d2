"""Property: whatever is in the cells, no traceback, and every row lands in one bucket."""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path

import numpy as np
from builders import frame, network
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import CRS

from hazards.assembly import build_routes
from hazards.reconcile import Network, reconcile
from hazards.roads import validate_features
from hazards.settings import Settings
from hazards.survey import parse_rows, read_sheet

HEADER = [
    "序号",
    "路线编码",
    "桩号",
    "经度",
    "纬度",
    "隐患类型",
    "隐患描述",
    "风险等级",
    "估算金额(万元)",
    "长度(m)",
]
BUCKETS = {"accepted", "review", "rejected", "duplicate", "empty"}


def _network() -> Network:
    feats = validate_features(frame(network()["features"], 4490)).gdf.to_crs(4546)
    roads, segs = build_routes(feats)
    segs = segs.rename(columns={"code": "route_code"})
    segs["id"] = np.arange(len(segs))
    segs["road_id"] = segs["route_code"].map({c: i for i, c in enumerate(roads["code"])})
    return Network.from_segments(segs, CRS.from_epsg(4546))


NETWORK = _network()
text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30)
cells = st.one_of(
    text,
    st.sampled_from(
        [
            "",
            "K",
            "K1+",
            "K1+200",
            "K99+000",
            "112.35",
            "28.85",
            "NaN",
            "inf",
            "-1e400",
            "112°",
            "112°99'",
            "X001",
            "Y002",
            "Y999",
            "一级",
            "急弯",
            "3.5万",
            "约三万",
            " ",
            "∞",
            "28.8512",
            "112.3512",
            "K0+050",
            "0",
            "-",
            "°'\"",
        ]
    ),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)
rows = st.lists(st.lists(cells, min_size=0, max_size=len(HEADER) + 2), min_size=1, max_size=12)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows)
def test_random_cells_never_crash_and_every_row_is_accounted_for(data: list[list[str]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "s.csv"
        with path.open("w", encoding="utf-8", newline="") as fh:
            csv.writer(fh).writerows([HEADER, *data])
        sheet = read_sheet(path)
        parsed, _ = parse_rows(sheet)
        matches = reconcile(parsed, NETWORK, settings=Settings())
    assert len(matches) == len(parsed) == len(sheet.rows)
    assert {m.status for m in matches} <= BUCKETS
    for m in matches:
        if m.status in ("rejected", "review", "duplicate"):
            assert m.reason
        if m.status in ("accepted", "review"):
            assert m.route_code and m.chainage_m is not None and np.isfinite(m.chainage_m)
