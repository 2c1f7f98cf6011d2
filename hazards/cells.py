"""Survey cells → typed values: coordinates (decimal or DMS), chainages, money amounts,
lengths, hazard categories and risk tiers, each parsed the way a surveyor writes it.

The pieces :mod:`hazards.survey` parses a survey row with, and :mod:`hazards.crashes` a crash
record's location with. Never raises for an empty cell;
a cell that is not understood raises ``ValueError`` saying why (or returns None where noted).
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections.abc import Iterable
from typing import Any

from hazards.chainage import parse_chainage
from hazards.errors import HazardsError
from hazards.vocabulary import (
    CATEGORY_WORDS,
    LACKING_WORDS,
    LEVEL_CROSSING_WORDS,
    PLACE_WORDS,
    TIER_WORDS,
)


def norm_header(name: Any) -> str:
    """A header (or category text) as compared: NFKC, lower case, no blanks, _ or -."""
    return _norm_text(name if isinstance(name, str) else str(name))


@functools.lru_cache(maxsize=65536)
def _norm_text(s: str) -> str:
    s = unicodedata.normalize("NFKC", s).strip().lstrip("\ufeff").lower()
    return _NORM_DROP.sub("", s)


_NORM_DROP = re.compile(r"[\s_\-]+")

LON_WORDS = ("经度", "经度(e)", "经度(°)", "东经", "lon", "lng", "long", "longitude", "x")
LAT_WORDS = ("纬度", "纬度(n)", "纬度(°)", "北纬", "lat", "latitude", "y")
"""The headers of a longitude and a latitude column, in surveys and crash sheets alike (compared
as :func:`norm_header` gives them: ``经度（E）`` is ``经度(e)``)."""

TOTAL_WORDS = frozenset({"合计", "总计", "小计", "共计", "total", "totals", "subtotal"})
"""What a sheet's totals row says in one of its cells (compared as :func:`norm_header` gives it:
``合 计`` and ``Total`` too): the row sums the others and is not a record of its own."""


_TOTAL_SCOPE = re.compile(r"^(?:本页|本表|本月|本季度?|本年度?|全年|全县|全部|总)?(.+?)[:：]?$")
"""A totals cell's words around its total word: ``本页合计``, ``全年合计``, ``合计：``."""


def is_total(text: Any) -> bool:
    """Whether a cell says the row is a totals row (:data:`TOTAL_WORDS`, also with a scope
    before it or a colon after it: ``本页合计``, ``合计：``)."""
    if not text:
        return False
    word = norm_header(text)
    if word in TOTAL_WORDS:
        return True
    m = _TOTAL_SCOPE.match(word)
    return m is not None and m.group(1) in TOTAL_WORDS


_SIGNATURE = re.compile(
    r"^(?:(?:填表|制表|填报|编制|审核|审批|复核|校核|核对|负责|调查|检测|记录|统计)(?:人|单位|日期)?"
    r"|日期|签字|签名)\s*[:：]"
    r"|^\S{0,12}?[(（]\s*(?:盖章|签章|公章|签字|签名)\s*[)）]"
)
"""A sheet's signature line: ``填表人：张三``, ``审核人:``, ``日期：``, ``签字：``,
``施工单位（盖章）``, ``项目负责人(签字)``."""


def footer_row(values: Iterable[Any], *, located: bool) -> bool:
    """Whether a row (its cells' texts, in column order) is a sheet's totals row or its
    signature line, not a record: its first filled cell says so (:func:`is_total`,
    ``填表人：张三``), and the row says nowhere (``located`` false: no route code and no
    coordinates). A survey or crash import skips it as an empty row, where it would
    otherwise be rejected as a record without a location."""
    first = next((v for v in values if v), None)
    return not located and (
        is_total(first) or _SIGNATURE.match(norm_header(first or "")) is not None
    )


_DMS = re.compile(
    r"""^\s*([NSEW东西南北]?)\s*(-?\d+(?:\.\d+)?)\s*(?:[°度d:\s])\s*(?:(\d+(?:\.\d+)?)\s*(?:['′’分m:\s])?\s*)?"""
    r"""(?:(\d+(?:\.\d+)?)\s*(?:["″”]|''|′′|秒|s)?)?\s*([NSEW东西南北]?)\s*$""",
    re.IGNORECASE,
)


