"""The SQL fragments of the inventory's rules, each written once: effective tier and cost, latest
batch, last event, chainage text.

Every query in :mod:`hazards.db.store` that shows or uses one of these takes it from here, so the
maps, the road dossier, history, progress, plans and the contractor export cannot disagree.
Fragments refer to the hazard as ``h`` (``FROM hazards h``); the joins add the alias they name.
Status sets are not written here: queries bind them from :mod:`hazards.vocabulary`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from hazards.vocabulary import COST_SOURCES, DONE_STATUSES, OPEN_STATUSES, TIERS

EFFECTIVE_TIER = "coalesce(h.tier_override, h.tier)"
"""A hazard's tier: the engineer's override when there is one, else the model's."""

EFFECTIVE_COST = "coalesce(h.provided_cost_cny, h.estimated_cost_cny)"
"""A hazard's cost (CNY): the survey's own estimate (估算金额) when it gave one, else the cost
library's estimate. Plans fund it, progress sums it, exports, maps and the dossier show it."""

_SURVEY, _LIBRARY = COST_SOURCES
COST_SOURCE = (
    f"CASE WHEN h.provided_cost_cny IS NOT NULL THEN '{_SURVEY}' "
    f"WHEN h.estimated_cost_cny IS NOT NULL THEN '{_LIBRARY}' END"
)
"""Where :data:`EFFECTIVE_COST` comes from: ``'survey'`` or ``'library'`` (null when neither)."""


def library_measure(library_cm: str) -> str:
    """True when the hazard's countermeasure is the cost library's ``library_cm``: it has none
    yet, or the same text, or it names the library item's Chinese term (the text in brackets,
    ``增设波形护栏`` for ``W-beam guardrail (波形护栏)``). Only then do the library's quantity
    and unit go with it. A survey's own other countermeasure keeps the survey's quantity (none:
    a survey gives no quantity), never the library's quantity for another measure."""
    term = f"substring({library_cm} from '[(（]([^)）]+)[)）]')"
    return (
        f"(h.countermeasure IS NULL OR h.countermeasure = {library_cm} "
        f"OR coalesce(strpos(h.countermeasure, {term}) > 0, false))"
    )


COUNTERMEASURE_SOURCE = (
    f"CASE WHEN h.countermeasure IS NULL THEN NULL WHEN h.unit IS NULL THEN '{_SURVEY}' "
    f"ELSE '{_LIBRARY}' END"
)
"""Where a hazard's countermeasure comes from: ``'library'`` when it carries the library's unit
and quantity (see :func:`library_measure`), else ``'survey'`` (null when it has none)."""

CHAINAGE_TEXT = (
    "CASE WHEN h.chainage_m IS NULL THEN NULL ELSE 'K' || (round(h.chainage_m)::bigint / 1000) "
    "|| '+' || lpad(mod(round(h.chainage_m)::bigint, 1000)::text, 3, '0') END"
)
"""The chainage as stake text, ``K12+345`` (whole metres); null when the hazard has none."""

FROM_TEXT = CHAINAGE_TEXT.replace("h.chainage_m", "h.from_m")
"""A linear hazard's start (``from_m``) as stake text; null for a point hazard."""
TO_TEXT = CHAINAGE_TEXT.replace("h.chainage_m", "h.to_m")
"""A linear hazard's end (``to_m``) as stake text; null for a point hazard."""

LAST_CHANGE_ON = (
    "(SELECT max(e.happened_on) FROM hazard_history e WHERE e.hazard_id = h.id AND (e.kind NOT "
    "IN ('road_reload', 'route_renamed') OR e.to_status IS DISTINCT FROM e.from_status))"
)
"""The date of the hazard's latest change (a new change may not be dated before it): its latest
event, but for the network's own bookkeeping (a road reload that measured it again, a route
renumbered) unless that changed its status (a reload that sent it to review)."""

# The rule of "latest batch": the batch the hazard was most recently put in, i.e. the highest
# batches.id among its batch_items (not the highest seq: a second plan's B-1 is later than a
# first plan's A-7). Both shapes below order by it.
_LATEST_BATCH_ORDER = "b.id DESC"
_BATCH_COLUMNS = "b.id, b.name, b.plan_name, b.contractor, b.starts_on, b.due_on"


