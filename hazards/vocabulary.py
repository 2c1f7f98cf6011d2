"""The words of the inventory, each defined once: tiers, statuses and their transitions, road
classes, hazard categories.

Everything else (the database's CHECK constraints, the SQL, the CLI's choices, the maps'
legends) takes its sets from here. Importing this module is cheap: it depends on nothing but
:mod:`hazards.errors`.
"""

from __future__ import annotations

import math
import re
import unicodedata
from typing import Any

from hazards.errors import InputError

# ----------------------------------------------------------------------------- risk tiers
TIERS = ("I", "II", "III")
"""Risk tiers, most urgent first."""

TIER_WORDS: dict[str, tuple[str, ...]] = {
    "I": ("i", "1", "一级", "一", "高", "高风险", "high", "重大", "ⅰ"),
    "II": ("ii", "2", "二级", "二", "中", "中风险", "medium", "较大", "ⅱ"),
    "III": ("iii", "3", "三级", "三", "低", "低风险", "low", "一般", "ⅲ"),
}
"""How surveys write each tier (compared after NFKC, lower case)."""

# ----------------------------------------------------------------------------- statuses
STATUSES = (
    "identified",
    "review",
    "planned",
    "in_progress",
    "reported_done",
    "verified",
    "reopened",
    "rejected",
)
"""A hazard's remediation status, in the order of the lifecycle."""

TRANSITIONS: dict[str, tuple[str, ...]] = {
    "identified": ("planned", "rejected"),
    "review": ("identified", "rejected"),
    "planned": ("in_progress", "reported_done"),
    "in_progress": ("reported_done",),
    "reported_done": ("verified", "reopened"),
    "verified": ("reopened",),
    "reopened": ("planned", "rejected"),
    "rejected": (),
}
"""The status changes allowed: every change of status (a ``status set``, a review decision, a
plan commit, a completion report, a re-check) is checked against this table."""

DONE_STATUSES = ("reported_done", "verified")
"""Remediated: the work is reported finished (and perhaps verified)."""

OPEN_STATUSES = tuple(s for s in STATUSES if s not in DONE_STATUSES and s != "rejected")
"""Still a hazard on the road: neither remediated nor rejected."""

PLANNABLE_STATUSES = tuple(s for s in STATUSES if "planned" in TRANSITIONS[s])
"""Open hazards a plan may fund (those that may become ``planned``)."""

STATUS_ZH = {
    "identified": "待治理",
    "review": "待核查",
    "planned": "已计划",
    "in_progress": "治理中",
    "reported_done": "已完工（待验收）",
    "verified": "已验收",
    "reopened": "重新开启",
    "rejected": "已剔除",
}
"""Each status in Chinese (the words of the maps' legends and the contractor's work list)."""

DONE_WORDS = {
    "reported_done",
    "done",
    "completed",
    "complete",
    "finished",
    "完成",
    "已完成",
    "已整治",
    "竣工",
    "已竣工",
    "完工",
    "已完工",
    "已整改",  # the annual report's word for a fixed site
    "整改完成",
    "已处治",
    STATUS_ZH["reported_done"],
    "完工（待验收）",  # the work list's own word, written without 已 (or its brackets)
    "完工(待验收)",
    "完工待验收",
    "已完工待验收",
}
"""How a contractor's report says a site is finished (status reported_done)."""

STARTED_WORDS = {"in_progress", "in progress", "in-progress", "started", "施工中", "在建", "进行中",
                 "已开工", "整改中", "处治中", STATUS_ZH["in_progress"]}  # fmt: skip
"""How a contractor's report says work on a site has begun (status in_progress)."""

NOT_REPORTED = {
    "",
    "planned",
    "identified",
    "reopened",
    "review",
    "verified",
    "rejected",
    "未开工",
    "未施工",
    "未动工",
    "尚未开工",
    "尚未施工",
    "计划",
    *(STATUS_ZH[s] for s in STATUS_ZH if s not in ("in_progress", "reported_done")),
}
"""Statuses a contractor does not report (as exported, or set by the county): not a report."""


