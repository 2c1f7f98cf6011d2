"""Hazards as columns for the map page (:func:`encode_hazards`): delta-coded integer
micro-degrees, dictionary-coded tier/status, route, category and texts, decoded by
``hazards/static/hazards_map.js``. Vectorised: no Python loop runs per hazard."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

from hazards.vocabulary import STATUSES, TIERS


def compact_json(obj: Any) -> str:
    """JSON without spaces, non-ASCII kept."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def _ints(values: np.ndarray) -> str:
    return compact_json(np.asarray(values, dtype=np.int64).tolist())


def _delta(values: Any) -> str:
    """Integers as differences from the previous one (the first from 0)."""
    return _ints(np.diff(np.asarray(values, dtype=np.int64), prepend=0))


def _nullable_ints(values: pd.Series) -> str:
    return values.astype("Int64").reset_index(drop=True).to_json(orient="values")


def _dictionary(values: pd.Series, *, delta: bool = False) -> str:
    """Dictionary coding: ``{"t": table, "c": codes}`` with code 0 for null (``t[0]`` is null);
    ``delta`` sends the codes as differences (for a column sorted so codes rarely change)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    table = compact_json([None, *pd.Index(uniques).tolist()])
    return f'{{"t":{table},"c":{_delta(codes + 1) if delta else _ints(codes + 1)}}}'


def _text_or(first: pd.Series, second: pd.Series) -> pd.Series:
    return first.where(first.notna() & (first != ""), second)


def encode_hazards(frame: pd.DataFrame, *, lang: str = "en") -> dict[str, Any]:
    """Encode :func:`hazards.db.store.hazard_columns` rows as the columns the page draws.

    Returns ``count``, ``bbox`` (west, south, east, north; None when empty), ``groups`` (one
    dict per (tier, status) present: ``tier``, ``status``, ``count``, in TIERS then STATUSES
    order), ``points`` and ``attrs`` (JSON texts). ``points`` is what the first render needs:
    ``n``, ``x`` and ``y`` (delta-coded integer micro-degrees) and ``g`` (index into
    ``groups``). ``attrs`` holds the popup and search columns, parsed by the page only when
    first needed: ``id`` (``p``/``w``: table of prefixes and digit widths, ``c``: index into it,
    ``n``: delta-coded numbers), ``route`` (dictionary, delta-coded codes), ``ch`` (chainage in
    metres), ``cat``, ``desc``, ``batch`` (dictionaries), ``event`` (three dictionaries: day,
    new status or kind, note; shown joined by spaces), ``cost`` (the effective cost, yuan) and
    ``costSrc`` (dictionary of its source, ``survey`` or ``library``).
    Everything is vectorised: no Python loop runs per hazard.
    """
    n = len(frame)
    tiers = [*TIERS, "", *sorted(set(pd.unique(frame["tier"])) - {*TIERS, ""})]
    statuses = [*STATUSES, *sorted(set(pd.unique(frame["status"])) - set(STATUSES))]
    t = pd.Categorical(frame["tier"], categories=tiers).codes.astype(np.int64)
    s = pd.Categorical(frame["status"], categories=statuses).codes.astype(np.int64)
    keys, g = np.unique(t * len(statuses) + s, return_inverse=True)
    counts = np.bincount(g, minlength=len(keys)) if n else np.zeros(0, dtype=np.int64)
    groups = [
        {"tier": tiers[k // len(statuses)], "status": statuses[k % len(statuses)], "count": c}
        for k, c in zip(keys.tolist(), counts.tolist(), strict=True)
    ]
    x, y = frame["x"].to_numpy(np.int64), frame["y"].to_numpy(np.int64)
    bbox = None if not n else (x.min() / 1e6, y.min() / 1e6, x.max() / 1e6, y.max() / 1e6)
    points = f'{{"n":{n},"x":{_delta(x)},"y":{_delta(y)},"g":{_ints(g)}}}'

    prefix_codes, prefix_table = pd.factorize(frame["id_prefix"])
    width = frame["id_width"].to_numpy(np.int64)
    span = int(width.max()) + 1 if n else 1
    patterns, id_codes = np.unique(prefix_codes * span + width, return_inverse=True)
    prefixes = pd.Index(prefix_table).take(patterns // span).tolist()
    widths = (patterns % span).tolist()
    if lang == "zh":
        cat = _text_or(frame["cat_raw"], frame["cat"])
    else:
        cat = _text_or(frame["cat"], frame["cat_raw"])
    attrs = (
        f'{{"id":{{"p":{compact_json(prefixes)},"w":{compact_json(widths)},"c":{_ints(id_codes)},'
        f'"n":{_delta(frame["id_num"])}}},'
        f'"route":{_dictionary(frame["route"], delta=True)},'
        f'"ch":{_nullable_ints(frame["ch"])},"cat":{_dictionary(cat)},'
        f'"desc":{_dictionary(frame["descr"])},"batch":{_dictionary(frame["batch"])},'
        f'"event":[{_dictionary(frame["ev_day"])},{_dictionary(frame["ev_what"])},'
        f'{_dictionary(frame["ev_note"])}],"cost":{_nullable_ints(frame["cost"])},'
        f'"costSrc":{_dictionary(frame["cost_src"])}}}'
    )
    return {"count": n, "bbox": bbox, "groups": groups, "points": points, "attrs": attrs}
