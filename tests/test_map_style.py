"""The maps' look: every tier and status has a style, and every label both languages."""

from __future__ import annotations

from hazards import map_style
from hazards.vocabulary import STATUSES, TIERS


def _keys(d: object, prefix: str = "") -> set[str]:
    if isinstance(d, dict):
        return {k for key, v in d.items() for k in _keys(v, f"{prefix}{key}.")} | {prefix}
    return {prefix}


def test_every_tier_and_status_is_styled() -> None:
    assert set(map_style.TIER_COLOURS) == {*TIERS, ""}
    assert set(map_style.STATUS_STYLES) == set(STATUSES)
    assert len(set(map_style.TIER_COLOURS.values())) == len(map_style.TIER_COLOURS)


def test_both_languages_have_the_same_labels() -> None:
    assert set(map_style.LANGS) == set(map_style.LABELS)
    en, zh = (_keys(map_style.LABELS[lang]) for lang in ("en", "zh"))
    assert en == zh, f"only in en: {sorted(en - zh)}; only in zh: {sorted(zh - en)}"
    for tier in TIERS:
        assert map_style.LABELS["zh"]["tiers"][tier] != map_style.LABELS["en"]["tiers"][tier]


def _colours(styles: dict) -> set[str]:
    out = set()
    for st in styles.values():
        out |= {st[k].lower() for k in ("color", "fillColor") if k in st}
    return out


def test_road_colours_are_never_hazard_colours() -> None:
    """A road is never drawn in a tier, status or crash colour (tier I red is no road's red),
    and within a mode no two classes, nor "not surveyed", share a colour."""
    hazard = {c.lower() for c in map_style.TIER_COLOURS.values()}
    hazard |= _colours(map_style.STATUS_STYLES) | _colours(map_style.SEVERITY_STYLES)
    for mode, classes in map_style.ROAD_STYLES.items():
        road = [st["color"].lower() for st in classes.values()]
        road.append(map_style.UNSURVEYED_STYLE["color"].lower())
        assert len(set(road)) == len(road), mode
        assert not set(road) & hazard, (mode, set(road) & hazard)
    # a batch page's roads without a site: a colour of their own, not a tier, status, crash,
    # black-spot, screening or road-class colour, nor "not surveyed"
    other = map_style.OTHER_ROADS_STYLE["color"].lower()
    every_road = {st["color"].lower() for c in map_style.ROAD_STYLES.values() for st in c.values()}
    every_road.add(map_style.UNSURVEYED_STYLE["color"].lower())
    others = hazard | every_road | {map_style.BLACK_SPOT_STYLE["color"].lower()}
    others |= {c.lower() for c in map_style.SCREEN_RAMP} | {map_style.NO_OPEN_COLOUR.lower()}
    assert other not in others, other
    assert not map_style.OTHER_ROADS_STYLE.get("dashArray")
    assert map_style.UNSURVEYED_STYLE.get("dashArray")
    assert not any(st.get("dashArray") for c in map_style.ROAD_STYLES.values() for st in c.values())
    assert map_style.HIGHLIGHT_COLOUR.lower() not in hazard


def test_every_status_has_its_own_symbol() -> None:
    def symbol(st: dict) -> tuple:
        keys = ("color", "weight", "dashArray", "fillColor", "fillOpacity", "mark")
        return tuple(st.get(k) for k in keys)

    symbols = [symbol(st) for st in map_style.STATUS_STYLES.values()]
    assert len(set(symbols)) == len(symbols)
    done, verified = map_style.STATUS_STYLES["reported_done"], map_style.STATUS_STYLES["verified"]
    assert (done.get("dashArray"), done.get("mark")) != (
        verified.get("dashArray"),
        verified.get("mark"),
    )


def test_every_road_class_has_words() -> None:
    for lang in map_style.LANGS:
        words = map_style.LABELS[lang]["roadClasses"]
        for mode, classes in map_style.ROAD_STYLES.items():
            assert set(words[mode]) == set(classes), (lang, mode)
        assert map_style.LABELS[lang]["unsurveyed"]


def test_a_black_spot_never_looks_like_a_road_as_drawn() -> None:
    """Drawn over white at their opacity, the black spots' band and every road style are far
    apart (the magenta band at 0.55 came out #f173b8, a tier III road #f877aa: the same pink)."""

    def seen(style: dict) -> tuple[float, ...]:
        rgb = [int(style["color"][i : i + 2], 16) for i in (1, 3, 5)]
        a = style.get("opacity", 1.0)
        return tuple(a * c + (1 - a) * 255 for c in rgb)

    spot = seen(map_style.BLACK_SPOT_STYLE)
    roads = [st for mode in map_style.ROAD_STYLES.values() for st in mode.values()]
    roads += [map_style.UNSURVEYED_STYLE, map_style.OTHER_ROADS_STYLE]
    for st in roads:
        distance = sum((a - b) ** 2 for a, b in zip(spot, seen(st), strict=True)) ** 0.5
        assert distance > 60, (st, distance)