REVIEW_OUTCOME = {True: "identified", False: "rejected"}
"""A review decision's new status: accepted → identified, rejected → rejected."""

RECHECK_RESULTS = ("pass", "fail")
RECHECK_WORDS = {"pass": "pass", "合格": "pass", "通过": "pass", "fail": "fail",
                 "不合格": "fail", "未通过": "fail"}  # fmt: skip
"""A re-check's result as written (the re-check sheet's 复查结果（合格/不合格）, or pass/fail)."""
RECHECK_OUTCOME = {"pass": "verified", "fail": "reopened"}
"""A re-check's new status: pass → verified, fail → reopened."""

MATCH_STATUSES = ("accepted", "review", "rejected")
BATCH_STATUSES = ("draft", "issued", "closed")
PLAN_STATUSES = ("draft", "committed")


def check_transition(public_id: str, current: str, to: str) -> None:
    """Raise :class:`InputError` unless the change ``current → to`` is in :data:`TRANSITIONS`."""
    if to not in STATUSES:
        raise InputError(f"{to!r} is not a status. Statuses: {', '.join(STATUSES)}.", param="to")
    if to not in TRANSITIONS[current]:
        allowed = ", ".join(TRANSITIONS[current]) or "none (it is final)"
        raise InputError(
            f"Hazard {public_id} is {current}; it cannot go to {to}. "
            f"From {current} it can go to: {allowed}."
        )


# ----------------------------------------------------------------------------- costs
COST_SOURCES = ("survey", "library")
"""Where a hazard's effective cost comes from: the survey's own estimate when it gave one,
else the cost library's (``hazards.db.sql.EFFECTIVE_COST`` is the one SQL of that rule)."""

# ----------------------------------------------------------------------------- road classes
ROAD_CLASSES = (
    "national",
    "provincial",
    "county",
    "township",
    "village",
    "special",
    "other",
    "unknown",
)
"""Administrative road classes (国道, 省道, 县道, 乡道, 村道, 专用公路, other), and ``unknown``:
a road whose class no class field, class mapping or Chinese route code says."""

CLASS_WORDS: dict[str, tuple[str, ...]] = {
    "national": ("国道", "国", "national", "g", "national road", "national highway"),
    "provincial": ("省道", "省", "provincial", "s", "provincial road", "provincial highway"),
    "county": ("县道", "县", "county", "x", "county road"),
    "township": ("乡道", "乡", "township", "y", "township road"),
    "village": ("村道", "村", "village", "c", "village road"),
    "special": ("专用公路", "专用道", "专用", "special", "z"),
    "other": ("other", "其他"),
    "unknown": ("unknown", "未知"),
}
"""How road files write each class."""

CODE_PREFIX = {
    "G": "national",
    "S": "provincial",
    "X": "county",
    "Y": "township",
    "C": "village",
    "Z": "special",
}
"""The class of a route from the first letter of its code (GB/T 917)."""

CHINESE_CODE = re.compile(r"^([GSXYCZ])\d{3}(?:\d{6})?(?:[A-Z]|-\d{1,2})?$")
"""A Chinese route code (GB/T 917): class letter and three digits (``X012``, ``G318``),
optionally the six-digit county code (``Y001511425``) and a one-letter or ``-1`` suffix; only
such codes give a class by their first letter (``S1000W`` or ``I-15`` give none)."""

OSM_HIGHWAY_CLASS: dict[str, str] = {
    "motorway": "national",
    "trunk": "national",
    "primary": "provincial",
    "secondary": "county",
    "tertiary": "township",
    "unclassified": "village",
    "track": "village",
    "residential": "other",
    "living_street": "other",
    "service": "other",
    **{
        f"{h}_link": c
        for h, c in (
            ("motorway", "national"),
            ("trunk", "national"),
            ("primary", "provincial"),
            ("secondary", "county"),
            ("tertiary", "township"),
        )
    },
}
"""The vehicular OpenStreetMap ``highway`` values loaded by default, and the road class each
gives (a class map like any other: the ``[class_map]`` table or a load's class map overrides
it; a Chinese ``ref`` such as ``G207`` gives its own class first). Motorways and trunk roads
are mostly 国道, primary roads 省道, secondary 县道, tertiary 乡道, unclassified roads and
tracks the rural 村道; residential and living streets and service roads are urban streets or
access roads, no administrative class (``other``). docs/roads.md gives the table."""

