"""The maps' look and words: tier colours, status outlines, and the labels in English and Chinese.

:mod:`hazards.mapping` draws with these; the page's script (``hazards/static/hazards_map.js``)
gets them in its configuration, so the HTML table, the diagram and the popups say the same.
"""

from __future__ import annotations

from typing import Any

LANGS = ("en", "zh")
TILES = {"none": None, "osm": "OpenStreetMap"}
TIER_COLOURS = {"I": "#d7191c", "II": "#f57c00", "III": "#f2c500", "": "#8c8c8c"}
"""Hazard fill by risk tier. No road colour repeats one of these (see :data:`ROAD_STYLES`)."""
NO_OPEN_COLOUR = "#01665e"
"""A surveyed road with nothing open (teal: green is the outline of work done)."""
STATUS_STYLES: dict[str, dict[str, Any]] = {
    "identified": {"color": "#333333", "weight": 1, "fillOpacity": 0.9},
    "review": {"color": "#333333", "weight": 1.5, "dashArray": "2,2", "fillOpacity": 0.9},
    "planned": {"color": "#1f5fbf", "weight": 2.5, "fillOpacity": 0.9},
    "in_progress": {"color": "#1f5fbf", "weight": 2.5, "dashArray": "3,2", "fillOpacity": 0.9},
    "reported_done": {"color": "#1a9641", "weight": 2.5, "dashArray": "4,2", "fillOpacity": 0.5},
    "verified": {"color": "#1a9641", "weight": 3, "fillOpacity": 0.15, "mark": "check"},
    "reopened": {"color": "#7b2cbf", "weight": 3, "fillOpacity": 0.9},
    "rejected": {
        "color": "#888888",
        "weight": 1,
        "fillColor": "#bbbbbb",
        "fillOpacity": 0.4,
        "mark": "cross",
    },
}
"""Hazard outline by status: each status has its own symbol (colour, width, dash, fill opacity
and, for verified and rejected, a mark drawn inside: a tick, a cross)."""
ROAD_STYLES: dict[str, dict[str, dict[str, Any]]] = {
    "worst": {
        "I": {"color": "#7a0177", "weight": 5, "opacity": 0.9},
        "II": {"color": "#c51b8a", "weight": 4.5, "opacity": 0.9},
        "III": {"color": "#f768a1", "weight": 4, "opacity": 0.9},
        "clear": {"color": NO_OPEN_COLOUR, "weight": 4, "opacity": 0.9},
    },
    "pct": {
        "p0": {"color": "#8c510a", "weight": 4, "opacity": 0.9},
        "p25": {"color": "#d8b365", "weight": 4, "opacity": 0.9},
        "p50": {"color": "#80cdc1", "weight": 4, "opacity": 0.9},
        "p75": {"color": "#35978f", "weight": 4, "opacity": 0.9},
        "p100": {"color": "#01665e", "weight": 4, "opacity": 0.9},
        "clear": {"color": "#4d4d4d", "weight": 4, "opacity": 0.9},
    },
}
"""Road colouring by mode (the layer control's road choices), class by class: ``worst`` by the
worst open tier (``clear``: surveyed, nothing open); ``pct`` by the share remediated, in steps
(``p0`` below 25 %, ``p25``, ``p50``, ``p75``, ``p100`` all done; ``clear``: surveyed, no hazard
to remediate). Purples and browns/teals: never a tier colour, so a road is not read as a
tier I hazard. A road with no hazard ever recorded is :data:`UNSURVEYED_STYLE` in every mode."""
UNSURVEYED_STYLE: dict[str, Any] = {
    "color": "#90a4ae",
    "weight": 3,
    "opacity": 0.9,
    "dashArray": "6,6",
}
"""A road with no hazard recorded (not surveyed): blue-grey and dashed, never 'nothing open'."""
OTHER_ROADS_STYLE: dict[str, Any] = {"color": "#a1887f", "weight": 2, "opacity": 0.8}
"""On a batch's map, the county's roads without a site of the batch: thin, warm grey-brown
(no tier, status, road class or crash colour), beneath everything, with its own legend entry."""
HIGHLIGHT_COLOUR = "#00e5ff"
"""The halo around what the search box found."""
ROUTE_LABEL_ZOOM = 13
"""From this zoom on, route codes are written along the roads in view."""


