"""Contractors: their batches (contractor, dates), and a batch out as GeoJSON or an Excel work
list; completion reports come back in through :mod:`hazards.completions`.

The batch file is an RFC 7946 FeatureCollection (lon/lat, no ``crs`` member) whose features
carry stable hazard ids and the properties documented in ``docs/contractors.md``; the JSON
Schema ``hazards/schemas/contractor-batch.schema.json`` describes it and is used to check
returned GeoJSON files. The Excel work list is in the contractor's language (zh or en,
:mod:`hazards.worklist`).
"""

from __future__ import annotations

import datetime as dt
import json
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hazards.dates import parse_day
from hazards.errors import InputError

if TYPE_CHECKING:
    from sqlalchemy import Engine

SCHEMA_PATH = Path(__file__).parent / "schemas" / "contractor-batch.schema.json"
PROPERTIES = (
    "id",
    "route_code",
    "route_name",
    "township",
    "chainage",
    "chainage_m",
    "category",
    "description",
    "tier",
    "countermeasure",
    "quantity",
    "unit",
    "estimated_cost_cny",
    "batch",
    "due_date",
    "status",
    "completed_on",
    "note",
    "evidence",
)
SCHEMA_SAMPLE = 200  # features of each export checked against the schema


@cache
def schema() -> dict[str, Any]:
    """The JSON Schema of contractor batch files."""
    return dict(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))


def validate_collection(data: Any, *, source: str = "the file") -> None:
    """Raise :class:`InputError` listing what in ``data`` breaks the schema."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema())
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        lines = [
            f"  at {'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}"
            for e in errors[:10]
        ]
        more = f"\n  ... and {len(errors) - 10} more" if len(errors) > 10 else ""
        raise InputError(
            f"{source} does not match the contractor file schema ({SCHEMA_PATH.name}):\n"
            + "\n".join(lines)
            + more
        )


# ----------------------------------------------------------------------------- batches
def list_batches(*, engine: Engine | None = None) -> list[dict[str, Any]]:
    """The county's batches: plan, status, contractor, dates, hazards and cost."""
    from hazards.db import store
    from hazards.db.session import get_engine

    return store.list_batches(engine or get_engine())


def get_batch(name: str, *, engine: Engine | None = None) -> dict[str, Any]:
    """One batch by name (:class:`~hazards.errors.NotFound` when there is none)."""
    from hazards.db import store
    from hazards.db.session import get_engine

    return store.get_batch(engine or get_engine(), name)


def update_batch(
    name: str,
    *,
    contractor: str | None = None,
    starts_on: str | dt.date | None = None,
    due_on: str | dt.date | None = None,
    engine: Engine | None = None,
) -> dict[str, Any]:
    """Set a batch's contractor (施工单位), start and due dates (those given); the batch after.

    Completions dated before the start are refused; the due date goes into the contractor's file.
    A due date before the start (as given, or as already set) is refused.
    """
    from hazards.db import store
    from hazards.db.session import get_engine

    engine = engine or get_engine()
    start, due = parse_day(starts_on, param="starts_on"), parse_day(due_on, param="due_on")
    if start is not None or due is not None:
        now = store.get_batch(engine, name)
        first, last = start or now.get("starts_on"), due or now.get("due_on")
        if first is not None and last is not None and last < first:
            raise InputError(
                f"Batch {name}: the due date {last} is before the start {first}; give dates in "
                "order. Nothing was changed.",
                param="due_on" if due is not None else "starts_on",
            )
    return store.update_batch(engine, name, contractor=contractor, starts_on=start, due_on=due)


# ----------------------------------------------------------------------------- export
def export_batch(
    name: str, output: str | Path, *, lang: str | None = None, engine: Engine | None = None
) -> dict[str, Any]:
    """Write a batch as ``.geojson`` (RFC 7946) or ``.xlsx`` (a work list), by suffix; a batch
    of a draft plan is written with a warning (``warnings``: reports of it would be refused).

    ``lang`` (``zh`` or ``en``; default: the ``lang`` setting) is the work list's language:
    headers, categories, tiers, statuses, units and its instructions sheet. The GeoJSON keeps
    its English keys and values whatever ``lang`` is (the schema's)."""
    from hazards.db import store
    from hazards.db.session import get_engine
    from hazards.settings import language

    lang = language(lang)
    engine = engine or get_engine()
    out = Path(output)
    suffix = out.suffix.lower()
    if suffix not in (".geojson", ".json", ".xlsx"):
        raise InputError(
            f"{out}: a batch is written as .geojson or .xlsx; give one of those.", param="output"
        )
    batch = store.get_batch(engine, name)  # an unknown batch is refused before anything is written
    from hazards.outfiles import writable_file

    writable_file(out, param="output", what="batch")
    warnings = (
        [
            f"batch {name} belongs to plan {batch['plan_name']}, still a draft: its hazards are "
            "not planned yet, so a completion report of this file would be refused. Commit the "
            f"plan first (hazards plan commit {batch['plan_name']}) and export the batch again."
        ]
        if batch["status"] == "draft"
        else []
    )
    if suffix == ".xlsx":
        collection = json.loads(store.batch_feature_collection(engine, name))
        validate_collection(
            {**collection, "features": collection["features"][:SCHEMA_SAMPLE]},
            source=f"the export of batch {name}",
        )
        from hazards.worklist import write_work_list

        n = write_work_list(collection, batch, out, lang=lang)
        return {
            "batch": name,
            "plan": batch["plan_name"],
            "file": str(out),
            "hazards": n,
            "lang": lang,
            "warnings": warnings,
        }
    # The features are streamed from PostGIS into a partial file, which replaces ``out`` only
    # once the first features pass the schema: every feature comes from the same SQL template,
    # so checking the first ones checks its shape (the tests check whole exports).
    part = out.with_name(out.name + ".part")
    try:
        with part.open("wb") as fh:
            n, sample = store.write_batch_features(engine, name, fh, sample=SCHEMA_SAMPLE)
        validate_collection(json.loads(sample), source=f"the export of batch {name}")
        part.replace(out)
    except Exception as exc:  # the COPY runs on the driver: its refusals are the driver's
        from hazards.db.session import permission_refused

        refused = permission_refused(exc, engine.url.username)
        if refused is None:
            raise
        raise refused from exc
    finally:
        part.unlink(missing_ok=True)
    return {
        "batch": name,
        "plan": batch["plan_name"],
        "file": str(out),
        "hazards": n,
        "warnings": warnings,
    }