_BINDING_BATCH = "b.status <> 'draft'"
"""A batch that counts as a hazard's batch: one of a committed plan (issued or closed). A draft
plan binds nothing: its batches take no hazard from the batch it is in (the contractor's report
of that batch, the maps, progress by batch and the history keep naming it) until it is
committed."""


def latest_batch(alias: str = "lb", *, draft: bool = False) -> str:
    """A ``LEFT JOIN LATERAL`` adding the hazard's latest batch as ``alias`` (columns ``id``,
    ``name``, ``plan_name``, ``contractor``, ``starts_on``, ``due_on``; null when it was never
    in a batch of a committed plan, :data:`_BINDING_BATCH`; with ``draft``, its latest batch of
    a draft plan instead). Per hazard, by index: for a few hazards or a map's rows."""
    which = f"NOT ({_BINDING_BATCH})" if draft else _BINDING_BATCH
    return (
        f"LEFT JOIN LATERAL (SELECT {_BATCH_COLUMNS} FROM batch_items bi "
        f"JOIN batches b ON b.id = bi.batch_id WHERE bi.hazard_id = h.id AND {which} "
        f"ORDER BY {_LATEST_BATCH_ORDER} LIMIT 1) {alias} ON TRUE"
    )


BATCH_PLANNED_ON = """
    (SELECT ci.batch_id, min(e.happened_on) AS day
     FROM batch_items ci JOIN batches cb ON cb.id = ci.batch_id
     JOIN plans p ON p.id = cb.plan_id
     JOIN hazard_events e ON e.hazard_id = ci.hazard_id AND e.to_status = 'planned'
                          AND e.recorded_at = p.committed_at
     GROUP BY ci.batch_id)
"""
"""Each committed batch's day (``batch_id``, ``day``): the day its plan's commit put its hazards
in it (the commit's events to ``planned``, recorded at the plan's ``committed_at``, dated as
``plan commit --on`` says). A batch of no plan has no row."""

PLANNED_BY = "(b.plan_id IS NULL OR pd.day <= :d)"
"""With ``LEFT JOIN {BATCH_PLANNED_ON} pd ON pd.batch_id = b.id``: batch ``b`` was planned on or
before the bound day ``:d`` (a batch of no plan always)."""


def latest_batches(alias: str = "lb", *, as_of: bool = False) -> str:
    """The same as :func:`latest_batch` computed for every hazard at once (one sort of the batch
    items, for whole-inventory counts): a ``LEFT JOIN`` on ``alias.hazard_id = h.id``. With
    ``as_of``, the latest batch planned by the bound day ``:d`` (:data:`PLANNED_BY`): a
    plan committed later takes no hazard from its batch then."""
    planned = (
        (f"LEFT JOIN {BATCH_PLANNED_ON} pd ON pd.batch_id = b.id", f" AND {PLANNED_BY}")
        if as_of
        else ("", "")
    )
    return (
        f"LEFT JOIN (SELECT DISTINCT ON (bi.hazard_id) bi.hazard_id, {_BATCH_COLUMNS} "
        f"FROM batch_items bi JOIN batches b ON b.id = bi.batch_id {planned[0]} "
        f"WHERE {_BINDING_BATCH}{planned[1]} "
        f"ORDER BY bi.hazard_id, {_LATEST_BATCH_ORDER}) {alias} ON {alias}.hazard_id = h.id"
    )


def last_event(alias: str = "ev") -> str:
    """A ``LEFT JOIN LATERAL`` adding the hazard's last event (in history order: the day it
    happened, then when it was recorded) as ``alias``: ``text`` (day, new status or kind, note,
    joined by spaces), ``day``, ``what`` and ``note``."""
    return f"""
        LEFT JOIN LATERAL (
            SELECT concat_ws(' ', e.happened_on::text, coalesce(e.to_status, e.kind),
                             nullif(e.note, '')) AS text,
                   e.happened_on::text AS day, coalesce(e.to_status, e.kind) AS what,
                   nullif(e.note, '') AS note
            FROM hazard_history e WHERE e.hazard_id = h.id
            ORDER BY e.happened_on DESC, e.recorded_at DESC, e.id DESC LIMIT 1
        ) {alias} ON TRUE
    """


