"""Hazards and surveys in the store: a survey import written in one transaction, hazards listed,
read and decided in review."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sqlalchemy import text

from hazards.db.sql import (
    COST_SOURCE,
    COUNTY_HAZARD,
    EFFECTIVE_COST,
    EFFECTIVE_TIER,
    FROM_TEXT,
    LAST_CHANGE_ON,
    TO_TEXT,
)
from hazards.db.store.bulk import (
    BULK_MIN_ROWS,
    BULK_ONLINE,
    DeferredKeys,
    defer_keys,
    draw_ids,
    restore_keys,
    worth_deferring,
)
from hazards.db.store.copy_rows import binary_copy
from hazards.db.store.extents import set_extents
from hazards.db.store.locks import WaitNotice, writer_lock
from hazards.errors import ConfigError, InputError, NotFound
from hazards.settings import county
from hazards.vocabulary import REVIEW_OUTCOME, check_transition

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine


def surveys_by_sha(engine: Engine, sha256: str) -> list[dict[str, Any]]:
    """The county's surveys (:func:`~hazards.settings.county`) imported from a file with this
    SHA-256 (``id``, ``options``, ``report``, ``corrects_id``), oldest first."""
    with engine.connect() as conn:
        return _surveys_by_sha(conn, sha256)


def _surveys_by_sha(conn: Connection, sha256: str) -> list[dict[str, Any]]:
    sql = (
        "SELECT id, options, report, corrects_id FROM surveys WHERE sha256 = :s AND admin_code = :a"
    )
    rows = conn.execute(text(f"{sql} ORDER BY id"), {"s": sha256, "a": county()}).mappings()
    return [dict(r) for r in rows]


def survey_by_sha(engine: Engine, sha256: str) -> dict[str, Any] | None:
    """The first survey imported from a file with this SHA-256 (``id``, ``options``,
    ``report``), or None."""
    found = surveys_by_sha(engine, sha256)
    return found[0] if found else None


def rejected_row_ids(engine: Engine, survey_id: int) -> set[str]:
    """The row ids (序号) of survey ``survey_id``'s rows that were rejected (never stored)."""
    sql = (
        "SELECT r ->> 'row' FROM surveys s, "
        "jsonb_array_elements(coalesce(s.report -> 'rejected_rows', '[]')) r WHERE s.id = :s"
    )
    with engine.connect() as conn:
        return {str(v) for v in conn.execute(text(sql), {"s": survey_id}).scalars() if v}


def known_hazards(
    engine: Engine,
    *,
    survey_id: int | None,
    route_codes: list[str] | None,
    exclude_survey: int | None = None,
) -> pd.DataFrame:
    """Hazards that a new survey row may correct (those of survey ``survey_id``, when given)
    or repeat (the county's, :data:`~hazards.db.sql.COUNTY_HAZARD`: on the given routes; all
    of them: None); none of survey ``exclude_survey``."""
    sql = f"""
        SELECT h.id, h.public_id, h.category, h.category_raw, h.description, h.chainage_m,
               h.status, h.version, h.content_hash, h.provider_row_id, h.survey_id, h.photo,
               r.route_code, coalesce(s.part, 0) AS part, ST_X(h.geom) AS lon, ST_Y(h.geom) AS lat,
               {LAST_CHANGE_ON} AS last_on
        FROM hazards h
        LEFT JOIN roads r ON r.id = h.road_id
        LEFT JOIN road_segments s ON s.id = h.segment_id
        WHERE h.status <> 'rejected' AND {
        f"(h.survey_id = :sv OR {COUNTY_HAZARD})"
        if route_codes is None
        else f"(h.survey_id = :sv OR ({COUNTY_HAZARD} AND r.route_code = ANY(:codes)))"
    }
          AND h.survey_id IS DISTINCT FROM :ex
    """
    with engine.connect() as conn:
        return pd.read_sql(
            text(sql),
            conn,
            params={"sv": survey_id, "codes": route_codes, "ex": exclude_survey, "admin": county()},
        )