OSM_HIGHWAYS = tuple(OSM_HIGHWAY_CLASS)
"""The ``highway`` values a load keeps by default: the vehicular roads and their links."""

OSM_OTHER_HIGHWAYS = (
    "footway",
    "path",
    "cycleway",
    "steps",
    "pedestrian",
    "bridleway",
    "corridor",
    "platform",
    "construction",
    "proposed",
    "bus_stop",
    "elevator",
    "raceway",
    "busway",
    "bus_guideway",
    "road",
    "escape",
    "abandoned",
    "disused",
    "via_ferrata",
    "crossing",
    "services",
    "rest_area",
    "emergency_bay",
    "trailhead",
)
"""Other ``highway`` values OpenStreetMap uses (not loaded by default); with
:data:`OSM_HIGHWAYS` they tell a table exported from OpenStreetMap by its ``highway`` column."""

# ----------------------------------------------------------------------------- categories
CATEGORY_WORDS: dict[str, tuple[str, ...]] = {
    "sharp_curve": ("急弯", "急弯路段", "弯道", "sharp curve", "sharp_curve", "curve"),
    "consecutive_curves": ("连续急弯", "连续弯道", "consecutive curves", "consecutive_curves"),
    "steep_grade": ("陡坡", "陡坡路段", "steep grade", "steep_grade", "steep slope"),
    "long_downgrade": ("连续下坡", "长下坡", "连续长下坡", "long downgrade", "long_downgrade"),
    "roadside_water_or_cliff": (
        "临水临崖",
        "临水",
        "临崖",
        "临水路段",
        "临崖路段",
        "roadside water or cliff",
        "roadside_water_or_cliff",
        "drop",
    ),
    "dangerous_roadside": ("路侧险要", "路侧险要路段", "dangerous roadside", "dangerous_roadside"),
    "poor_sight_distance": ("视距不良", "视距不足", "poor sight distance", "poor_sight_distance"),
    "irregular_junction": (
        "交叉口不规范",
        "平交路口不规范",
        "交叉路口",
        "irregular junction",
        "irregular_junction",
        "junction",
    ),
    "through_village": ("穿村过镇", "穿村过镇路段", "through village", "through_village"),
    "missing_signs_markings": (
        "标志标线缺失",
        "标志缺失",
        "标线缺失",
        "标志标线不全",
        "missing signs",
        "missing_signs_markings",
    ),
    "pavement_defect": ("路面病害", "路面破损", "坑槽", "pavement defect", "pavement_defect"),
}
"""The hazard categories (docs/survey.md) with the survey terms that mean each."""

PLACE_WORDS: dict[str, tuple[str, ...]] = {
    "irregular_junction": ("交叉口", "平交路口", "平交口", "平面交叉", "路口"),
}
"""Words that say where a hazard is as much as what it is: a category when the cell says only
that (交叉口), but inside a longer text only when no word of :data:`CATEGORY_WORDS` is in it
(路口急弯 is a sharp curve at a junction, 交叉口陡坡 a steep grade), and never in a level
crossing's text (:data:`LEVEL_CROSSING_WORDS`)."""