_DEGREE_SIGNS = str.maketrans({"º": "°", "˚": "°"})  # ordinal º, ring ˚: typed for °
_HEMISPHERES = (("东经", "E"), ("西经", "W"), ("北纬", "N"), ("南纬", "S"))
_LETTERED = re.compile(r"^([NSEW]?)\s*(\d+\.\d+)\s*°?\s*([NSEW]?)$", re.IGNORECASE)  # 112.3585E


def parse_coordinate(text: str) -> float | None:
    """Degrees from ``112.3585``, ``112°21'30.5"``, ``112 21 30.5``, ``112°21.5'``,
    ``E112°21'30"``, ``东经112°21′45.5″``, ``112.3585E``, ``112º21’45.5”``.

    Returns None for an empty cell; raises ValueError for one that is not a coordinate.
    """
    s = unicodedata.normalize("NFKC", text.translate(_DEGREE_SIGNS)).strip()
    if not s:
        return None
    try:
        value = float(s.replace(",", "."))
        if not math.isfinite(value):
            raise ValueError(f"{text!r} is not a finite number")
        return value
    except ValueError:
        pass
    for word, letter in _HEMISPHERES:
        s = s.replace(word, letter)
    lettered = _LETTERED.match(s)
    if lettered and bool(lettered.group(1)) != bool(lettered.group(3)):
        value = float(lettered.group(2))
        return -value if (lettered.group(1) + lettered.group(3)).upper() in ("S", "W") else value
    m = _DMS.match(s)
    if not m:
        raise ValueError(
            f"{text!r} is not a coordinate (decimal degrees or degrees-minutes-seconds)"
        )
    hemi = (m.group(1) or m.group(5) or "").upper()
    deg = float(m.group(2))
    minutes = float(m.group(3) or 0)
    seconds = float(m.group(4) or 0)
    if minutes >= 60 or seconds >= 60:
        raise ValueError(f"{text!r}: minutes and seconds must be below 60")
    value = abs(deg) + minutes / 60 + seconds / 3600
    if deg < 0 or hemi in ("S", "W", "南", "西"):
        value = -value
    return value


_FULL_WIDTH = re.compile(r"[\uff10-\uff19\uff0e\uff0c]")
_GROUPED = re.compile(r"^\d{1,3}(,\d{3})+(\.\d+)?$")
_IN_YUAN = re.compile(r"[¥￥元]|RMB|CNY")


MAX_COST_CNY = 1e10
"""The largest cost taken from a survey (10 billion CNY, 100 亿元: more than any one site's
works); a larger one is a typing or unit mistake, and its cell is refused."""


MAX_LENGTH_M = 100_000.0
"""The longest hazard section taken from a survey (100 km); a longer one is refused."""


def parse_amount(text: str, *, unit: float = 1.0) -> float | None:
    """A money amount in CNY, to the fen; ``3.5万`` and ``1,200`` understood. None when empty;
    ValueError if unclear.

    ``unit``: the column's (10000 for a 万元 column). A cell that says its own unit is read in
    it: ``2万`` is 20,000 and ``12000元``, ``¥1,200`` or ``1200 CNY`` are yuan in any column.
    Unclear, and refused rather than guessed: full-width digits (``２万``: typed in a Chinese
    input mode, perhaps not the number meant), commas that are not thousands separators
    (``1,5``), words (``约3万``).
    """
    if _FULL_WIDTH.search(text):
        raise ValueError(f"{text!r} is written with full-width digits; retype it in half-width")
    bare = re.sub(r"[¥￥元万\s]|RMB|CNY", "", text)
    if "," in bare and not _GROUPED.match(bare):
        raise ValueError(f"{text!r}: the comma is not a thousands separator (1,200); unclear")
    s = unicodedata.normalize("NFKC", text).strip().replace(",", "")
    factor = unit
    if _IN_YUAN.search(s):  # the cell's own unit: yuan, whatever the column's
        s, factor = _IN_YUAN.sub("", s).strip(), 1.0
    if not s:
        return None
    if s.endswith("万"):
        s, factor = s[:-1].strip(), 10000.0
    value = float(s)  # raises ValueError
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{text!r} is not an amount ≥ 0")
    if not value * factor <= MAX_COST_CNY:
        raise ValueError(
            f"{text!r} is more than {MAX_COST_CNY:,.0f} CNY (100 亿元), not a plausible cost"
        )
    return round(value * factor, 2)  # 0.81万 is 8100, not 8100.000000000001


