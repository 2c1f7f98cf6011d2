"""The inventory as it stands: hazards, surveys and the review queue, listed for people and
programs (the ``hazards list``, ``survey list`` and ``review list`` verbs)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import Engine


def _engine(engine: Engine | None) -> Engine:
    from hazards.db.session import get_engine

    return engine or get_engine()


def list_hazards(
    *,
    route: str | None = None,
    tier: str | None = None,
    status: str | None = None,
    survey: int | None = None,
    engine: Engine | None = None,
) -> list[dict[str, Any]]:
    """Hazards ordered along each route, optionally only one route's, tier's, status's or
    survey's; the keys of ``hazards list --json``. ``route`` may be written as ``y 005``. A
    route or survey that does not exist is refused (:class:`~hazards.errors.NotFound`), not
    answered with no hazards."""
    from hazards.chainage import normalise_code
    from hazards.db import store

    code = store.resolve_code(_engine(engine), normalise_code(route)) if route else None
    if code is not None:
        store.get_road(_engine(engine), code)  # NotFound, naming the way to list the routes
    if survey is not None:
        store.get_survey(_engine(engine), survey)
    return store.list_hazards(
        _engine(engine),
        route=code,
        tier=tier,
        status=status,
        survey=survey,
    )


def review_queue(*, engine: Engine | None = None) -> list[dict[str, Any]]:
    """Hazards waiting for review, each with its ``reason``."""
    from hazards.db import store

    rows = store.list_hazards(_engine(engine), review=True)
    for r in rows:
        r["reason"] = r.get("review_reason")
    return rows


def list_surveys(*, engine: Engine | None = None) -> list[dict[str, Any]]:
    """The imported surveys with their row counts, oldest first."""
    from hazards.db import store

    return store.list_surveys(_engine(engine))