# fmt: off
HAZARD_COLUMNS = (
    "id", "public_id", "admin_code", "survey_id", "provider_row_id", "source_line", "raw",
    "content_hash", "category", "category_raw", "description", "provided_tier", "tier",
    "status", "road_id", "segment_id", "chainage_m", "snap_distance_m", "match_method",
    "match_status", "review_reason", "warnings", "countermeasure", "provided_cost_cny",
    "length_m", "photo", "geom", "from_m", "to_m",
)
# fmt: on


class SurveyImportWriter:
    """Writes one survey import inside the transaction of :func:`survey_import_writer`.

    Chunks are written in the background, one at a time and in order, by one thread that alone
    uses the connection meanwhile: :meth:`add` returns at once, so the caller reads and
    matches the next chunk while the database stores this one. Every other method (and the
    end of the transaction) first waits for the chunk being written, and raises its error.
    """

    def __init__(
        self,
        conn: Connection,
        survey_id: int,
        *,
        surveyed_on: Any,
        by: str,
        srid: int | None = None,
        bulk_min_rows: int = BULK_MIN_ROWS,
    ) -> None:
        self.conn, self.survey_id, self.surveyed_on, self.by = conn, survey_id, surveyed_on, by
        self.srid = srid  # the working CRS's EPSG code: linear hazards' extents are cut in it
        self.corrected: list[int] = []  # hazards of another survey this import corrected
        self.added = 0
        self.diverted = 0  # corrections held for review: their hazard is in work since
        self.bulk_min_rows = bulk_min_rows
        self.deferred: list[DeferredKeys] | None = None  # keys to rebuild (bulk mode), or None
        self.linear = False  # a hazard written with a range (from_m/to_m): extents to cut
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="survey-writer")
        self._pending: Future[None] | None = None

    def wait(self) -> None:
        """Wait for the chunk being written; raise its error."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def close(self) -> None:
        """Wait for the chunk being written (its error ignored: the import is failing anyway)
        and stop the thread."""
        with contextlib.suppress(Exception):
            self.wait()
        self._thread.shutdown()

    def bulk_wanted(self, incoming: int) -> bool:
        """Asked once, when the first chunk is stored, with the rows known to come by then:
        whether this import should write in bulk mode (:mod:`.bulk`: the hazards table holds
        no more rows than those, at least ``bulk_min_rows``, and the user owns it). The caller
        then reads what it needs from other sessions (they will wait for this one) and calls
        :meth:`start_bulk`. Asked again, it says no without waiting for the chunk written."""
        if self.deferred is not None:
            return False
        self.wait()
        self.deferred = []
        return worth_deferring(self.conn, "hazards", incoming=incoming, min_rows=self.bulk_min_rows)

    def start_bulk(self, incoming: int) -> None:
        """Defer the keys of ``hazards`` until :meth:`finish`; the table is locked until the
        import commits. (An import adds no events but for repeats of known hazards: the keys of
        ``hazard_events`` stay.)"""
        self.deferred = [defer_keys(self.conn, "hazards", keep=BULK_ONLINE)]

    def add(
        self,
        columns: Sequence[str],
        new: list[tuple[Any, ...]],
        *,
        updates: Sequence[dict[str, Any]] = (),
        seen_again: Sequence[tuple[int, str]] = (),
    ) -> None:
        """Store new hazards (tuples in ``columns`` order; JSON columns as JSON text, ``geom``
        as hex EWKB: :func:`~hazards.db.store.copy_rows.point_hex`; their ``created`` events
        are the ``hazard_history`` view's), corrections (``hazard_id``; ``fields``, the
        survey's own fields to set; ``review``, the reason when it goes to review, else None;
        ``as_new``, the row as a review item should its hazard be in work by now: see
        ``_correct``) and repeats (hazard id, note), each with its event; in the background
        (see the class)."""
        unknown = set(columns) - set(HAZARD_COLUMNS)
        if unknown:
            raise ValueError(f"not columns of hazards: {sorted(unknown)}")
        self.wait()
        self._pending = self._thread.submit(self._add, columns, new, updates, seen_again)

    def _add(
        self,
        columns: Sequence[str],
        new: list[tuple[Any, ...]],
        updates: Sequence[dict[str, Any]],
        seen_again: Sequence[tuple[int, str]],
    ) -> None:
        conn, sid = self.conn, self.survey_id
        if new:
            self._insert(columns, new)
        diverted = [a for u in updates if (a := self._correct(dict(u))) is not None]
        if diverted:  # moves of hazards that work has started on since: review items instead
            self._insert(columns, diverted)
            self.diverted += len(diverted)
        if seen_again:
            conn.execute(
                text(
                    "INSERT INTO hazard_events (hazard_id, kind, happened_on, by, note, data) "
                    "VALUES (:h, 'seen_again', :on, :by, :n, CAST(:d AS jsonb))"
                ),
                [
                    {
                        "h": h,
                        "on": self.surveyed_on,
                        "by": self.by,
                        "n": f"survey {sid}: {note}",
                        "d": json.dumps({"survey": sid}),
                    }
                    for h, note in seen_again
                ],
            )

    def _insert(self, columns: Sequence[str], new: list[tuple[Any, ...]]) -> list[str]:
        """COPY new hazards, each with its first status as ``created_status`` (their
        ``created`` events: the ``hazard_history`` view makes them, migration 0018); their
        public ids."""
        sid = self.survey_id
        raw = self.conn.connection.driver_connection
        assert raw is not None
        status = list(columns).index("status")
        with raw.cursor() as cur:
            ids = draw_ids(self.conn, "hazards", len(new), held=bool(self.deferred))
            public_ids = [f"H{hid:06d}" for hid in ids]
            # Ids follow the rows as given (the sheet's order); the rows are written in road
            # and chainage order, so that each index is filled where it is already in memory
            # (in sheet order every row lands on a random page of a province-sized index).
            order = _road_order(columns, new)
            names = ("id", "public_id", "survey_id", "created_status", *columns)
            with binary_copy(cur, "hazards", names) as copy:
                for i in order.tolist():
                    row = new[i]
                    copy.write_row((ids[i], public_ids[i], sid, row[status], *row))
        self.added += len(new)
        if "from_m" in columns and not self.linear:  # any linear hazard: extents to cut
            f = list(columns).index("from_m")
            self.linear = any(row[f] is not None for row in new)
        return public_ids

    def _in_review_since_created(self, hid: int) -> bool:
        """Whether hazard ``hid`` is as it was created: no event since but other surveys
        seeing it again (no correction, road reload nor decision)."""
        return not self.conn.execute(
            text(
                "SELECT EXISTS (SELECT 1 FROM hazard_events WHERE hazard_id = :h "
                "AND kind NOT IN ('created', 'seen_again'))"
            ),
            {"h": hid},
        ).scalar_one()

    def _correct(self, u: dict[str, Any]) -> tuple[Any, ...] | None:
        """Apply one correction: only the survey's own fields, never the status, batch or
        events of the lifecycle; a correction to review (``review``: the reason) moves the
        hazard to ``review`` only while it is still ``identified`` (or in review); one that
        matches a hazard in review since its own survey's matching makes it ``identified`` (not
        a photo delivered later, ``photo``). Locked, updated at its version then.
        Returns ``as_new`` (the row as a review item) when the hazard can no longer take it."""
        conn, sid = self.conn, self.survey_id
        hid, reason, fields = u["hazard_id"], u.get("review"), dict(u["fields"])
        old = (
            conn.execute(
                text(
                    "SELECT status, version, road_id, segment_id, chainage_m, category, "
                    "category_raw, description, provided_tier, provided_cost_cny, "
                    "ST_AsEWKT(geom) AS geom FROM hazards WHERE id = :h FOR UPDATE"
                ),
                {"h": hid},
            )
            .mappings()
            .one()
        )
        status = old["status"]
        if reason is not None:
            if status not in ("identified", "review"):
                return tuple(u["as_new"])
            fields.update(status="review", match_status="review", review_reason=reason)
        elif status == "review" and not u.get("photo") and self._in_review_since_created(hid):
            # the row now matches where it went to review from its own survey's matching (an
            # unknown route code, too far...): corrected, it is no longer in doubt. A hazard a
            # correction sent to review (a move) waits for its review.
            fields.update(status="identified", match_status="accepted", review_reason=None)
        geom = fields.pop("geom", None)
        sets = ", ".join(
            f"{k} = CAST(:{k} AS jsonb)" if k in ("raw", "warnings") else f"{k} = :{k}"
            for k in fields
        )
        done = conn.execute(
            text(
                f"UPDATE hazards SET {sets}, version = version + 1, updated_at = now(), "
                "geom = coalesce(CAST(CAST(:geom AS text) AS geometry), geom) "
                "WHERE id = :h AND version = :v"
            ),
            {**fields, "h": hid, "geom": geom, "v": old["version"]},
        ).rowcount
        if done != 1:  # cannot happen while the row is locked; never write over a change
            raise RuntimeError(f"hazard {hid} changed while it was locked")
        self.corrected.append(int(hid))
        before = {k: v for k, v in old.items() if k != "version"}
        photo = bool(u.get("photo"))  # no status, on its latest day: no change of its course
        conn.execute(
            text(
                "INSERT INTO hazard_events (hazard_id, kind, happened_on, by, from_status, "
                "to_status, note, data) VALUES (:h, 'updated', CASE WHEN :p THEN coalesce((SELECT "
                "max(happened_on) FROM hazard_history WHERE hazard_id = :h), CAST(:on AS date)) "
                "ELSE CAST(:on AS date) END, :by, :f, :t, :n, CAST(:d AS jsonb))"
            ),
            {
                "h": hid, "p": photo, "on": self.surveyed_on, "by": self.by,
                "f": None if photo else status,
                "t": None if photo else fields.get("status", status),
                "n": f"{'photo' if photo else 'corrected'} by survey {sid}"
                + (f": {reason}" if reason else ""),
                "d": json.dumps({"survey": sid, "before": before}, default=str),
            },
        )  # fmt: skip
        return None

    def finish(self, *, report: dict[str, Any], **counts: Any) -> None:
        """The extents of the linear hazards written, the survey's counts and report."""
        self.wait()
        # Keys first: an index over rows updated in its transaction is unused by older sessions
        for keys in self.deferred or ():
            restore_keys(self.conn, keys)
        if self.srid is not None and (self.linear or self.corrected):
            set_extents(
                self.conn, srid=self.srid, survey_id=self.survey_id, hazard_ids=self.corrected
            )
        sets = ", ".join(f"{k} = :{k}" for k in counts)
        self.conn.execute(
            text(f"UPDATE surveys SET {sets}, report = CAST(:report AS jsonb) WHERE id = :sid"),
            {
                **counts,
                "report": json.dumps(report, ensure_ascii=False, default=str),
                "sid": self.survey_id,
            },
        )


