"""Does a survey row's 路线名称 name the same road as the network's route with its code?

A wrong 路线编码 that happens to be a real code slips through matching unnoticed; the route
name the survey firm wrote beside it gives it away. The rule (kept simple, see docs/survey.md):

1. normalise both names: drop the route code, the words 公路 / 线 / 路, spaces and brackets;
2. split each into place names on the separators — – - ~ ～ 至 到 、 / ,;
3. the names agree when one (joined, without separators) contains the other, or when every
   place name of the name with fewer places appears in the other name (one containing the
   other: 城关 and 城关镇 match). Otherwise they disagree: 城关—南大膳 and 南大膳至万子湖公路
   share 南大膳 but 城关 is not on the network's road, so they name two different roads.

A name that is empty once normalised (only the code, say) is not compared. Disagreeing rows
are kept as they are, with a warning; :class:`NameCheck` counts them per route for the
import's summary.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, TypedDict

_SEPARATORS = re.compile(r"[—–\-~～至到、/,，;；]+")
_NOISE = re.compile(r"[\s()（）\[\]【】《》\"'“”‘’·.。:：]+|公路|线|路")


class NameMismatch(TypedDict):
    """One route whose name in the survey differs from the network's: how many rows said so."""

    route_code: str
    survey_name: str
    network_name: str
    rows: int


def places(name: str, *, code: str | None = None) -> list[str]:
    """The place names in a route name, normalised (code, 公路/线/路, punctuation dropped)."""
    text = name
    if code:
        text = re.sub(re.escape(code), " ", text, flags=re.IGNORECASE)
    return [t for t in (_NOISE.sub("", part) for part in _SEPARATORS.split(text)) if t]


def same_road(survey_name: str, network_name: str, *, code: str | None = None) -> bool:
    """True when the two names can name the same road (the rule in the module docstring);
    also True when either name has nothing left to compare once normalised."""
    a, b = places(survey_name, code=code), places(network_name, code=code)
    if not a or not b:
        return True
    whole_a, whole_b = "".join(a), "".join(b)
    if whole_a in whole_b or whole_b in whole_a:
        return True
    few, many = (a, b) if len(a) <= len(b) else (b, a)
    return all(any(p in q or q in p for q in many) for p in few)


class NameCheck:
    """Compares the 路线名称 of rows with the network's route names, chunk after chunk."""

    def __init__(self, names: dict[str, str]) -> None:
        self.names = names  # route code -> the network's name
        self._seen: dict[tuple[str, str], int] = {}  # (code, survey name) -> rows

    def check(self, rows: Sequence[Any], matches: Sequence[Any]) -> None:
        """Warn on every kept row (accepted or to review) whose 路线名称 disagrees with the
        network's name of its 路线编码; the row itself is left as it was matched."""
        for r, m in zip(rows, matches, strict=True):
            code, said = r.route_code, (r.route_name or "").strip()
            if not code or not said or m.status not in ("accepted", "review"):
                continue
            known = self.names.get(code)
            if not known or same_road(said, known, code=code):
                continue
            m.warnings.append(
                f"路线名称 {said} differs from the network's name of route {code} ({known}); "
                "check the route code (路线编码)"
            )
            self._seen[(code, said)] = self._seen.get((code, said), 0) + 1

    def summary(self) -> list[NameMismatch]:
        """One entry per (route, survey name), in route order."""
        return [
            {"route_code": code, "survey_name": said, "network_name": self.names[code], "rows": n}
            for (code, said), n in sorted(self._seen.items())
        ]