LACKING_WORDS: dict[str, tuple[str, ...]] = {
    "dangerous_roadside": ("缺少护栏", "护栏缺失", "缺护栏", "无护栏", "路侧无护栏"),
    "missing_signs_markings": ("缺少标志", "缺少标线", "缺少标志标线", "无标志", "无标线"),
}
"""Words that say what a place lacks (a guardrail, signs) more than what the hazard is: a
category when the cell says only that (缺少护栏) or names no word of :data:`CATEGORY_WORDS`,
and before :data:`PLACE_WORDS` (路口缺少标志, 平交路口无标志 and 铁路道口无护栏 are what they
lack); 临水无护栏 is water beside the road and 急弯缺少标志 a sharp curve."""

LEVEL_CROSSING_WORDS = ("铁路", "铁道", "公铁", "道口")
"""A road crossing a railway (铁路平交路口, 铁路道口): not a junction of roads."""

CATEGORIES = (*CATEGORY_WORDS, "other")
"""Every category term; ``other`` holds what a survey wrote that is not in the vocabulary."""

CATEGORY_ZH = {**{c: words[0] for c, words in CATEGORY_WORDS.items()}, "other": "其他"}
"""Each category in Chinese: the first survey term of :data:`CATEGORY_WORDS`."""

TIER_ZH = {"I": "I级", "II": "II级", "III": "III级"}
"""Each tier in Chinese."""

UNIT_ZH = {"m": "米", "each": "处", "m2": "平方米"}
"""The cost library's units in Chinese."""

CLASS_ZH = {
    "national": "国道",
    "provincial": "省道",
    "county": "县道",
    "township": "乡道",
    "village": "村道",
    "special": "专用公路",
    "other": "其他道路",
    "unknown": "等级不详",
}
"""Each road class in Chinese (the first word of :data:`CLASS_WORDS`, and 其他道路/等级不详)."""

EVENT_KINDS = (
    "status",
    "created",
    "seen_again",
    "updated",
    "completion",
    "recheck",
    "review",
    "tier_override",
    "road_reload",
    "route_renamed",
)
"""The kinds of a hazard's history event (``hazard_events.kind``)."""

EVENT_KIND_ZH = {
    "status": "状态变更",
    "created": "录入",
    "seen_again": "再次排查发现",  # a later survey found it again (复查 is the re-check)
    "updated": "勘察更新",
    "completion": "施工单位填报",  # a start (治理中) or a finish (已完工) the contractor reported
    "recheck": "复核",
    "review": "核查",
    "tier_override": "调整风险等级",
    "road_reload": "路网更新",
    "route_renamed": "路线更名",
}
"""Each event kind in Chinese (a history line shows the new status, else the kind)."""

EVENT_KIND_EN = {
    "status": "status change",
    "created": "recorded",
    "seen_again": "seen again",
    "updated": "updated by a survey",
    "completion": "contractor's report",
    "recheck": "re-check",
    "review": "review",
    "tier_override": "tier set",
    "road_reload": "roads reloaded",
    "route_renamed": "route renamed",
}
"""Each event kind in English words (what the maps and tables show for the code)."""


def event_word(what: str | None, lang: str) -> str | None:
    """An event's new status or kind (``hazard_events.to_status`` or ``kind``) in ``lang``:
    a status by :data:`STATUS_ZH` in zh (as it is in en), a kind by :data:`EVENT_KIND_ZH` /
    :data:`EVENT_KIND_EN`; anything else as it is."""
    if what is None:
        return None
    if lang == "zh":
        return STATUS_ZH.get(what) or EVENT_KIND_ZH.get(what) or what
    return EVENT_KIND_EN.get(what, what)


SEVERITIES = ("K", "A", "B", "C", "O")
"""Crash severity, KABCO, worst first (docs/crashes.md): K fatal, A serious injury, B minor
injury, C possible injury, O property damage only; K and A are the KSI crashes."""


SURVEY_ROW_NOTE = re.compile(r"^survey (\d+) row (\S+)$")
"""The note the import gives a hazard's ``created`` event: ``survey 12 row 7``."""

