"""The columns of a crash file: which header names which crash field (for :mod:`hazards.crashes`).

Police exports name their columns many ways (死亡人数, 死亡人数(人), 死亡数, FATALS): each field
has its header words, compared without case, blanks, brackets or the unit after a count; a
column about casualties that no field reads is named, so that its counts are not lost without
a word.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from hazards.cells import LAT_WORDS, LON_WORDS
from hazards.sheets import cell_text
from hazards.survey import match_columns

# fmt: off
FIELDS: dict[str, tuple[str, ...]] = {
    "crash_id": ("事故编号", "案件编号", "事故编码", "编号", "crash_id", "id", "case_no",
                 "st_case"),
    "row_no": ("序号", "行号", "no", "no."),
    "datetime": ("事故时间", "发生时间", "事故发生时间", "事故日期", "发生日期", "日期", "datetime",
                 "date", "crash_date", "occurred_at"),
    "time": ("时刻", "事故时刻", "时间", "发生时刻", "time", "crash_time"),
    "year": ("年", "年份", "year"),
    "month": ("月", "月份", "month"),
    "day": ("日", "day"),
    "hour": ("时", "小时", "hour"),
    "minute": ("分", "分钟", "minute"),
    "route_code": ("路线编码", "路线编号", "路线代码", "route_code", "route", "road_code"),
    "chainage": ("桩号", "事故桩号", "chainage", "stake", "station"),
    "lon": LON_WORDS,
    "lat": LAT_WORDS,
    "fatalities": ("死亡人数", "死亡", "死亡数", "死亡人员", "fatalities", "fatals", "killed",
                   "deaths"),
    "injuries": ("受伤人数", "受伤", "受伤数", "受伤人员", "injuries", "injured"),
    "serious": ("重伤人数", "重伤", "重伤数", "serious_injuries", "serious"),
    "minor": ("轻伤人数", "轻伤", "轻伤数", "minor_injuries", "minor"),
    "severity": ("事故等级", "事故类别", "事故性质", "严重程度", "severity", "kabco"),
    "crash_type": ("事故形态", "事故类型", "crash_type", "collision_type", "manner_of_collision"),
    "weather": ("天气", "weather"),
    "light": ("照明条件", "光照条件", "光照", "light", "lighting"),
}
# fmt: on
CRASH_FIELDS = tuple(FIELDS)


def norm_crash_text(name: Any) -> str:
    """A crash header as compared: as :func:`~hazards.cells.norm_header`, without brackets, and
    without the unit a police export writes after a count (``死亡人数(人)``, ``受伤（人）``)."""
    s = unicodedata.normalize("NFKC", str(name)).strip().lstrip("\ufeff").lower()
    s = _UNIT.sub("", s)
    return re.sub(r"[\s_\-()（）]+", "", s)


_UNIT = re.compile(r"\s*[(\[【]\s*(?:人|人数|名|个|次|起|persons?|people)\s*[)\]】]$")
"""A unit in brackets after a header (NFKC has made ``（人）`` ``(人)``)."""

_CASUALTY = re.compile(r"死|伤|亡|fatal|injur|kill|death", re.IGNORECASE)
"""A header that speaks of the dead or the injured."""


def unread_casualty_columns(columns: list[str], headers: dict[str, str]) -> list[str]:
    """Columns whose header speaks of deaths or injuries (``伤亡人数``, ``死伤人员``) that no
    casualty field reads: their counts would be lost without a word."""
    read = set(headers.values())
    return [
        c for c in columns if c not in read and not c.startswith("_") and _CASUALTY.search(str(c))
    ]


def recognise_headers(
    columns: list[str], *, mapping: dict[str, str] | None = None
) -> dict[str, str]:
    """Which column holds each crash field; ``mapping`` (field → column) overrides or adds,
    a field mapped to ``""`` is unmapped."""
    return match_columns(
        columns, FIELDS, mapping=mapping, norm=norm_crash_text, what="Crash fields", source="file"
    )


def header_score(cells: list[Any]) -> int:
    return len(recognise_headers([t for t in (cell_text(c) for c in cells) if t]))