def road_look() -> dict[str, Any]:
    """What the page's script needs to draw roads and search results (hazards_map.js config):
    ``roadStyles``, ``unsurveyedStyle``, ``otherRoadsStyle``, ``highlight`` and ``labelZoom``."""
    return {
        "roadStyles": ROAD_STYLES,
        "unsurveyedStyle": UNSURVEYED_STYLE,
        "otherRoadsStyle": OTHER_ROADS_STYLE,
        "highlight": HIGHLIGHT_COLOUR,
        "labelZoom": ROUTE_LABEL_ZOOM,
    }


MARKER_RADIUS = 6
ROAD_WEIGHT = 4

LABELS: dict[str, dict[str, Any]] = {
    "en": {
        "overview": "Road hazards: overview",
        "road": "Road dossier",
        "batch": "Batch",
        "count": "{n} hazards",
        "unplaced": "{n} without a position not shown",
        "tiers": {
            "I": "Tier I (high)",
            "II": "Tier II (medium)",
            "III": "Tier III (low)",
            "": "No tier",
        },
        "statuses": {
            "identified": "Open",
            "review": "Under review",
            "planned": "Planned",
            "in_progress": "In progress",
            "reported_done": "Done (reported)",
            "verified": "Verified",
            "reopened": "Reopened",
            "rejected": "Rejected",
        },
        "fields": {
            "id": "Hazard",
            "route": "Route",
            "chainage": "Chainage",
            "category": "Category",
            "description": "Description",
            "tier": "Risk tier",
            "status": "Status",
            "batch": "Batch",
            "event": "Last event",
            "cost": "Estimated cost",
            "name": "Name",
            "township": "Township",
            "length": "Length (km)",
            "open": "Open hazards",
            "done": "Remediated",
            "worst": "Worst open tier",
            "pct": "Remediated share",
            "surveyed": "Survey",
            "extent": "Extent",
        },
        "yuan": "CNY",
        "costSources": {"survey": "survey", "library": "cost library"},
        "none": "none open",
        "statusLayer": "Status",
        "roadsWorst": "Roads: worst open tier",
        "roadsPct": "Roads: % remediated",
        "roadsNone": "Roads: hidden",
        "legendTiers": "Risk tier (fill)",
        "legendStatuses": "Status (outline)",
        "legendRoads": "Roads",
        "roadClasses": {
            "worst": {
                "I": "Worst open: tier I",
                "II": "Worst open: tier II",
                "III": "Worst open: tier III",
                "clear": "Surveyed, nothing open",
            },
            "pct": {
                "p0": "Remediated 0–24%",
                "p25": "Remediated 25–49%",
                "p50": "Remediated 50–74%",
                "p75": "Remediated 75–99%",
                "p100": "Remediated 100%",
                "clear": "Surveyed, no hazard found",
            },
        },
        "unsurveyed": "Not surveyed (no hazard recorded)",
        "legendExtent": "Extent of a linear hazard (tier colour)",
        "legendButton": "Legend",
        "searchPlaceholder": "Hazard id, route, road name or Y005 K3+200",
        "notFound": "Not found",
        "several": "Several roads match: {list}",
        "outside": "{route} runs from {from} to {to}",
        "found": "Search result",
        "strip": "Chainage diagram",
        "table": "Hazards",
        "townships": "Townships",
        "class": "Class",
        "length": "Length",
        "end": "Chainage range",
        "gap": "Gaps",
        "no_hazards": "No hazards recorded on this road.",
        "no_hazards_filtered": "No hazard of this road matches the filter.",
    },
    "zh": {
        "overview": "道路安全隐患总览",
        "road": "一路一档",
        "batch": "批次",
        "count": "隐患 {n} 处",
        "unplaced": "另有 {n} 处无坐标，未显示",
        "tiers": {
            "I": "I级（高风险）",
            "II": "II级（中风险）",
            "III": "III级（低风险）",
            "": "未分级",
        },
        "statuses": {
            "identified": "待治理",
            "review": "待核查",
            "planned": "已计划",
            "in_progress": "治理中",
            "reported_done": "已完工（待验收）",
            "verified": "已验收",
            "reopened": "重新开启",
            "rejected": "已剔除",
        },
        "fields": {
            "id": "隐患编号",
            "route": "路线编码",
            "chainage": "桩号",
            "category": "隐患类型",
            "description": "隐患描述",
            "tier": "风险等级",
            "status": "状态",
            "batch": "批次",
            "event": "最近记录",
            "cost": "估算费用",
            "name": "路线名称",
            "township": "乡镇",
            "length": "里程（公里）",
            "open": "未治理隐患",
            "done": "已治理",
            "worst": "未治理最高风险等级",
            "pct": "治理完成率",
            "surveyed": "排查",
            "extent": "起止桩号",
        },
        "yuan": "元",
        "costSources": {"survey": "勘察", "library": "成本库"},
        "none": "无未治理隐患",
        "statusLayer": "状态",
        "roadsWorst": "道路：未治理最高风险等级",
        "roadsPct": "道路：治理完成率",
        "roadsNone": "道路：不显示",
        "legendTiers": "风险等级（填充色）",
        "legendStatuses": "状态（边框）",
        "legendRoads": "道路",
        "roadClasses": {
            "worst": {
                "I": "未治理最高：I级",
                "II": "未治理最高：II级",
                "III": "未治理最高：III级",
                "clear": "已排查，无未治理隐患",
            },
            "pct": {
                "p0": "治理完成率 0–24%",
                "p25": "治理完成率 25–49%",
                "p50": "治理完成率 50–74%",
                "p75": "治理完成率 75–99%",
                "p100": "治理完成率 100%",
                "clear": "已排查，未发现隐患",
            },
        },
        "unsurveyed": "未排查（无隐患记录）",
        "legendExtent": "线状隐患范围（按风险等级着色）",
        "legendButton": "图例",
        "searchPlaceholder": "隐患编号、路线编码、路线名称或桩号（如 Y005 K3+200）",
        "notFound": "未找到",
        "several": "匹配多条路线：{list}",
        "outside": "{route} 桩号范围为 {from} 至 {to}",
        "found": "查找结果",
        "strip": "桩号示意图",
        "table": "隐患清单",
        "townships": "途经乡镇",
        "class": "行政等级",
        "length": "里程",
        "end": "桩号范围",
        "gap": "缺测路段",
        "no_hazards": "该路线暂无隐患记录。",
        "no_hazards_filtered": "该路线没有符合筛选条件的隐患。",
    },
}