_RELOADED = r"route (\S+) was reloaded from (.+?): "
_WAS_AT = r"; it was at (.+), now nearest (\S+)$"
RELOAD_REVIEW_ZH: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(
            _RELOADED + "the hazard has neither a point nor a chainage to measure it by" + _WAS_AT
        ),
        r"路线 \1 按 \2 重新载入：该隐患既无坐标也无桩号，无法重新定位；原桩号 \3，现最近桩号 \4",
    ),
    (
        re.compile(
            _RELOADED + r"the hazard is ([\d.]+) m from the new line "
            r"\(more than the ([\d.]+) m accept distance\)" + _WAS_AT
        ),
        r"路线 \1 按 \2 重新载入：该隐患距新路线 \3 米（超过接受距离 \4 米），转待核查；"
        r"原桩号 \5，现最近桩号 \6",
    ),
)
"""A road reload sending a hazard to review (:mod:`hazards.db.store.reattach`), and its
Chinese: the note of its ``road_reload`` event, and the end of its review reason
(:func:`hazards.reason_words.reason_text`); with :func:`reload_words`."""


def reload_words(zh: str) -> str:
    """What :data:`RELOAD_REVIEW_ZH` leaves of a hazard that had no chainage, in Chinese."""
    return zh.replace("原桩号 no chainage", "原无桩号")


EVENT_NOTES_ZH: tuple[tuple[re.Pattern[str], str], ...] = (
    (SURVEY_ROW_NOTE, r"勘察批次 \1 第 \2 条"),  # its row id (序号), as the import's summary
    (re.compile(r"^corrected by survey (\d+)$"), r"勘察批次 \1 更正"),
    (re.compile(r"^corrected by survey (\d+): (.*)$", re.S), r"勘察批次 \1 更正：\2"),
    (
        re.compile(r"^survey (\d+): row (\S+) repeats (\S+)$"),
        r"勘察批次 \1：第 \2 条为已有隐患 \3 的再次发现",
    ),
    (
        re.compile(r"^survey (\d+): row (\S+) repeats (\S+) \((reported_done|verified)\)$"),
        r"勘察批次 \1：第 \2 条为已有隐患 \3（\4）的再次发现",
    ),
    (re.compile(r"^survey (\d+): (.*)$", re.S), r"勘察批次 \1：\2"),
    (re.compile(r"^accepted$"), "核查通过"),
    (re.compile(r"^re-check pass$"), "回头看：通过"),
    (re.compile(r"^re-check fail$"), "回头看：未通过"),
    (re.compile(r"^completion report (.+)$", re.S), r"完工报告 \1"),
    (re.compile(r"^plan (.+), batch (.+)$"), r"治理计划 \1，批次 \2"),
    (re.compile(r"^route (\S+) renumbered (\S+)$"), r"路线 \1 改编号为 \2"),
    (re.compile(r"^renamed to (\S+)$"), r"改编号为 \1"),
    (
        re.compile(r"^route (\S+) reloaded from (.+): (\S+) -> (\S+)$"),
        r"路线 \1 按 \2 重新载入：桩号 \3 → \4",
    ),
    *RELOAD_REVIEW_ZH,
)
"""The notes hazards writes into ``hazard_events`` itself, and their Chinese: the import
(``survey 12 row 7``), a survey's correction and seen-again notes, an accepted review, a plan's
commit, a route renumbered (``roads rename``) and a road reload (reattach: kept, or sent to
review with the reason). Each pattern matches one note whole; the first that matches wins."""


def event_note(note: str | None, lang: str) -> str | None:
    """An event's note in ``lang``: a note hazards wrote itself (:data:`EVENT_NOTES_ZH`, e.g.
    the import's ``survey 12 row 7``: ``勘察批次 12 第 7 条``) in Chinese in zh; every other
    note (typed by a person) as it is. The one place notes are put into words, for the pages
    and ``history``."""
    if note is None or lang != "zh":
        return note
    for pattern, zh in EVENT_NOTES_ZH:
        if pattern.match(note):
            out = reload_words(pattern.sub(zh, note, count=1))
            for status in ("reported_done", "verified"):  # a repeat of a site done
                out = out.replace(f"（{status}）", f"（{STATUS_ZH[status]}）")
            return out
    return note


