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
