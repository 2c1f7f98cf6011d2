"""Crash-informed risk (the ``crash_risk`` step): crash history lifts the tier of surveyed hazards
and adds to route risk; black spots with no surveyed hazard are sites to survey.

The rule (docs/tiers-and-planning.md, "Crash history"), with the ``[scoring.crashes]`` values of
:class:`CrashRiskConfig`: the crashes of the last ``years`` years up to the newest stored crash
are screened in sliding windows (``window_m`` long, one every ``step_m``); a window with at least
``black_spot_crashes`` crashes and a positive Empirical Bayes excess is a black spot, and
overlapping black-spot windows of one route part are merged into one stretch (事故多发点段). A
surveyed hazard inside a black spot, or within ``fatal_m`` of chainage of a fatal crash (K) of
the period on its route, rises ``lift`` tiers (III → II → I, never above I) and its score gains
``score_points`` (at most 100). A route's crash points are ``route_weight`` × its fatal and
serious (K + A) crashes per year. :func:`black_spots` and :func:`crash_reasons` are pure.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from hazards.chainage import format_chainage
from hazards.errors import ConfigError, InputError
from hazards.screening import holds, route_ends, screen_sites
from hazards.vocabulary import TIERS

if TYPE_CHECKING:
    from sqlalchemy import Engine


@dataclass(frozen=True)
class CrashRiskConfig:
    """How crash history weighs in the tiers and in route risk (``[scoring.crashes]``)."""

    lift: int = 1  # tiers a hazard rises (0: crashes change no tier)
    score_points: float = 10.0  # points added to its score (capped at 100)
    years: float = 3.0  # the crash period: this many years up to the newest crash
    fatal_m: float = 50.0  # a fatal crash this close (m of chainage, same route part)
    window_m: float = 500.0  # the sliding windows of the black-spot screening
    step_m: float = 100.0
    black_spot_crashes: int = 3  # a black-spot window holds at least this many crashes
    route_weight: float = 50.0  # route risk points per fatal or serious crash a year


def crash_config(table: dict[str, Any]) -> CrashRiskConfig:
    """A :class:`CrashRiskConfig` from a ``[scoring.crashes]`` table; a clear error otherwise."""
    base = CrashRiskConfig()
    known = set(CrashRiskConfig.__dataclass_fields__)
    unknown = set(table) - known
    if unknown:
        raise ConfigError(
            f"[scoring.crashes]: unknown keys {', '.join(sorted(unknown))}; known: "
            f"{', '.join(sorted(known))}."
        )
    values: dict[str, Any] = {}
    for key in known:
        default = getattr(base, key)
        raw = table.get(key, default)
        whole = isinstance(default, int)
        if (
            isinstance(raw, bool)
            or not isinstance(raw, (int, float))
            or (whole and raw != int(raw))
        ):
            kind = "a whole number" if whole else "a number"
            raise ConfigError(f"[scoring.crashes] {key} = {raw!r} must be {kind}.")
        value = type(default)(raw)
        positive = key in ("years", "window_m", "step_m")
        if value < 0 or (positive and value <= 0):
            least = "above 0" if positive else "0 or more"
            raise ConfigError(f"[scoring.crashes] {key} = {raw!r} must be {least}.")
        values[key] = value
    return CrashRiskConfig(**values)


def load_crash_config() -> CrashRiskConfig:
    """The ``[scoring.crashes]`` table of ``hazards.toml`` (defaults when absent)."""
    from hazards.settings import config_table

    table = config_table("scoring").get("crashes", {})
    if not isinstance(table, dict):
        raise ConfigError("[scoring.crashes] must be a table.")
    return crash_config(table)


def period(newest: dt.date, years: float) -> tuple[dt.date, dt.date]:
    """The crash period: ``years`` years (of 365.25 days) up to ``newest``, both days included."""
    return newest - dt.timedelta(days=round(years * 365.25) - 1), newest


def black_spots(
    crashes: pd.DataFrame,
    ends: pd.DataFrame,
    *,
    config: CrashRiskConfig,
    volumes: pd.DataFrame | None = None,
    years: float = 1.0,
) -> list[dict[str, Any]]:
    """Black-spot stretches: the overlapping black-spot windows of each route part merged.

    ``crashes``, ``ends``, ``volumes`` (the segments' AADT) and ``years`` as for
    :func:`hazards.screening.screen_sites`. Each stretch has
    ``id`` (``ROUTE/PART/FROM``), ``route``, ``part``, ``from_m``, ``to_m``, ``from``, ``to``,
    ``crashes``, ``ksi``, ``fatal``, ``windows`` (how many windows), ``excess`` (the largest
    window's EB excess) and ``part_end_m`` (the route part's end), worst first. A stretch holds
    what its windows hold (:func:`hazards.screening.holds`): not its end chainage, unless it
    reaches the part's end.
    """
    if crashes.empty:
        return []
    windows = screen_sites(
        crashes,
        ends,
        unit="window",
        measure="eb-excess",
        window_m=config.window_m,
        step_m=config.step_m,
        volumes=volumes,
        years=years,
    )
    hot = [w for w in windows if w["crashes"] >= config.black_spot_crashes and w["value"] > 0]
    hot.sort(key=lambda w: (w["route"], w["part"], w["from_m"]))
    stretches: list[dict[str, Any]] = []
    for w in hot:
        last = stretches[-1] if stretches else None
        same = last is not None and (last["route"], last["part"]) == (w["route"], w["part"])
        if last is not None and same and w["from_m"] <= last["to_m"]:
            last["to_m"] = max(last["to_m"], w["to_m"])
            last["windows"] += 1
            last["excess"] = max(last["excess"], w["value"])
            continue
        stretches.append(
            {
                "route": w["route"],
                "part": w["part"],
                "from_m": w["from_m"],
                "to_m": w["to_m"],
                "windows": 1,
                "excess": w["value"],
            }
        )
    c = crashes.dropna(subset=["route_code", "chainage_m"])
    part = c["part"].fillna(0).astype(int)
    end_of = route_ends(ends)
    for s in stretches:
        on_part = (c["route_code"] == s["route"]) & (part == s["part"])
        # a part with no end recorded ends at its last crash, as the windows take it
        s["part_end_m"] = end_of.get(
            (s["route"], int(s["part"])), float(c.loc[on_part, "chainage_m"].max())
        )
        inside = c[on_part & holds(c["chainage_m"], s["from_m"], s["to_m"], s["part_end_m"])]
        s.update(
            id=f"{s['route']}/{s['part']}/{s['from_m']:.0f}",
            crashes=int(len(inside)),
            ksi=int(inside["severity"].isin(["K", "A"]).sum()),
            fatal=int((inside["severity"] == "K").sum()),
            **{"from": format_chainage(s["from_m"]), "to": format_chainage(s["to_m"])},
        )
    stretches.sort(key=lambda s: (-s["excess"], -s["crashes"], s["id"]))
    return stretches


def crash_reasons(
    places: pd.DataFrame,
    crashes: pd.DataFrame,
    spots: list[dict[str, Any]],
    *,
    config: CrashRiskConfig,
) -> pd.Series:
    """Per hazard (``places``: route_code, part, chainage_m), why crash history lifts it, or
    None: ``事故多发点段 black spot ROUTE K…–K…`` and/or ``死亡事故 fatal crash ID (DATE) N m``.
    On the index of ``places``."""
    out = pd.Series([None] * len(places), index=places.index, dtype=object)
    if places.empty:
        return out
    at = places["chainage_m"].to_numpy(dtype=float, na_value=np.nan)
    where = np.flatnonzero(np.isfinite(at))
    placed = places.iloc[where]
    # the positions of the placed hazards of each route part, found once
    groups: dict[tuple[Any, int], np.ndarray] = {
        (code, int(p)): where[ix]
        for (code, p), ix in placed.groupby(
            [placed["route_code"], placed["part"].fillna(0).astype(int)], sort=False
        ).indices.items()
    }
    empty = np.empty(0, dtype=np.int64)
    reasons: list[list[str]] = [[] for _ in range(len(places))]
    for s in spots:
        mine = groups.get((s["route"], int(s["part"])), empty)
        inside = mine[holds(at[mine], s["from_m"], s["to_m"], s.get("part_end_m", math.inf))]
        for i in inside:
            reasons[i].append(
                f"事故多发点段 black spot {s['route']} {s['from']}–{s['to']} ({s['crashes']} crashes)"
            )
    fatal = crashes[crashes["severity"] == "K"].dropna(subset=["route_code", "chainage_m"])
    fatal = fatal.assign(part=fatal["part"].fillna(0).astype(int))
    for (code, p), g in fatal.groupby(["route_code", "part"], sort=False):
        g = g.sort_values("chainage_m", kind="stable")
        ch = g["chainage_m"].to_numpy(dtype=float)
        mine = groups.get((code, int(p)), empty)
        if not len(mine):
            continue
        j = np.clip(np.searchsorted(ch, at[mine]), 1, len(ch)) - 1
        j2 = np.clip(j + 1, 0, len(ch) - 1)
        best = np.where(np.abs(ch[j2] - at[mine]) < np.abs(ch[j] - at[mine]), j2, j)
        dist = np.abs(ch[best] - at[mine])
        ids, days = g["crash_id"].to_numpy(object), g["occurred_on"].to_numpy(object)
        close = dist <= config.fatal_m
        for i, b, d in zip(mine[close], best[close], dist[close], strict=True):
            reasons[i].append(f"死亡事故 fatal crash {ids[b]} ({days[b]}) {d:.0f} m")
    out[:] = ["; ".join(r) if r else None for r in reasons]
    return out


_SPOT = re.compile(r"^事故多发点段 black spot (\S+) (\S+)–(\S+) \((\d+) crashes\)$")
_FATAL = re.compile(r"^死亡事故 fatal crash (.+) \(([^()]*)\) (\d+) m$")


def reason_text(reason: str | None, lang: str) -> str | None:
    """A stored crash reason (:func:`crash_reasons`, kept as written: ``--json`` and the
    database keep it) as the CLI shows it in ``lang``: in en as stored, in zh all Chinese
    (``事故多发点段 X001 K1+600–K2+500（4 起事故）``, ``死亡事故 F1（2024-05-01），相距 20 米``);
    a part it does not know is kept as it is."""
    if reason is None or lang != "zh":
        return reason
    out = []
    for part in reason.split("; "):
        if m := _SPOT.match(part):
            out.append(f"事故多发点段 {m[1]} {m[2]}–{m[3]}（{m[4]} 起事故）")
        elif m := _FATAL.match(part):
            out.append(f"死亡事故 {m[1]}（{m[2]}），相距 {m[3]} 米")
        else:
            out.append(part)
    return "；".join(out)


WHY_ZH = {"survey/model": "勘察与模型等级不一致", "crash": "事故记录上调"}
"""The ``why`` of ``tiers diff`` in Chinese (``survey/model``, ``crash``; both: joined)."""


def lift_tiers(tiers: np.ndarray, lifted: np.ndarray, *, lift: int) -> np.ndarray:
    """Each tier (I, II, III) raised ``lift`` tiers where ``lifted``, never above I."""
    rank = np.array([TIERS.index(str(t)) if t in TIERS else -1 for t in tiers])
    new = np.where(lifted & (rank >= 0), np.maximum(rank - lift, 0), rank)
    return np.array([TIERS[r] if r >= 0 else t for r, t in zip(new, tiers, strict=True)], object)


# ----------------------------------------------------------------------------- with the database
def crash_context(
    *,
    config: CrashRiskConfig,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    engine: Engine,
) -> dict[str, Any] | None:
    """The crashes of the period (the last ``years`` up to the newest crash, unless given),
    the routes' ends and the black spots: ``from``, ``to``, ``crashes``, ``ends``, ``spots``;
    None when no crash is stored."""
    from hazards.db import store

    newest = store.newest_crash(engine)
    if newest is None:
        return None
    if date_from and date_to and date_from > date_to:
        raise InputError(
            f"The period starts ({date_from}) after it ends ({date_to}); swap the dates.",
            param="date_from",
        )
    to = date_to or newest
    start = date_from or period(to, config.years)[0]
    crashes = store.crash_frame(engine, date_from=start, date_to=to)
    ends = store.route_ends(engine)
    return {
        "from": start,
        "to": to,
        "crashes": crashes,
        "ends": ends,
        "spots": black_spots(
            crashes,
            ends,
            config=config,
            volumes=store.aadt_ranges(engine),
            years=((to - start).days + 1) / 365.25,
        ),
    }


def sites_to_survey(
    *,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    config: CrashRiskConfig | None = None,
    engine: Engine | None = None,
) -> dict[str, Any]:
    """Black spots with no surveyed hazard (one not rejected) on their stretch: ``from``,
    ``to`` (the crash period), ``black_spots`` (how many), ``sites`` (worst first)."""
    from hazards.db import store
    from hazards.db.session import get_engine

    engine = engine or get_engine()
    cfg = config or load_crash_config()
    ctx = crash_context(config=cfg, date_from=date_from, date_to=date_to, engine=engine)
    if ctx is None:
        return {"from": None, "to": None, "black_spots": 0, "sites": []}
    places = store.hazard_places(engine)
    sites = []
    for s in ctx["spots"]:
        on = places[
            (places["route_code"] == s["route"])
            & (places["part"].fillna(0).astype(int) == s["part"])
            & holds(places["chainage_m"], s["from_m"], s["to_m"], s.get("part_end_m", math.inf))
        ]
        if on.empty:
            sites.append(s)
    return {
        "from": ctx["from"].isoformat(),
        "to": ctx["to"].isoformat(),
        "black_spots": len(ctx["spots"]),
        "sites": sites,
    }


def route_crash_figures(ctx: dict[str, Any] | None, *, config: CrashRiskConfig) -> dict[str, Any]:
    """Per route: ``crashes``, ``ksi``, ``fatal`` of the period, ``black_spots`` and
    ``crash_points`` (``route_weight`` × K+A crashes per year)."""
    if ctx is None:
        return {}
    c = ctx["crashes"].dropna(subset=["route_code"])
    years = ((ctx["to"] - ctx["from"]).days + 1) / 365.25
    out: dict[str, Any] = {}
    for code, g in c.groupby("route_code", sort=True):
        ksi = int(g["severity"].isin(["K", "A"]).sum())
        out[str(code)] = {
            "crashes": int(len(g)),
            "ksi": ksi,
            "fatal": int((g["severity"] == "K").sum()),
            "black_spots": sum(1 for s in ctx["spots"] if s["route"] == code),
            "crash_points": round(config.route_weight * ksi / years, 1) if years > 0 else 0.0,
        }
    return out