def _road_order(columns: Sequence[str], rows: list[tuple[Any, ...]]) -> np.ndarray:
    """Positions of ``rows`` sorted by road and chainage (rows without a road first)."""
    n = len(rows)
    if "road_id" not in columns:
        return np.arange(n)
    r = list(columns).index("road_id")
    c = list(columns).index("chainage_m") if "chainage_m" in columns else r
    road = np.fromiter((row[r] or 0 for row in rows), dtype=np.int64, count=n)
    chainage = np.fromiter((row[c] or 0.0 for row in rows), dtype=np.float64, count=n)
    return np.lexsort((chainage, road))


@contextlib.contextmanager
def survey_import_writer(
    engine: Engine,
    *,
    survey: dict[str, Any],
    by: str,
    replace: int | None = None,
    wait: bool = True,
    on_wait: WaitNotice | None = None,
    check: Callable[[list[dict[str, Any]]], None] | None = None,
    srid: int | None = None,
    bulk_min_rows: int = BULK_MIN_ROWS,
) -> Iterator[SurveyImportWriter]:
    """One transaction for a whole survey import: the survey import lock taken (one import at
    a time: :func:`~hazards.db.store.locks.writer_lock` with ``wait`` and ``on_wait``), then
    ``check`` called with the surveys already imported from the same bytes (``id``,
    ``options``, ``report``, ``corrects_id``, as committed once the lock is held: it raises
    to stop), survey ``replace`` dropped (refused as :func:`drop_survey` refuses), the survey
    row, then what the writer is given; committed when the block ends, rolled back if it raises. ``survey``
    holds the ``surveys`` columns (``options`` as a dict, ``corrects_id`` optional); ``srid``
    (the working CRS) is where linear hazards' extents are cut (none cut without it);
    ``bulk_min_rows``: see :meth:`SurveyImportWriter.bulk_wanted`."""
    with engine.begin() as conn:
        writer_lock(
            conn,
            "survey import",
            what=f"the survey import of {survey['source_name']} by {by}",
            wait=wait,
            on_wait=on_wait,
        )
        conn.execute(text("SET LOCAL jit = off"))
        if check is not None:
            check(_surveys_by_sha(conn, survey["sha256"]))
        if replace is not None:
            _drop_survey(conn, replace)
        sid = conn.execute(
            text(
                "INSERT INTO surveys (admin_code, provider, surveyed_on, source_name, sha256, rows_total, "
                "rows_accepted, rows_review, rows_rejected, options, corrects_id) VALUES (:admin_code, "
                ":provider, :surveyed_on, :source_name, :sha256, 0, 0, 0, 0, CAST(:options AS jsonb), "
                ":corrects_id) RETURNING id"
            ),
            {
                "corrects_id": None,
                **survey,
                "options": json.dumps(survey.get("options") or {}, ensure_ascii=False),
            },
        ).scalar_one()
        writer = SurveyImportWriter(
            conn,
            int(sid),
            surveyed_on=survey["surveyed_on"],
            by=by,
            srid=srid,
            bulk_min_rows=bulk_min_rows,
        )
        try:
            yield writer
            writer.wait()  # the last chunk written before the commit
        finally:
            writer.close()  # before a rollback, the connection back from the writing thread