def money_text(value: float | int | None, *, lang: str) -> str:
    """An amount of CNY as every table and page shows it: ``3,681.95 万元`` (zh) or
    ``CNY 36,819,500`` (en); empty for None or a number that is not finite."""
    if value is None or value != value or value in (float("inf"), float("-inf")):
        return ""
    if lang == "zh":
        return f"{value / 1e4:,.2f} 万元"
    return f"CNY {value:,.0f}"


_PUBLIC_ID = re.compile(r"h\d+", re.IGNORECASE)


def hazard_id(value: Any) -> str:
    """A hazard id as a sheet's cell gives it, as stored: ``h000288`` or ``Ｈ000288`` (full
    width) typed for ``H000288``; other text NFKC and stripped (an unknown id as written)."""
    text = unicodedata.normalize("NFKC", str(value or "")).strip()
    return text.upper() if _PUBLIC_ID.fullmatch(text) else text


def normalise_code(code: str) -> str:
    """A route code as stored: upper case, no spaces (``x 012`` → ``X012``), typed in a Chinese
    input mode or not (full-width ``Ｘ００８``, an ideographic or no-break space: ``X008``), a
    Chinese code's word 线 (line) left out (``X004线`` → ``X004``)."""
    text = str(code)
    if text.isascii():  # the common case, at a survey's every row
        return text.strip().upper().replace(" ", "")
    text = "".join(unicodedata.normalize("NFKC", text).upper().split())
    if text.endswith("线") and CHINESE_CODE.match(text[:-1]):
        return text[:-1]
    return text


# ----------------------------------------------------------------------------- road classes
def normalise_class(value: Any) -> str | None:
    """``县道``/``county``/``X`` → ``county``; None when not recognised."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    v = str(value).strip().lower()
    return next((cls for cls, words in CLASS_WORDS.items() if v in words), None)


def read_road_class(value: Any, *, param: str, what: str = "") -> str:
    """A road class as a user gives it (``county``, ``县道``, ``X``); an unknown one is refused
    (:class:`~hazards.errors.InputError` for ``param``, its message opening with ``what``)."""
    given = str(value).strip()
    cls = given if given in ROAD_CLASSES else normalise_class(given)
    if cls is None:
        raise InputError(
            f"{what}{value!r} is not a road class. Use one of {', '.join(ROAD_CLASSES)} "
            "(or 国道, 省道, 县道, 乡道, 村道, 专用公路, or a route code's letter G, S, X, Y, C, Z).",
            param=param,
        )
    return cls


def class_from_code(code: str | None) -> str | None:
    """The class a Chinese route code's first letter gives (``X012`` → ``county``); None for
    any other code (``S1000W``, ``I-15``, ``Gallagher Canyon Rd``): see
    :data:`hazards.vocabulary.CHINESE_CODE`."""
    if not code:
        return None
    m = CHINESE_CODE.match(normalise_code(code))
    return CODE_PREFIX[m.group(1)] if m else None


def parse_class_map(text: str | dict[str, str] | None) -> dict[str, str]:
    """``Locale=village,Artere=county`` (or a ``[class_map]`` table) → ``{"locale": "village",
    ...}``: a road file's own class values (compared in lower case) → road classes."""
    if not text:
        return {}
    items = text.items() if isinstance(text, dict) else []
    if isinstance(text, str):
        pairs = [p for p in text.split(",") if p.strip()]
        if any("=" not in p for p in pairs):
            raise InputError(
                f"Class map {text!r}: write VALUE=CLASS pairs separated by commas, e.g. "
                "Locale=village,Artere=county.",
                param="class_map",
            )
        items = [tuple(p.split("=", 1)) for p in pairs]  # type: ignore[misc]
    out: dict[str, str] = {}
    for value, cls in items:
        target = read_road_class(cls, param="class_map", what=f"Class map {value}={cls}: ")
        out[str(value).strip().lower()] = target
    return out