# ----------------------------------------------------------------------------- crashes
SEVERITY_STYLES: dict[str, dict[str, Any]] = {
    "K": {"fillColor": "#000000", "color": "#e6001a", "weight": 2.5, "radius": 7},
    "A": {"fillColor": "#6a1b9a", "color": "#ffffff", "weight": 1, "radius": 5.5},
    "B": {"fillColor": "#ab47bc", "color": "#ffffff", "weight": 1, "radius": 4.5},
    "C": {"fillColor": "#ce93d8", "color": "#ffffff", "weight": 1, "radius": 4},
    "O": {"fillColor": "#9e9e9e", "color": "#ffffff", "weight": 1, "radius": 3.5},
    "": {"fillColor": "#bdbdbd", "color": "#ffffff", "weight": 1, "radius": 3.5},
}
"""Crash symbols by KABCO severity (fatal largest, black with a red ring, drawn on top); purple
shades, so that crashes never look like the hazards' tier colours."""
BLACK_SPOT_STYLE = {"color": "#76ff03", "weight": 12, "opacity": 0.65}
"""Black spots: a wide lime band, a colour no road mode, tier, status, crash or screening site
has (over white at its opacity, far from every road style: the magenta one looked pink III)."""
SCREEN_RAMP = ("#fee391", "#fe9929", "#d94801", "#7f2704")
"""Screening sites, from the lowest value shown to the highest."""