def list_surveys(engine: Engine) -> list[dict[str, Any]]:
    """The imported surveys with their row counts, oldest first."""
    with engine.connect() as conn:
        rows = (
            conn.execute(
                text(
                    "SELECT id, provider, surveyed_on, source_name, options->>'sheet' AS sheet, "
                    "rows_total, rows_accepted, rows_review, rows_rejected, rejected_file, "
                    "imported_at FROM surveys ORDER BY id"
                )
            )
            .mappings()
            .all()
        )
    return [dict(r) for r in rows]


def _survey_row(conn: Connection, survey_id: int, *, lock: bool = False) -> dict[str, Any]:
    row = (
        conn.execute(
            text(
                "SELECT id, provider, surveyed_on, source_name, sha256, options, corrects_id, "
                "rows_total, rows_accepted, rows_review, rows_rejected, rejected_file, report, "
                "imported_at FROM surveys WHERE id = :s" + (" FOR UPDATE" if lock else "")
            ),
            {"s": survey_id},
        )
        .mappings()
        .one_or_none()
    )
    if row is None:
        raise NotFound(f"No survey with id {survey_id}. `hazards survey list` shows the surveys.")
    return dict(row)


def survey_references(conn: Connection, survey_id: int) -> list[str]:
    """What refers to a survey's hazards or depends on it, one line each (empty: nothing, it
    can be dropped): plans and batches, status changes and other events beyond its own
    creation events, re-checks, corrections made by it or of it."""
    refs: list[str] = []
    for plan, batch, n in conn.execute(
        text(
            "SELECT b.plan_name, b.name, count(*) FROM batch_items bi "
            "JOIN batches b ON b.id = bi.batch_id JOIN hazards h ON h.id = bi.hazard_id "
            "WHERE h.survey_id = :s GROUP BY b.plan_name, b.name ORDER BY b.plan_name, b.name"
        ),
        {"s": survey_id},
    ):
        refs.append(f"plan {plan}, batch {batch}: {n} of its hazards")
    for kind, n, first in conn.execute(
        text(
            "SELECT e.kind, count(DISTINCT h.id), min(h.public_id) FROM hazard_events e "
            "JOIN hazards h ON h.id = e.hazard_id WHERE h.survey_id = :s AND e.kind <> 'created' "
            "GROUP BY e.kind ORDER BY e.kind"
        ),
        {"s": survey_id},
    ):
        refs.append(f"{kind} events on {n} of its hazards (first {first})")
    n = conn.execute(
        text(
            "SELECT count(*) FROM rechecks c JOIN hazards h ON h.id = c.hazard_id "
            "WHERE h.survey_id = :s"
        ),
        {"s": survey_id},
    ).scalar_one()
    if n:
        refs.append(f"re-checks of {n} of its hazards")
    for (other,) in conn.execute(
        text("SELECT id FROM surveys WHERE corrects_id = :s ORDER BY id"), {"s": survey_id}
    ):
        refs.append(f"survey {other} corrects it")
    n = conn.execute(
        text(
            "SELECT count(*) FROM hazard_events WHERE kind = 'updated' "
            "AND (data ->> 'survey')::int = :s"
        ),
        {"s": survey_id},
    ).scalar_one()
    if n:
        refs.append(f"it corrected {n} hazards of an earlier survey (a drop cannot undo that)")
    return refs


