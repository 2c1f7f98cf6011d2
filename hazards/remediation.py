"""Remediation tracking: the status lifecycle, history, re-checks (回头看) and progress.

Statuses and the changes allowed between them (``hazards.vocabulary.TRANSITIONS``)::

    identified → planned → in_progress → reported_done → verified
                        ↘ reported_done (a completion report may skip in_progress)
    reported_done / verified → reopened (a failed re-check) → planned
    identified / review / reopened → rejected (false positive, duplicate; with a reason)
    review → identified (accepted in review)

Every change appends an event (who: the database user, by: the name given, when, from, to,
note, evidence) in the same transaction as the status change, so the status always equals the
last event's. Changes use optimistic
locking on the hazard's ``version``: a change based on a state someone else has since changed
fails with :class:`~hazards.errors.ConflictError` and nothing is written.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

import numpy as np
import pandas as pd

from hazards.chainage import format_chainage, normalise_code
from hazards.dates import parse_past_day
from hazards.errors import InputError
from hazards.vocabulary import (
    CATEGORY_ZH,
    DONE_STATUSES,
    RECHECK_OUTCOME,
    RECHECK_RESULTS,
    RECHECK_WORDS,
    STATUS_ZH,
    STATUSES,
    TRANSITIONS,
    check_transition,
)

if TYPE_CHECKING:
    from sqlalchemy import Engine

__all__ = [
    "STATUSES",
    "TRANSITIONS",
    "check_transition",
    "history",
    "plan_rechecks",
    "progress",
    "progress_csv",
    "record_recheck",
    "set_status",
    "write_sites",
]

PROGRESS_GROUPS = ("road", "township", "tier", "batch")


class ProgressRow(TypedDict):
    """One group of the progress report (and its ``total``)."""

    group: str
    hazards: int
    counts: dict[str, int]
    pct_remediated: float
    pct_verified: float
    remaining_cost_cny: float
    km_near_open_tier_I: float  # km of road within ``near_m`` of an open tier I hazard


class ProgressReport(TypedDict):
    """What :func:`progress` returns (``hazards progress --json``)."""

    by: str
    as_of: str | None
    near_m: float  # the distance of ``km_near_open_tier_I`` (the tier_one_reach_m setting)
    groups: list[ProgressRow]
    total: ProgressRow


def set_status(
    refs: list[str],
    *,
    to: str,
    on: str | dt.date | None = None,
    by: str | None = None,
    note: str | None = None,
    evidence: str | None = None,
    expected_versions: dict[str, int] | None = None,
    kind: str = "status",
    engine: Engine | None = None,
) -> list[dict[str, Any]]:
    """Move hazards to ``to``: all of them or none (one transaction).

    ``expected_versions`` (public id → version the caller read) turns on the conflict check;
    without it, the change is checked against the status found when the transaction runs.
    """
    from hazards.db import store
    from hazards.db.session import get_engine

    if not refs:
        raise InputError("Name at least one hazard id.", param="refs")
    day = parse_past_day(on, param="on", fix="record a change when it has happened")
    day = day or dt.date.today()
    if to == "rejected" and not (note and note.strip()):
        raise InputError(
            "Rejecting needs a reason in the note (false positive, duplicate of H000123, ...).",
            param="note",
        )
    return store.change_status(
        engine or get_engine(),
        refs,
        to=to,
        on=day,
        by=by,
        note=note,
        evidence=evidence,
        expected_versions=expected_versions,
        check=check_transition,
        kind=kind,
    )


def history(public_id: str, *, engine: Engine | None = None) -> dict[str, Any]:
    """A hazard's current state and all its events, oldest first.

    Each event has ``who``, the database user that recorded it (``current_user``, from the
    database; none before migration 0005), and ``by``, the free-text name given with the
    change (a note)."""
    from hazards.db import store
    from hazards.db.session import get_engine

    return store.hazard_history(engine or get_engine(), public_id)


# ----------------------------------------------------------------------------- re-checks
def plan_rechecks(
    *,
    batch: str | None = None,
    road: str | None = None,
    sample_pct: float = 100.0,
    seed: int = 0,
    include_verified: bool = False,
    engine: Engine | None = None,
) -> pd.DataFrame:
    """Finished sites to revisit (回头看), ordered along each route; a reproducible sample."""
    from hazards.db import store
    from hazards.db.session import get_engine

    if not 0 < sample_pct <= 100:
        raise InputError(
            f"The sample {sample_pct}% is not a percentage above 0 and at most 100.",
            param="sample_pct",
        )
    engine = engine or get_engine()
    # finished work: reported done, and (when asked) already verified
    statuses = list(DONE_STATUSES) if include_verified else [DONE_STATUSES[0]]
    sites = store.finished_sites(
        engine, statuses=statuses, batch=batch, road=normalise_code(road) if road else None
    )
    if sites.empty:
        return sites
    n = max(1, math.ceil(len(sites) * sample_pct / 100 - 1e-9))  # at least PCT % of them
    rng = np.random.default_rng(seed)
    keep = (
        np.sort(rng.choice(len(sites), size=n, replace=False))
        if n < len(sites)
        else np.arange(len(sites))
    )
    out = sites.iloc[keep].sort_values(["route_code", "chainage_m", "id"]).reset_index(drop=True)
    out.insert(
        out.columns.get_loc("chainage_m"),
        "chainage",
        [format_chainage(c) if pd.notna(c) else None for c in out["chainage_m"]],
    )
    out.insert(0, "order", np.arange(1, len(out) + 1))
    store.record_planned_rechecks(engine, list(out["id"]))
    return out


SITE_COLUMNS_ZH = {
    "order": "序号",
    "id": "隐患编号",
    "route_code": "路线编码",
    "route_name": "路线名称",
    "township": "乡镇",
    "chainage": "桩号",
    "chainage_m": "桩号（米）",
    "from_chainage": "起点桩号",
    "to_chainage": "止点桩号",
    "lon": "经度",
    "lat": "纬度",
    "category": "隐患类型",
    "description": "隐患描述",
    "batch": "批次",
    "status": "状态",
    "done_on": "完成日期",
}
"""A site list's columns as a Chinese re-check team reads them (``recheck plan``'s CSV)."""

RECHECK_BLANKS = {
    "zh": ("复查结果（合格/不合格）", "复查日期", "复查人", "情况说明"),
    "en": ("result (pass/fail)", "checked_on", "checked_by", "note"),
}
"""The empty columns a CSV site list ends with, for the team to fill in on site (then
``recheck import``, :mod:`hazards.rechecks`, or ``recheck record``)."""


def write_sites(sites: pd.DataFrame, path: str | Path, *, lang: str | None = None) -> Path:
    """Write a site list as CSV (UTF-8 with BOM) or GeoJSON (RFC 7946, lon/lat; a linear
    hazard's feature is its line), by suffix.

    The CSV is for the re-check team: in ``lang`` (default: the ``lang`` setting; zh: Chinese
    headers, categories and statuses), ending with empty columns for the result, date, who and
    a note (:data:`RECHECK_BLANKS`). The GeoJSON keeps its English keys and values."""
    import geopandas as gpd

    from hazards.outfiles import writable_file

    p = Path(path)
    suffix = p.suffix.lower()
    if suffix in (".csv", ".geojson", ".json"):
        writable_file(p, param="path", what="site list")
    if suffix == ".csv":
        from hazards.outfiles import literal_frame
        from hazards.settings import get_settings

        lang = lang or get_settings().lang
        table = sites.drop(columns="extent", errors="ignore")
        if lang == "zh":
            for column, words in (("category", CATEGORY_ZH), ("status", STATUS_ZH)):
                if column in table:
                    table[column] = [words.get(v, v) for v in table[column]]
            table = table.rename(columns=SITE_COLUMNS_ZH)
        for blank in RECHECK_BLANKS["zh" if lang == "zh" else "en"]:
            table[blank] = ""
        literal_frame(table).to_csv(p, index=False, encoding="utf-8-sig")
    elif suffix in (".geojson", ".json"):
        import shapely

        points = gpd.points_from_xy(sites["lon"], sites["lat"])
        lines = shapely.from_wkb(
            [
                bytes(w) if isinstance(w, (bytes, bytearray, memoryview)) else None
                for w in sites.get("extent", [None] * len(sites))
            ]
        )  # a linear hazard drawn as its run, as in the contractor's file
        gdf = gpd.GeoDataFrame(
            sites.drop(columns="extent", errors="ignore"),
            geometry=[
                line if line is not None else p for line, p in zip(lines, points, strict=True)
            ],
            crs=4326,
        )
        gdf.to_file(p, driver="GeoJSON", engine="pyogrio", RFC7946="YES")
    else:
        raise InputError(
            f"{p}: a site list is written as .csv or .geojson; give one of those.", param="path"
        )
    return p


def record_recheck(
    public_id: str,
    *,
    result: str,
    on: str | dt.date | None = None,
    by: str | None = None,
    note: str | None = None,
    engine: Engine | None = None,
) -> dict[str, Any]:
    """Record a re-check: pass → verified, fail → reopened (``vocabulary.RECHECK_OUTCOME``).
    A verified site looked at again (``recheck plan --include-verified``) that passes stays
    verified: the re-check and its event are recorded all the same."""
    from hazards.db import store
    from hazards.db.session import get_engine

    result = RECHECK_WORDS.get(str(result).strip().lower(), result)  # 合格 is pass
    if result not in RECHECK_RESULTS:
        raise InputError(
            f"The result {result!r} is not a re-check result: use pass or fail (合格/不合格).",
            param="result",
        )
    public_id = public_id.strip().upper()  # h000029, as a completion report reads it
    engine = engine or get_engine()
    to = RECHECK_OUTCOME[result]
    day = parse_past_day(on, param="on", fix="record a re-check when it has been made")
    day = day or dt.date.today()
    changed = store.change_status(
        engine,
        [public_id],
        to=to,
        on=day,
        by=by,
        note=note or f"re-check {result}",
        evidence=None,
        expected_versions=None,
        check=_again_verified if to == "verified" else check_transition,
        kind="recheck",
        recheck={"result": result, "on": day, "by": by, "note": note},
    )
    return changed[0]


def _again_verified(public_id: str, current: str, to: str) -> None:
    """The transition check of a passing re-check: verified again is no change of status, and
    allowed; anything else as the transition table says."""
    if not (current == to == "verified"):
        check_transition(public_id, current, to)


# ----------------------------------------------------------------------------- progress
def progress(
    *,
    by: str = "road",
    as_of: str | dt.date | None = None,
    near_m: float | None = None,
    engine: Engine | None = None,
) -> ProgressReport:
    """Per group: counts per status, % remediated, % verified, remaining cost, and the km of
    road near an open tier I hazard.

    ``as_of`` rebuilds every hazard's status on that date from the events. % remediated counts
    ``reported_done`` and ``verified`` among the hazards that are not rejected.
    ``km_near_open_tier_I`` is the length of road within ``near_m`` metres (default: the
    ``tier_one_reach_m`` setting, 500) along the route, either side, of an open tier I hazard
    (of its whole run, for a linear hazard), along its own line (main line or branch): the
    stretches merged per line, so that overlapping stretches count once, gaps and road beyond
    the route's ends not at all. A group counts the stretches of its own hazards; the total
    merges them all.
    """
    from hazards.db import store
    from hazards.db.session import get_engine
    from hazards.settings import get_settings

    if by not in PROGRESS_GROUPS:
        raise InputError(
            f"Progress cannot be grouped by {by!r}: use road, township, tier or batch.", param="by"
        )
    reach = get_settings().tier_one_reach_m if near_m is None else float(near_m)
    if not (reach >= 0 and np.isfinite(reach)):
        raise InputError(f"The distance {near_m} m is not a length ≥ 0.", param="near_m")
    day = parse_past_day(  # the statuses of a day to come are not known yet
        as_of, param="as_of", fix="give today or a day before", what="The day"
    )
    engine = engine or get_engine()
    df = store.progress_frame(engine, as_of=day)
    key = {"road": "route_code", "township": "township", "tier": "tier", "batch": "batch"}[by]
    km = store.tier_one_reach(engine, reach_m=reach, by=by, as_of=day)
    df[key] = df[key].fillna("—")
    df["_all"] = "total"
    near = pd.Series({g: v for g, v in km.items() if g is not None}, dtype=float)
    groups = _progress_rows(df, key, near)
    total = _progress_rows(df, "_all", pd.Series({"total": km.get(None, 0.0)}, dtype=float))[0]
    return {
        "by": by,
        "as_of": day.isoformat() if day else None,
        "near_m": reach,
        "groups": groups,
        "total": total,
    }


def _progress_rows(df: pd.DataFrame, key: str, km: pd.Series) -> list[ProgressRow]:
    """The progress figures of every group of ``key``, computed column-wise from the counted
    rows of :func:`hazards.db.store.progress_frame` (``n`` hazards, summed ``cost`` each);
    ``km``: the km near an open tier I hazard per group (``store.tier_one_reach``)."""
    if df.empty:
        return [] if key != "_all" else [_empty_row("total")]
    status = df["status"]
    n = df["n"].astype("int64")
    live = status != "rejected"
    done = status.isin(DONE_STATUSES)
    by = df[key]
    counts = (
        n.groupby([by, status])
        .sum()
        .unstack(fill_value=0)
        .reindex(columns=list(STATUSES), fill_value=0)
    )
    agg = pd.DataFrame(
        {
            "hazards": n.groupby(by).sum(),
            "live": n.where(live, 0).groupby(by).sum(),
            "done": n.where(live & done, 0).groupby(by).sum(),
            "verified": n.where(status == "verified", 0).groupby(by).sum(),
            "remaining": df["cost"]
            .astype(float)
            .fillna(0)
            .where(live & ~done, 0.0)
            .groupby(by)
            .sum(),
        }
    )
    # read out as Python values once (a province has 50,000 roads: no per-cell look-ups)
    per_status = counts.loc[agg.index].to_numpy().tolist()
    near = km.reindex(agg.index, fill_value=0.0).astype(float).tolist()
    out: list[ProgressRow] = []
    for g, hazards, live_n, done_n, verified_n, remaining, c, k in zip(
        agg.index.tolist(),
        agg["hazards"].tolist(),
        agg["live"].tolist(),
        agg["done"].tolist(),
        agg["verified"].tolist(),
        agg["remaining"].tolist(),
        per_status,
        near,
        strict=True,
    ):
        n = int(live_n)
        out.append(
            {
                "group": str(g),
                "hazards": int(hazards),
                "counts": {s: int(v) for s, v in zip(STATUSES, c, strict=True)},
                "pct_remediated": round(100.0 * done_n / n, 1) if n else 0.0,
                "pct_verified": round(100.0 * verified_n / n, 1) if n else 0.0,
                "remaining_cost_cny": round(float(remaining), 2),
                "km_near_open_tier_I": round(float(k), 3),
            }
        )
    return out


def _empty_row(name: str) -> ProgressRow:
    return {
        "group": name,
        "hazards": 0,
        "counts": {s: 0 for s in STATUSES},
        "pct_remediated": 0.0,
        "pct_verified": 0.0,
        "remaining_cost_cny": 0.0,
        "km_near_open_tier_I": 0.0,
    }


def progress_csv(report: ProgressReport, path: str | Path) -> Path:
    """Write the progress report as a CSV table (UTF-8 with BOM, for Excel), one row per group."""
    rows = []
    for g in [*report["groups"], report["total"]]:
        row = {report["by"]: g["group"], "hazards": g["hazards"], **g["counts"]}
        row.update(
            {
                k: g[k]
                for k in (
                    "pct_remediated",
                    "pct_verified",
                    "remaining_cost_cny",
                    "km_near_open_tier_I",
                )
            }
        )
        rows.append(row)
    from hazards.outfiles import literal_frame, writable_file

    p = writable_file(path, param="path", what="progress table")
    literal_frame(pd.DataFrame(rows)).to_csv(p, index=False, encoding="utf-8-sig")
    return p