CRASH_LABELS: dict[str, dict[str, Any]] = {
    "en": {
        "crashes": "Crashes",
        "crashCount": "{n} crashes",
        "blackSpots": "Black spots",
        "severities": {
            "K": "Fatal (K)",
            "A": "Serious injury (A)",
            "B": "Minor injury (B)",
            "C": "Possible injury (C)",
            "O": "Property damage only (O)",
            "": "Severity unknown",
        },
        "fields": {
            "date": "Date",
            "time": "Time",
            "type": "Crash type",
            "severity": "Severity",
            "fatalities": "Killed",
            "injuries": "Injured",
            "serious": "Seriously injured",
            "weather": "Weather",
            "light": "Light",
            "route": "Route",
            "chainage": "Chainage",
            "source": "Source",
            "id": "Crash id",
            "where": "Location",
            "rank": "Rank",
            "site": "Site",
            "range": "Chainage range",
            "crashes": "Crashes",
            "ksi": "Fatal + serious (KSI)",
            "epdo": "EPDO",
            "value": "Value",
            "routes": "Routes",
        },
        "unattached": "not on a road (unattached)",
        "junction": "at junction {id}",
        "screen": "Network screening",
        "units": {
            "cell": "100 m cells",
            "window": "sliding windows",
            "junction": "junctions",
            "route": "routes (per km)",
        },
        "measures": {
            "count": "crash count",
            "ksi": "fatal + serious (KSI)",
            "epdo": "EPDO",
            "eb-excess": "Empirical Bayes excess",
        },
        "period": "Period",
        "allDates": "all dates",
        "sites": "{n} sites",
        "rampText": "lower → higher value",
        "strip": "Crashes",
        "blackSpotRule": "top {n} windows of {m} m, {k} or more crashes, not overlapping",
    },
    "zh": {
        "crashes": "交通事故",
        "crashCount": "事故 {n} 起",
        "blackSpots": "事故多发点段",
        "severities": {
            "K": "死亡事故（K）",
            "A": "重伤事故（A）",
            "B": "轻伤事故（B）",
            "C": "可能受伤（C）",
            "O": "财产损失事故（O）",
            "": "严重程度不详",
        },
        "fields": {
            "date": "日期",
            "time": "时间",
            "type": "事故形态",
            "severity": "严重程度",
            "fatalities": "死亡人数",
            "injuries": "受伤人数",
            "serious": "重伤人数",
            "weather": "天气",
            "light": "照明条件",
            "route": "路线编码",
            "chainage": "桩号",
            "source": "来源",
            "id": "事故编号",
            "where": "位置",
            "rank": "排名",
            "site": "点段",
            "range": "桩号范围",
            "crashes": "事故数",
            "ksi": "死亡及重伤事故（KSI）",
            "epdo": "当量财损事故数（EPDO）",
            "value": "指标值",
            "routes": "相交路线",
        },
        "unattached": "未匹配到道路",
        "junction": "位于交叉口 {id}",
        "screen": "路网事故筛查",
        "units": {
            "cell": "100米单元",
            "window": "滑动窗口",
            "junction": "交叉口",
            "route": "整条路线（每公里）",
        },
        "measures": {
            "count": "事故数",
            "ksi": "死亡及重伤事故数（KSI）",
            "epdo": "当量财损事故数（EPDO）",
            "eb-excess": "经验贝叶斯超额事故数",
        },
        "period": "统计时段",
        "allDates": "全部",
        "sites": "点段 {n} 处",
        "rampText": "指标值 低 → 高",
        "strip": "事故",
        "blackSpotRule": "长 {m} 米的窗口，事故 {k} 起及以上，不重叠，取前 {n} 处",
    },
}
"""The words of the crash layers, the black spots and the screening map, in each language."""
