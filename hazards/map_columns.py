"""Hazards as columns for the map page (:func:`encode_hazards`): delta-coded integer
micro-degrees, dictionary-coded tier/status, route, category and texts, decoded by
``hazards/static/hazards_map.js``. Vectorised: no Python loop runs per hazard."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

from hazards.map_style import LABELS
from hazards.vocabulary import EVENT_KIND_EN, EVENT_KIND_ZH, STATUSES, TIERS, event_note


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


def _event_words(what: pd.Series, lang: str) -> pd.Series:
    """The events' new status or kind in ``lang`` (a status by the map labels, a kind by
    :data:`~hazards.vocabulary.EVENT_KIND_ZH` / ``EVENT_KIND_EN``); other values as they are."""
    words = {**(EVENT_KIND_ZH if lang == "zh" else EVENT_KIND_EN), **LABELS[lang]["statuses"]}
    return what.map(words).where(what.isin(list(words)), what)


def _event_notes(note: pd.Series, lang: str) -> pd.Series:
    """The events' notes in ``lang``, by :func:`~hazards.vocabulary.event_note`."""
    if lang != "zh":
        return note
    words = {n: event_note(n, lang) for n in note.dropna().unique()}
    return note.map(words).where(note.notna(), note)


def encode_hazards(
    frame: pd.DataFrame,
    *,
    lang: str = "en",
    photos: list[Any] | None = None,
    measures: list[str | None] | None = None,
    sites: list[int | None] | None = None,
) -> dict[str, Any]:
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
    ``costSrc`` (dictionary of its source, ``survey`` or ``library``). ``extents`` (JSON text,
    None when there is no linear hazard) holds linear hazards' runs (see :func:`_extents`).
    The event's status or kind is in ``lang``. Optional per-hazard columns, in the frame's
    order, added only when given: ``photos`` (per hazard null or a list of ``[thumb, src]``
    paths relative to the page), ``measure`` (countermeasure and quantity text, a dictionary)
    and ``site`` (the batch's site number, or null).
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
        cat = _text_or(frame["cat"].str.replace("_", " "), frame["cat_raw"])  # code in words
    attrs = (
        f'{{"id":{{"p":{compact_json(prefixes)},"w":{compact_json(widths)},"c":{_ints(id_codes)},'
        f'"n":{_delta(frame["id_num"])}}},'
        f'"route":{_dictionary(frame["route"], delta=True)},'
        f'"ch":{_nullable_ints(frame["ch"])},"cat":{_dictionary(cat)},'
        f'"desc":{_dictionary(frame["descr"])},"batch":{_dictionary(frame["batch"])},'
        f'"event":[{_dictionary(frame["ev_day"])},{_dictionary(_event_words(frame["ev_what"], lang))},'
        f'{_dictionary(_event_notes(frame["ev_note"], lang))}],"cost":{_nullable_ints(frame["cost"])},'
        f'"costSrc":{_dictionary(frame["cost_src"])}'
    )
    if photos is not None and any(photos):
        attrs += f',"photos":{compact_json([p or None for p in photos])}'
    if measures is not None:
        attrs += f',"measure":{_dictionary(pd.Series(measures, dtype=object))}'
    if sites is not None:
        attrs += f',"site":{compact_json(sites)}'
    attrs += "}"
    return {
        "count": n,
        "bbox": bbox,
        "groups": groups,
        "points": points,
        "attrs": attrs,
        "extents": _extents(frame),
    }


def _extents(frame: pd.DataFrame) -> str | None:
    """Linear hazards' runs along the road for the page: ``{"i": row indexes, "f"/"t": their
    chainage range (m), "g": GeoJSON geometries}`` (text), or None when every hazard is a
    point."""
    if "extent" not in frame:
        return None
    has = frame["extent"].notna().to_numpy()
    if not has.any():
        return None
    rows = frame[has]
    return (
        f'{{"i":{_ints(np.flatnonzero(has))},"f":{_nullable_ints(rows["ch_from"])},'
        f'"t":{_nullable_ints(rows["ch_to"])},"g":[{",".join(rows["extent"])}]}}'
    )
