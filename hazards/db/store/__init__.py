"""The store: the only place that runs SQL, reading and writing the inventory in PostGIS.

One module per subject: :mod:`.roads` (working CRS, metadata, routes), :mod:`.hazards` (surveys,
hazards, review; :mod:`.bulk` for a large import's keys, :mod:`.extents` for linear hazards), :mod:`.scores`, :mod:`.plans`, :mod:`.tracking` (status changes, history,
re-checks, progress), :mod:`.batches` (incl. the contractor GeoJSON), :mod:`.completions`
(what a contractor login calls) and :mod:`.maps`. The rules
they share (effective tier and cost, latest batch, last event, chainage text) are the fragments
of :mod:`hazards.db.sql`. Every public name is importable from here:
``from hazards.db import store; store.list_hazards(engine)``.

The names are loaded on first use: the imports below are read (not run) by :func:`__getattr__`,
so ``import hazards.db.store.roads`` for one quick query does not load pandas and geopandas
through the other subjects (``chainage locate`` starts in a fraction of a second).
"""

from __future__ import annotations

import functools
import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # one list of the public names; run by type checkers, read by _homes() here
    from hazards.db.store.batches import batch_feature_collection as batch_feature_collection
    from hazards.db.store.batches import completion_targets as completion_targets
    from hazards.db.store.batches import find_batch_row as find_batch_row
    from hazards.db.store.batches import get_batch as get_batch
    from hazards.db.store.batches import list_batches as list_batches
    from hazards.db.store.batches import update_batch as update_batch
    from hazards.db.store.batches import write_batch_features as write_batch_features
    from hazards.db.store.bulk import BULK_MIN_ROWS as BULK_MIN_ROWS
    from hazards.db.store.bulk import BULK_ONLINE as BULK_ONLINE
    from hazards.db.store.bulk import DeferredKeys as DeferredKeys
    from hazards.db.store.bulk import defer_keys as defer_keys
    from hazards.db.store.bulk import draw_ids as draw_ids
    from hazards.db.store.bulk import reserve_ids as reserve_ids
    from hazards.db.store.bulk import restore_keys as restore_keys
    from hazards.db.store.bulk import worth_deferring as worth_deferring
    from hazards.db.store.completions import connected_user as connected_user
    from hazards.db.store.completions import record_completion as record_completion
    from hazards.db.store.copy_rows import BINARY_HEADER as BINARY_HEADER
    from hazards.db.store.copy_rows import BINARY_TRAILER as BINARY_TRAILER
    from hazards.db.store.copy_rows import binary_copy as binary_copy
    from hazards.db.store.copy_rows import copy_field as copy_field
    from hazards.db.store.copy_rows import point_hex as point_hex
    from hazards.db.store.copy_rows import road_copy_rows as road_copy_rows
    from hazards.db.store.copy_rows import segment_copy_rows as segment_copy_rows
    from hazards.db.store.copy_rows import segment_copy_sql as segment_copy_sql
    from hazards.db.store.copy_rows import segment_tails as segment_tails
    from hazards.db.store.copy_rows import text_or_none as text_or_none
    from hazards.db.store.counties import adopt_roads as adopt_roads
    from hazards.db.store.counties import check_county as check_county
    from hazards.db.store.counties import county_routes as county_routes
    from hazards.db.store.counties import not_here as not_here
    from hazards.db.store.counties import plans_without_code as plans_without_code
    from hazards.db.store.crash_maps import crash_points as crash_points
    from hazards.db.store.crash_maps import may_read as may_read
    from hazards.db.store.crash_maps import route_crashes as route_crashes
    from hazards.db.store.crash_risk import hazard_places as hazard_places
    from hazards.db.store.crash_risk import newest_crash as newest_crash
    from hazards.db.store.crash_risk import treated_sites as treated_sites
    from hazards.db.store.crashes import CrashWriter as CrashWriter
    from hazards.db.store.crashes import crash_frame as crash_frame
    from hazards.db.store.crashes import crash_writer as crash_writer
    from hazards.db.store.crashes import list_crashes as list_crashes
    from hazards.db.store.crashes import route_ends as route_ends
    from hazards.db.store.extents import set_extents as set_extents
    from hazards.db.store.hazards import HAZARD_COLUMNS as HAZARD_COLUMNS
    from hazards.db.store.hazards import SurveyImportWriter as SurveyImportWriter
    from hazards.db.store.hazards import drop_survey as drop_survey
    from hazards.db.store.hazards import get_hazard as get_hazard
    from hazards.db.store.hazards import get_survey as get_survey
    from hazards.db.store.hazards import hazard_by_public_id as hazard_by_public_id
    from hazards.db.store.hazards import known_hazards as known_hazards
    from hazards.db.store.hazards import list_hazards as list_hazards
    from hazards.db.store.hazards import list_surveys as list_surveys
    from hazards.db.store.hazards import rejected_row_ids as rejected_row_ids
    from hazards.db.store.hazards import resolve_review as resolve_review
    from hazards.db.store.hazards import survey_by_sha as survey_by_sha
    from hazards.db.store.hazards import survey_import_writer as survey_import_writer
    from hazards.db.store.hazards import survey_references as survey_references
    from hazards.db.store.hazards import surveys_by_sha as surveys_by_sha
    from hazards.db.store.locks import describe_holder as describe_holder
    from hazards.db.store.locks import lock_holder as lock_holder
    from hazards.db.store.locks import writer_lock as writer_lock
    from hazards.db.store.maps import HazardFilter as HazardFilter
    from hazards.db.store.maps import find_batch as find_batch
    from hazards.db.store.maps import hazard_columns as hazard_columns
    from hazards.db.store.maps import road_hazard_rows as road_hazard_rows
    from hazards.db.store.maps import road_layer as road_layer
    from hazards.db.store.maps import road_parts as road_parts
    from hazards.db.store.maps import unplaced_count as unplaced_count
    from hazards.db.store.plans import commit_plan as commit_plan
    from hazards.db.store.plans import drop_plan as drop_plan
    from hazards.db.store.plans import find_plan as find_plan
    from hazards.db.store.plans import get_plan as get_plan
    from hazards.db.store.plans import list_plans as list_plans
    from hazards.db.store.plans import plan_candidates as plan_candidates
    from hazards.db.store.plans import plan_exists as plan_exists
    from hazards.db.store.plans import save_plan as save_plan
    from hazards.db.store.reattach import attach_loose_crashes as attach_loose_crashes
    from hazards.db.store.reattach import hold_hazards as hold_hazards
    from hazards.db.store.reattach import reattach_crashes as reattach_crashes
    from hazards.db.store.reattach import reattach_hazards as reattach_hazards
    from hazards.db.store.reattach import replaced_crashes as replaced_crashes
    from hazards.db.store.remeasure import apply_remeasure as apply_remeasure
    from hazards.db.store.remeasure import remeasure_input as remeasure_input
    from hazards.db.store.reports import crash_counts as crash_counts
    from hazards.db.store.reports import crashes_until as crashes_until
    from hazards.db.store.reports import has_crashes as has_crashes
    from hazards.db.store.reports import has_hazard_extents as has_hazard_extents
    from hazards.db.store.reports import inventory_counts as inventory_counts
    from hazards.db.store.reports import inventory_layers as inventory_layers
    from hazards.db.store.reports import planned_batches as planned_batches
    from hazards.db.store.reports import recheck_counts as recheck_counts
    from hazards.db.store.reports import route_classes as route_classes
    from hazards.db.store.roads import SOURCE_CRS_KEY as SOURCE_CRS_KEY
    from hazards.db.store.roads import WORKING_CRS_KEY as WORKING_CRS_KEY
    from hazards.db.store.roads import aadt_ranges as aadt_ranges
    from hazards.db.store.roads import add_aliases as add_aliases
    from hazards.db.store.roads import alias_map as alias_map
    from hazards.db.store.roads import get_metadata as get_metadata
    from hazards.db.store.roads import get_road as get_road
    from hazards.db.store.roads import list_aliases as list_aliases
    from hazards.db.store.roads import list_routes as list_routes
    from hazards.db.store.roads import record_working_crs as record_working_crs
    from hazards.db.store.roads import rename_route as rename_route
    from hazards.db.store.roads import require_working_crs as require_working_crs
    from hazards.db.store.roads import resolve_code as resolve_code
    from hazards.db.store.roads import road_summary as road_summary
    from hazards.db.store.roads import route_checksums as route_checksums
    from hazards.db.store.roads import route_lengths as route_lengths
    from hazards.db.store.roads import server_versions as server_versions
    from hazards.db.store.roads import shared_length_m as shared_length_m
    from hazards.db.store.roads import working_crs as working_crs
    from hazards.db.store.roads import write_routes as write_routes
    from hazards.db.store.route_drop import drop_routes as drop_routes
    from hazards.db.store.routes import network_segments as network_segments
    from hazards.db.store.routes import quick_route_lines as quick_route_lines
    from hazards.db.store.routes import route_lines as route_lines
    from hazards.db.store.routes import route_segments as route_segments
    from hazards.db.store.routes import route_townships as route_townships
    from hazards.db.store.routes import township_spans as township_spans
    from hazards.db.store.routes import townships as townships
    from hazards.db.store.routes import unassigned_like as unassigned_like
    from hazards.db.store.scores import cost_pairs as cost_pairs
    from hazards.db.store.scores import hazards_for_scoring as hazards_for_scoring
    from hazards.db.store.scores import route_risk as route_risk
    from hazards.db.store.scores import set_tier_override as set_tier_override
    from hazards.db.store.scores import tier_disagreements as tier_disagreements
    from hazards.db.store.scores import township_risk as township_risk
    from hazards.db.store.scores import write_scores as write_scores
    from hazards.db.store.tracking import change_status as change_status
    from hazards.db.store.tracking import finished_sites as finished_sites
    from hazards.db.store.tracking import hazard_history as hazard_history
    from hazards.db.store.tracking import progress_frame as progress_frame
    from hazards.db.store.tracking import recheck_state as recheck_state
    from hazards.db.store.tracking import record_planned_rechecks as record_planned_rechecks
    from hazards.db.store.tracking import tier_one_reach as tier_one_reach


@functools.cache
def _homes() -> dict[str, str]:
    """Each public name → the submodule that defines it, read from the imports above."""
    import ast
    from pathlib import Path

    tree = ast.parse(Path(__file__).read_text(encoding="utf-8"))
    block = next(n for n in tree.body if isinstance(n, ast.If))
    return {
        alias.name: node.module.rsplit(".", 1)[1]
        for node in block.body
        if isinstance(node, ast.ImportFrom) and node.module
        for alias in node.names
    }


def __getattr__(name: str) -> Any:
    """Load ``name`` (a public name or a submodule) from its submodule on first use."""
    home = _homes().get(name)
    if home is None:
        try:
            return importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_homes()})