def get_survey(engine: Engine, survey_id: int) -> dict[str, Any]:
    """A survey's row, its hazards per status and what refers to it (``references``)."""
    with engine.connect() as conn:
        out = _survey_row(conn, survey_id)
        out["hazards"] = dict(
            conn.execute(
                text(
                    "SELECT status, count(*) FROM hazards WHERE survey_id = :s "
                    "GROUP BY status ORDER BY status"
                ),
                {"s": survey_id},
            ).all()
        )
        out["references"] = survey_references(conn, survey_id)
    return out


def _drop_survey(conn: Connection, survey_id: int) -> dict[str, Any]:
    """Delete a survey, its hazards (with their events) and the repeats it recorded on other
    hazards, in the caller's transaction; refused when anything refers to them."""
    sv = _survey_row(conn, survey_id, lock=True)
    conn.execute(
        text("SELECT 1 FROM hazards WHERE survey_id = :s ORDER BY id FOR UPDATE"), {"s": survey_id}
    )
    refs = survey_references(conn, survey_id)
    if refs:
        raise InputError(
            f"Survey {survey_id} ({sv['source_name']}) cannot be dropped: "
            + "; ".join(refs)
            + ". Nothing was changed.",
            param="survey_id",
        )
    # hazard_events is append-only; migration 0004 lets a survey drop remove the events of
    # what it removes, in this transaction only.
    conn.execute(text("SELECT set_config('hazards.dropping_survey', 'on', true)"))
    seen = conn.execute(
        text(
            "DELETE FROM hazard_events WHERE kind = 'seen_again' AND ((data ->> 'survey')::int = :s "
            "OR (data IS NULL AND note LIKE :n))"
        ),
        {"s": survey_id, "n": f"survey {survey_id}: %"},
    ).rowcount
    n = conn.execute(text("DELETE FROM hazards WHERE survey_id = :s"), {"s": survey_id}).rowcount
    conn.execute(text("DELETE FROM surveys WHERE id = :s"), {"s": survey_id})
    conn.execute(text("SELECT set_config('hazards.dropping_survey', 'off', true)"))
    return {
        "survey_id": survey_id,
        "source_name": sv["source_name"],
        "hazards_removed": n,
        "repeats_removed": seen,
    }