# ----------------------------------------------------------------------------- counties
COUNTY_HAZARD = "(r.admin_code = :admin OR (r.id IS NULL AND h.admin_code = :admin))"
"""A hazard (``h``, its road joined as ``r``) of the county whose code is ``:admin``
(:func:`hazards.settings.county`): on one of the county's roads, or on none and stored under its
code. A hazard stored before its county set its code, on a road given the code since (``roads
adopt-code``), is the county's."""

COUNTY_ROW = "admin_code = :admin"
"""A plan's or batch's row of the county whose code is ``:admin`` (prefix the table's alias:
``b.{COUNTY_ROW}``). Plans and batches are stored under the code of the county that made them
(:func:`hazards.db.store.save_plan`), and a name is one county's."""

COUNTY_BATCH = f"b.{COUNTY_ROW}"
"""A batch (``b``) of the county whose code is ``:admin``."""


# ----------------------------------------------------------------------------- townships
HAZARD_TOWNSHIP = "(SELECT hs.township FROM road_segments hs WHERE hs.id = h.segment_id)"
"""A hazard's township: the township of the road segment under it (``h.segment_id``), not its
route's most common one. Summaries, progress, plan grouping, batch exports, maps and route risk
all take it from here (null when the segment has no township)."""

HAZARD_SEGMENT_JOIN = "LEFT JOIN road_segments hs ON hs.id = h.segment_id"
"""The segment under each hazard joined as ``hs``, whose ``hs.township`` is
:data:`HAZARD_TOWNSHIP`: for a query over most hazards, where one join of the segments costs
less than a look-up per hazard (``progress`` at 2 million hazards: 3.3 s against 5.5 s)."""

IN_TOWNSHIPS = (
    "h.segment_id IN (SELECT ts.id FROM road_segments ts WHERE ts.township = ANY(:townships))"
)
"""The hazards (``h``) in any of the townships ``:townships`` (a list), by the same rule as
:data:`HAZARD_TOWNSHIP`: one semi-join over the segments, not a look-up per hazard."""

SEGMENT_KM = "coalesce(sum(s.length_m), 0) / 1000.0"
"""Km of road: the sum of the segments' lengths (``s`` is ``road_segments``), so a route crossing
three townships counts in each with the km of its segments there."""


CODES = "ARRAY(SELECT jsonb_array_elements_text(CAST(:codes AS jsonb)))"
"""The route codes bound as ``:codes`` by :func:`codes_param`, as a ``text[]`` (``route_code =
ANY(...)``): tens of thousands of codes pass as one JSON text, which the driver sends far
faster than a list of as many strings."""


def codes_param(codes: Iterable[str]) -> str:
    """``codes`` as the value of the ``:codes`` parameter of :data:`CODES`."""
    return json.dumps(list(codes), ensure_ascii=False)


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


_TIER_ARRAY = "ARRAY[" + ", ".join(f"'{t}'" for t in TIERS) + "]"
ROAD_HAZARDS = f"""
    SELECT h.road_id,
           count(*) FILTER (WHERE h.status IN {_in(OPEN_STATUSES)}) AS n_open,
           count(*) FILTER (WHERE h.status IN {_in(DONE_STATUSES)}) AS n_done,
           count(*) FILTER (WHERE h.status <> 'rejected') AS n_all,
           ({_TIER_ARRAY})[min(array_position({_TIER_ARRAY}, CAST({EFFECTIVE_TIER} AS text)))
               FILTER (WHERE h.status IN {_in(OPEN_STATUSES)})] AS worst_tier
    FROM hazards h WHERE h.road_id IS NOT NULL GROUP BY h.road_id
"""
"""Per road (``road_id``): its open hazards (``n_open``), remediated ones (``n_done``), hazards
not rejected (``n_all``: what a road's hazards are counted as, in the maps' road modes and
``roads list``) and the worst open tier; a road with no row here has no hazard recorded (not
surveyed)."""