@functools.cache
def _category_words() -> tuple[
    dict[str, str], list[tuple[str, str]], list[tuple[str, str]], list[tuple[str, str]]
]:
    """Normalised word → category; the Chinese words to look for inside longer text; and,
    to look for when none of those is, the words of what a place lacks
    (:data:`~hazards.vocabulary.LACKING_WORDS`) and the place words
    (:data:`~hazards.vocabulary.PLACE_WORDS`)."""
    exact: dict[str, str] = {}
    inside: list[tuple[str, str]] = []
    for cat, words in CATEGORY_WORDS.items():
        for w in words:
            exact.setdefault(norm_header(w), cat)
            if re.search(r"[\u4e00-\u9fff]", w) and len(w) >= 2:
                inside.append((norm_header(w), cat))
    lacking = [(norm_header(w), cat) for cat, words in LACKING_WORDS.items() for w in words]
    places = [(norm_header(w), cat) for cat, words in PLACE_WORDS.items() for w in words]
    for word, cat in lacking + places:
        exact.setdefault(word, cat)
    return exact, inside, lacking, places


@functools.lru_cache(maxsize=4096)
def normalise_category(text: str) -> str | None:
    """The vocabulary term for a survey's category text; None when it is not known."""
    s = norm_header(text)
    if not s:
        return None
    exact, inside, lacking, places = _category_words()
    if s in exact:
        return exact[s]
    # e.g. "急弯（无警示标志）": the longest word found, the earliest on a tie (连续急弯路段 → 连续急弯)
    found = [(len(word), -s.find(word), cat) for word, cat in inside if word in s]
    if not found:  # what is lacking there (路口缺少标志, 路侧缺少护栏), else where it is (学校路口)
        found = [(len(word), -s.find(word), cat) for word, cat in lacking if word in s]
    if not found and not any(w in s for w in LEVEL_CROSSING_WORDS):  # a railway: no junction
        found = [(len(word), -s.find(word), cat) for word, cat in places if word in s]
    return max(found)[2] if found else None


def category_key(
    category_raw: str | None, description: str | None, category: str | None = None
) -> str:
    """What two rows must share to be the same hazard: the vocabulary term the original
    category text is a word for (陡坡 and 陡坡路段 are both ``steep_grade``), else the normalised
    text itself (two unknown words are both 'other', and 路面积水 is not 落石; a text naming
    two hazards, 急弯陡坡, is neither 急弯 nor 陡坡), or, when the category is blank, the
    normalised description. (``category``: the term, for rows made without the original
    text.)"""
    if category_raw and category_raw.strip():
        return _raw_key(category_raw)
    if category:
        return "t:" + category
    return "d:" + norm_header(description or "")


@functools.lru_cache(maxsize=65536)
def _raw_key(category_raw: str) -> str:
    """:func:`category_key` of an original category text (a survey has few distinct ones)."""
    s = norm_header(category_raw)
    term = _category_words()[0].get(s)
    return "t:" + term if term is not None and term != "other" else "c:" + s


@functools.lru_cache(maxsize=1024)
def normalise_tier(text: str) -> str | None:
    s = (
        unicodedata.normalize("NFKC", text)
        .strip()
        .lower()
        .replace("级风险", "级")
        .replace("类", "")
    )
    if s.endswith("级") and s[:-1] in ("i", "ii", "iii"):
        s = s[:-1]
    for tier, words in TIER_WORDS.items():
        if s in words:
            return tier
    return None


@functools.lru_cache(maxsize=65536)
def chainage_or_none(text: str) -> float | None:
    try:
        return parse_chainage(text)
    except HazardsError:
        return None


def chainage_problem(text: str) -> str:
    """What is wrong with a 桩号 :func:`chainage_or_none` could not read, and how to write it
    (``K3+1200``: the metres after '+' must be below 1000, write K4+200)."""
    try:
        parse_chainage(text)
    except HazardsError as exc:
        return exc.message.rstrip(".")
    return f"chainage {text!r} is not understood; write it as K12+350"


def degrees(text: str) -> float | None:
    """:func:`parse_coordinate`, with plain decimal numbers taken the short way."""
    try:
        value = float(text)
    except ValueError:
        return parse_coordinate(text)
    return value if math.isfinite(value) else parse_coordinate(text)


def parse_point(lon_text: str, lat_text: str) -> tuple[float, float]:
    """The x/y of a row's two coordinate cells (degrees, DMS or projected numbers); a
    ``ValueError`` saying why when they are not usable (one empty, or not a number)."""
    x, y = degrees(lon_text), degrees(lat_text)
    if x is None or y is None:
        raise ValueError("one of the two coordinates is empty")
    return x, y