def drop_survey(engine: Engine, survey_id: int) -> dict[str, Any]:
    """Remove a survey with its hazards and review items in one transaction, when nothing
    refers to them (else refused listing what does); ``survey_id``, ``hazards_removed``..."""
    with engine.begin() as conn:
        return _drop_survey(conn, survey_id)


def list_hazards(
    engine: Engine,
    *,
    route: str | None = None,
    tier: str | None = None,
    status: str | None = None,
    survey: int | None = None,
    review: bool = False,
) -> list[dict[str, Any]]:
    """Hazards with the keys of ``hazards list --json`` (and the review reason): the effective
    tier, and the effective cost as ``cost_cny`` with its ``cost_source``; a linear hazard's
    range as ``from_m``/``to_m`` and ``from_chainage``/``to_chainage`` (null for a point), its
    ``length_m`` and ``photo`` (stored references, one per line)."""
    where = [COUNTY_HAZARD]  # the county's
    params: dict[str, Any] = {"admin": county()}
    if route:  # the county's route of that code
        where.append("r.route_code = :route")
        params["route"] = route
    if tier:
        where.append(f"{EFFECTIVE_TIER} = :tier")
        params["tier"] = tier
    if status:
        where.append("h.status = :status")
        params["status"] = status
    if survey is not None:
        where.append("h.survey_id = :survey")
        params["survey"] = survey
    if review:
        where.append("h.status = 'review'")
    sql = f"""
        SELECT h.public_id AS id, h.survey_id, coalesce(h.provider_row_id, h.source_line::text) AS source_row,
               r.route_code, h.chainage_m, h.snap_distance_m, h.match_method, h.category,
               h.category_raw, h.description, {EFFECTIVE_TIER} AS tier,
               h.provided_tier, h.status, ST_X(h.geom) AS lon, ST_Y(h.geom) AS lat,
               h.review_reason, h.warnings, h.countermeasure, h.provided_cost_cny,
               {EFFECTIVE_COST} AS cost_cny, {COST_SOURCE} AS cost_source,
               h.from_m, h.to_m, {FROM_TEXT} AS from_chainage, {TO_TEXT} AS to_chainage,
               h.length_m, h.photo
        FROM hazards h LEFT JOIN roads r ON r.id = h.road_id
        WHERE {" AND ".join(where)}
        ORDER BY r.route_code NULLS LAST, h.chainage_m NULLS LAST, h.id
    """
    with engine.connect() as conn:
        rows = conn.execute(text(sql), params).mappings().all()
    return [dict(r) for r in rows]


def get_hazard(engine: Engine, public_id: str) -> dict[str, Any]:
    """A hazard's ``id``, ``status``, ``version``, ``road_id``, ``lon``, ``lat``,
    ``snap_distance_m`` and ``review_reason``; :class:`NotFound` if none."""
    with engine.connect() as conn:
        return hazard_by_public_id(conn, public_id, lock=False)


def hazard_by_public_id(conn: Connection, public_id: str, *, lock: bool = True) -> dict[str, Any]:
    """As :func:`get_hazard`, inside the caller's transaction; the row is locked with ``lock``."""
    row = (
        conn.execute(
            text(
                "SELECT id, status, version, road_id, ST_X(geom) AS lon, ST_Y(geom) AS lat, "
                "snap_distance_m, review_reason FROM hazards "
                "WHERE public_id = :p" + (" FOR UPDATE" if lock else "")
            ),
            {"p": public_id},
        )
        .mappings()
        .one_or_none()
    )
    if row is None:
        raise NotFound(f"No hazard with id {public_id!r}. `hazards list` shows the ids.")
    return dict(row)


def resolve_review(
    engine: Engine,
    public_id: str,
    *,
    accept: bool,
    reason: str | None = None,
    placement: dict[str, Any] | None = None,
    by: str | None = None,
    check: Callable[[str, str, str], None] = check_transition,
) -> dict[str, Any]:
    """Accept (optionally re-placed on another route) or reject a hazard waiting in review.

    The new status is :data:`~hazards.vocabulary.REVIEW_OUTCOME` of the decision, checked with
    ``check(public_id, current, to)`` (the transition table by default); one event records it.
    """
    with engine.begin() as conn:
        h = hazard_by_public_id(conn, public_id)
        if h["status"] != "review":
            raise ConfigError(
                f"Hazard {public_id} is not waiting for review (its status is {h['status']})."
            )
        to = REVIEW_OUTCOME[accept]
        check(public_id, h["status"], to)
        done = "review_reason = NULL, " if accept else ""  # decided: no longer a question
        sets = f"status = :to, match_status = :ms, {done}version = version + 1, updated_at = now()"
        params: dict[str, Any] = {
            "to": to,
            "ms": "accepted" if accept else "rejected",
            "h": h["id"],
        }
        if placement:
            sets += (
                ", road_id = :road_id, segment_id = :segment_id, chainage_m = :chainage_m, "
                "snap_distance_m = :snap_distance_m, match_method = :match_method, "
                # a range measured on the other route means nothing here: a point again
                # (length_m, its length, stays for the quantity)
                "from_m = NULL, to_m = NULL, extent = NULL"
            )
            params.update(placement)
        conn.execute(text(f"UPDATE hazards SET {sets} WHERE id = :h"), params)
        conn.execute(
            text(
                "INSERT INTO hazard_events (hazard_id, kind, by, from_status, to_status, note) "
                "VALUES (:h, 'review', :by, 'review', :to, :note)"
            ),
            {"h": h["id"], "by": by, "to": to, "note": reason or ("accepted" if accept else None)},
        )
    return {"id": public_id, "status": to}
