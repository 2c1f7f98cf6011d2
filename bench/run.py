"""The benchmark run: each step of ``hazards`` timed through its public function, beside its floor.

Every step calls the library as a program would, with an explicit ``engine=``: nothing in
``hazards`` is patched or reimplemented. The survey's parse / reconcile / store parts come from
the ``timings`` that :func:`hazards.intake.import_survey` keeps of its own phases.

Peak memory is the peak resident set size (VmHWM from /proc/self/status) of this Python process
during the step, reset before each step through /proc/self/clear_refs; where that is not
available, ``resource.getrusage`` max RSS (monotonic over the run). The PostgreSQL server's and
Chromium's memory is not included.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import gc
import io
import json
import os
import resource
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from bench import floors, peers
from bench.browser import Browser, chromium
from bench.data import SIZES, Dataset, generate, township
from bench.report import exponents, machine_info, markdown
from hazards.offload import can_fork

if TYPE_CHECKING:
    import pandas as pd
    from sqlalchemy import Engine

    from hazards.planning import PlanReport

STEPS = (
    "road_load",
    "startup",  # startup_help and startup_locate (size-independent; run after the road load)
    "survey_parse",
    "survey_reconcile",
    "survey_store",
    "survey_import",
    "tiers",
    "plan_10k",
    "plan_100k",
    "export_100k",
    "progress",
    "map_build_100k",
    "map_open_100k",
)
# Steps run together (one import_survey call): asking for any of them runs the whole group.
SURVEY_STEPS = ("survey_parse", "survey_reconcile", "survey_store", "survey_import")
EXPORT_HAZARDS = 100_000
PLAN_NAME = "bench"  # the plan whose one batch the export and maps use
BATCH_NAME = f"{PLAN_NAME}-1"
REPO = Path(__file__).resolve().parents[1]


# ----------------------------------------------------------------------------- memory, timing
def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def _peak_mb() -> float:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


MEMORY_METHOD = (
    "VmHWM of the Python process, reset per step via /proc/self/clear_refs"
    if _reset_peak()
    else "resource.getrusage ru_maxrss (monotonic over the run)"
) + (
    "; plus, when a child process of the step (a survey import's reader, a road load's"
    " fingerprints) set a new peak among the run's children (getrusage RUSAGE_CHILDREN),"
    " that child's peak: an upper bound, since pages the two share count twice"
)


def _children_peak_mb() -> float:
    """The largest peak RSS of the child processes ended so far (MB)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


@dataclass
class Timer:
    """What :func:`measure` found: wall seconds and peak resident MB."""

    seconds: float = 0.0
    peak_mb: float = 0.0


@contextlib.contextmanager
def measure(profile: Path | None = None) -> Iterator[Timer]:
    """Wall time and peak RSS of the block; with ``profile``, a cProfile dump and top list."""
    gc.collect()
    _reset_peak()
    t = Timer()
    prof = None
    if profile is not None:
        import cProfile

        prof = cProfile.Profile()
        prof.enable()
    children = _children_peak_mb()
    start = time.perf_counter()
    try:
        yield t
    finally:
        t.seconds = time.perf_counter() - start
        t.peak_mb = _peak_mb()
        child = _children_peak_mb()
        if child > children:  # a child of this step (its peak is known once it has ended)
            t.peak_mb += child
        if prof is not None and profile is not None:
            import pstats

            prof.disable()
            profile.parent.mkdir(parents=True, exist_ok=True)
            prof.dump_stats(str(profile.with_suffix(".prof")))
            buf = io.StringIO()
            st = pstats.Stats(prof, stream=buf)
            st.sort_stats("tottime").print_stats(25)
            st.sort_stats("cumulative").print_stats(35)
            profile.with_suffix(".txt").write_text(buf.getvalue())


# ----------------------------------------------------------------------------- the run
@dataclass
class Run:
    """The steps measured so far, with the run's notes."""

    out: Path
    steps: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    profile_dir: Path | None = None

    def add(
        self,
        step: str,
        size: str,
        seconds: float,
        floor: float | None,
        peak_mb: float,
        **extra: Any,
    ) -> None:
        """Record one step (and echo it on stderr)."""
        rec = {
            "step": step,
            "size": size,
            "seconds": round(seconds, 4),
            "floor_seconds": None if floor is None else round(floor, 4),
            "ratio": None if not floor else round(seconds / floor, 2),
            "peak_mb": round(peak_mb, 1),
            **extra,
        }
        self.steps.append(rec)
        ratio = "" if rec["ratio"] is None else f"  ratio {rec['ratio']:.2f}"
        fl = "" if floor is None else f"  floor {floor:8.2f} s"
        click.echo(
            f"  {size} {step:<18} {seconds:8.2f} s{fl}{ratio}  peak {peak_mb:7.0f} MB"
            + (f"  {extra}" if extra else ""),
            err=True,
        )

    def prof(self, size: str, step: str) -> Path | None:
        """Where to write the step's profile (None when not profiling)."""
        return None if self.profile_dir is None else self.profile_dir / f"profile-{size}-{step}"


@contextlib.contextmanager
def size_database(
    admin_url: str, name: str, *, keep: bool = False
) -> Iterator[tuple[floors.Db, Engine]]:
    """A fresh database ``name``, set as ``HAZARDS_DATABASE_URL`` and migrated to head by
    :func:`hazards.db.session.get_engine` as any program would; dropped afterwards unless ``keep``."""
    from hazards.db.session import get_engine
    from hazards.settings import get_settings

    db = floors.create_database(admin_url, name)
    before = os.environ.get("HAZARDS_DATABASE_URL")
    engine: Engine | None = None
    try:
        os.environ["HAZARDS_DATABASE_URL"] = db.url
        get_settings.cache_clear()
        engine = get_engine()
        yield db, engine
    finally:
        if engine is not None:
            engine.dispose()
        if before is None:
            os.environ.pop("HAZARDS_DATABASE_URL", None)
        else:
            os.environ["HAZARDS_DATABASE_URL"] = before
        get_settings.cache_clear()
        if not keep:
            floors.drop_database(db)


def township_plan(cands: pd.DataFrame, town: str) -> PlanReport:
    """A plan report funding the first ``EXPORT_HAZARDS`` open hazards of ``town`` in one batch
    (the shape :func:`hazards.planning.plan` returns; the solver is timed in plan_10k/100k)."""
    from hazards.vocabulary import TIERS

    part = cands[cands["township"] == town].sort_values("id").head(EXPORT_HAZARDS)
    costs = part["cost"].fillna(0.0).astype(float)
    cost = round(float(costs.sum()), 2)
    items = [
        {"id": i, "route_code": r, "tier": t, "cost_cny": round(c, 2)}
        for i, r, t, c in zip(part["id"], part["route_code"], part["tier"], costs, strict=True)
    ]
    tiers = {t: int((part["tier"] == t).sum()) for t in TIERS}
    spans = part.groupby("route_code")["chainage_m"].agg(
        lambda s: float(s.max() - s.min()) if s.notna().any() else 0.0
    )
    return {
        "name": PLAN_NAME,
        "budget_cny": cost,
        "spent_cny": cost,
        "remaining_cny": 0.0,
        "solver": "none",
        "optimality_gap": 0.0,
        "group_by": "township",
        "tiers_considered": list(TIERS),
        "risk_funded": {
            t: round(float(part.loc[part["tier"] == t, "score"].sum()), 6) for t in TIERS
        },
        "batches": [
            {
                "name": BATCH_NAME,
                "seq": 1,
                "hazards": len(items),
                "townships": [town],
                "routes": sorted(part["route_code"].dropna().unique().tolist()),
                "km_touched": round(float(spans.sum()) / 1000, 3),
                "cost_cny": cost,
                "tiers": tiers,
                "items": items,
            }
        ],
        "unfunded": {"hazards": 0, "cost_cny": 0.0, "tiers": {t: 0 for t in TIERS}, "items": []},
        "warnings": [],
        "dry_run": False,
    }


def bench_size(
    size: str,
    run: Run,
    *,
    admin_url: str,
    workdir: Path,
    steps: set[str],
    browser: Callable[[], Browser] | None,
    keep_db: bool = False,
    db_tag: str = "",
) -> None:
    """Generate (or reuse) the data of ``size`` and measure the chosen steps in a fresh database
    ``hazards_bench_<size><db_tag>``."""
    from hazards import contractors, intake, planning, remediation, scoring

    # The store only for planning's inputs and for storing a given plan: no step verb does either.
    from hazards.db import store
    from hazards.mapping import overview_map
    from hazards.roads import load_roads

    t0 = time.perf_counter()
    ds: Dataset = generate(size, workdir / "data")
    click.echo(
        f"[{size}] data: {ds.n_segments} segments, {ds.n_rows} survey rows "
        f"({time.perf_counter() - t0:.1f} s to generate or reuse)",
        err=True,
    )
    tmp = workdir / f"out-{size}"
    tmp.mkdir(parents=True, exist_ok=True)
    with size_database(admin_url, f"hazards_bench_{size.lower()}{db_tag}", keep=keep_db) as (
        db,
        engine,
    ):
        # road load ------------------------------------------------------------------------
        forks = can_fork()  # whether the step's work may go to a child process, as a user's would
        with measure(run.prof(size, "road_load")) as t:
            res = load_roads(
                ds.roads_path, engine=engine, rejected_path=tmp / "roads.rejected.gpkg"
            )
        fl = floors.floor_road_load(ds, db)
        peer: dict[str, Any] = {}
        if peers.have_ogr2ogr():
            peer = {"peer": peers.OGR2OGR, "peer_seconds": round(peers.peer_road_load(ds, db), 4)}
        else:
            run.notes.append(f"{size}: no ogr2ogr (Debian gdal-bin): road_load has no peer")
        run.add(
            "road_load",
            size,
            t.seconds,
            fl,
            t.peak_mb,
            n=ds.n_segments,
            routes=len(res.routes_added),
            schema_s=round(floors.schema_bound(db, "road_segments", bulk=True), 4),
            forks=forks,
            **peer,
        )
        if "startup" in steps:
            route = res.routes_added[0] if res.routes_added else "Y000000"
            settled = round(peers.settle(db), 1)  # an idle machine, as item 6 asks
            run.add("startup_help", size, peers.startup_help(), None, 0.0, n=1, runs=7)
            run.add(
                "startup_locate",
                size,
                peers.startup_locate(db, route),
                None,
                0.0,
                n=1,
                runs=7,
                settled_s=settled,
            )

        # survey import: parse / reconcile / store are the import's own phase timings ---------
        if steps & set(SURVEY_STEPS) or steps - {"road_load", "startup"}:
            phases: dict[str, float] = {}
            settled = round(peers.settle(db), 1)  # each heavy step starts on an idle server
            forks = can_fork()
            with measure(run.prof(size, "survey_import")) as t:
                rep = intake.import_survey(
                    ds.survey_path,
                    provider="基准检测公司",
                    surveyed_on="2025-03-01",
                    rejected_path=tmp / "survey.rejected.csv",
                    engine=engine,
                    timings=phases,
                )
            stored = rep["accepted"] + rep["review"]
            f_parse = floors.floor_parse(ds)
            f_rec = floors.floor_reconcile(ds, db)
            f_store = floors.floor_store(ds, db, stored)
            pk = t.peak_mb
            run.add("survey_parse", size, phases.get("parse", 0.0), f_parse, pk, n=ds.n_rows)
            run.add(
                "survey_reconcile",
                size,
                phases.get("reconcile", 0.0),
                f_rec,
                pk,
                n=ds.n_rows,
                # the importing process's share is its CPU time (bench/README.md): its wall clock
                finish_wall_s=round(phases.get(intake.FINISH_WALL, 0.0), 2),
            )
            run.add(
                "survey_store",
                size,
                phases.get("store", 0.0),
                f_store,
                pk,
                n=stored,
                # the import took bulk mode (an empty inventory): so does the schema's bound
                schema_s=round(floors.schema_bound(db, "hazards", bulk=True), 4),
            )
            peer_settled = round(peers.settle(db), 1)  # the floors' writes, our import's
            peer_s = peers.peer_survey_import(ds, db)
            run.add(
                "survey_import",
                size,
                t.seconds,
                f_parse + f_rec + f_store,
                pk,
                n=ds.n_rows,
                peer=peers.PIPELINE,
                peer_seconds=round(peer_s, 4),
                accepted=rep["accepted"],
                review=rep["review"],
                rejected=rep["rejected"],
                duplicates=rep["duplicates"],
                settled_s=settled,
                peer_settled_s=peer_settled,
                forks=forks,
            )

        # tiers ----------------------------------------------------------------------------
        if steps - {"road_load", "startup", *SURVEY_STEPS}:
            # Ours and its floor each start on a vacuumed table: the floors before left dead
            # rows in it (rolled back), and our update leaves an old version of every row.
            settled = round(peers.settle(db, vacuum=("hazards",)), 1)
            with measure(run.prof(size, "tiers")) as t:
                tr = scoring.compute_tiers(engine=engine)
            floor_settled = round(peers.settle(db, vacuum=("hazards",)), 1)
            run.add(
                "tiers",
                size,
                t.seconds,
                floors.floor_tiers(db),
                t.peak_mb,
                n=tr["scored"],
                settled_s=settled,
                floor_settled_s=floor_settled,
            )

        # plans: the solver on a fixed number of candidates (create_plan would take them all) -
        plan_steps = {"plan_10k", "plan_100k", "export_100k", "map_build_100k", "map_open_100k"}
        cands = store.plan_candidates(engine) if plan_steps & steps else None
        for step, k in (("plan_10k", 10_000), ("plan_100k", 100_000)):
            if step not in steps or cands is None:
                continue
            c = cands.sort_values("id").head(k).reset_index(drop=True)
            budget = float(c["cost"].sum()) * 0.3
            with measure(run.prof(size, step)) as t:
                pr = planning.plan(c, name=f"bench-{k}", budget=budget, batches=3, time_limit=30.0)
            run.add(
                step,
                size,
                t.seconds,
                floors.floor_plan(c, budget),
                t.peak_mb,
                n=len(c),
                solver=pr["solver"],
                gap=pr["optimality_gap"],
            )

        town = township(0)
        if {"export_100k", "map_build_100k", "map_open_100k"} & steps and cands is not None:
            # One batch with (up to) 100k hazards of the first township, committed: they become planned.
            store.save_plan(engine, dict(township_plan(cands, town)))
            planning.commit_plan(PLAN_NAME, by="bench", engine=engine)
            contractors.update_batch(
                BATCH_NAME, contractor="某路桥公司", due_on="2025-10-31", engine=engine
            )
            if "export_100k" in steps:
                with measure(run.prof(size, "export_100k")) as t:
                    ex = contractors.export_batch(BATCH_NAME, tmp / "batch.geojson", engine=engine)
                fl = floors.floor_export(db, BATCH_NAME, tmp / "batch-floor.geojson")
                run.add(
                    "export_100k",
                    size,
                    t.seconds,
                    fl,
                    t.peak_mb,
                    n=int(ex["hazards"]),
                    mb=round((tmp / "batch.geojson").stat().st_size / 1e6, 1),
                )

        if "progress" in steps:
            with measure(run.prof(size, "progress")) as t:
                remediation.progress(by="road", engine=engine)
            run.add("progress", size, t.seconds, floors.floor_progress(db), t.peak_mb, n=ds.n_rows)

        if "map_build_100k" in steps or "map_open_100k" in steps:
            html = tmp / "overview.html"
            with measure(run.prof(size, "map_build_100k")) as t:
                m = overview_map(engine=engine, townships=[town], lang="zh")
                m.save(str(html))
                del m
            nm = floors.township_hazards(db, town)
            fl = floors.floor_map_build(db, town, tmp / "overview-floor.html")
            html_mb = html.stat().st_size / 1e6
            run.add(
                "map_build_100k", size, t.seconds, fl, t.peak_mb, n=nm, html_mb=round(html_mb, 1)
            )
            if "map_open_100k" in steps:
                if browser is None:
                    run.notes.append(
                        f"{size}: map_open_100k skipped (no Chromium or websockets, or --no-browser)"
                    )
                else:
                    floor_page = floors.floor_map_page(db, town, tmp / "overview-floor-canvas.html")
                    # Started for this step alone: its DevTools connection runs threads, and a
                    # process with other threads running does not fork (hazards.offload), so
                    # the steps before would not run as a user's process runs them.
                    tab = browser()
                    try:
                        fsec, _ = tab.open_seconds(floor_page.as_uri(), "window.floorCount", nm)
                        sec, count = tab.open_seconds(
                            html.as_uri(), "HazardsMap.featureCount()", nm
                        )
                    finally:
                        tab.close()
                    run.add(
                        "map_open_100k",
                        size,
                        sec,
                        fsec,
                        0.0,
                        n=nm,
                        features=count,
                        html_mb=round(html_mb, 1),
                    )


def run_bench(
    sizes: list[str],
    *,
    out: Path,
    steps: list[str] | None = None,
    admin_url: str | None = None,
    home: Path | None = None,
    workdir: Path | None = None,
    browser: bool = True,
    profile: bool = False,
    keep_db: bool = False,
    write_latest: bool = True,
    db_tag: str = "",
) -> dict[str, Any]:
    """Run the bench; returns the result dict (also written under ``out``). Each size runs in a
    fresh database ``hazards_bench_<size><db_tag>`` (a tag keeps concurrent runs apart)."""
    bad = [s for s in sizes if s not in SIZES]
    if bad:
        raise click.UsageError(f"--sizes: unknown {', '.join(bad)}; use {', '.join(SIZES)}.")
    chosen = set(steps or STEPS)
    unknown = chosen - set(STEPS)
    if unknown:
        raise click.UsageError(
            f"--steps: unknown {', '.join(sorted(unknown))}; steps are {', '.join(STEPS)}."
        )
    if chosen & set(SURVEY_STEPS):
        chosen |= set(SURVEY_STEPS)
    started = dt.datetime.now().replace(microsecond=0)
    if admin_url is None:
        admin_url = admin_url_of(
            home or Path(os.environ.get("HAZARDS_BENCH_HOME", REPO / ".hazards-bench"))
        )
    workdir = workdir or Path(tempfile.gettempdir()) / "hazards-bench"
    run = Run(out=out, profile_dir=(out / f"profiles-{started:%Y%m%d-%H%M%S}") if profile else None)
    if profile:
        run.notes.append("cProfile was on: times are inflated by profiling overhead")
    br: Callable[[], Browser] | None = None
    if browser and "map_open_100k" in chosen:
        exe = chromium()
        try:
            import websockets  # noqa: F401

            if exe:
                Browser(exe).close()  # it starts: each size's map_open_100k starts its own
                br = functools.partial(Browser, exe)
        except Exception as exc:  # no websockets, or Chromium failed to start
            run.notes.append(f"Chromium not usable: {exc}")
        if br is None and exe is None:
            run.notes.append("Chromium not found: map_open_100k skipped (apt-get install chromium)")
    for size in sizes:
        bench_size(
            size,
            run,
            admin_url=admin_url,
            workdir=workdir,
            steps=chosen,
            browser=br,
            keep_db=keep_db,
            db_tag=db_tag,
        )
    fit, ml = exponents(run.steps)
    result = {
        "started": started.isoformat(),
        "sizes": sizes,
        "machine": machine_info(admin_url, memory_method=MEMORY_METHOD),
        "steps": run.steps,
        "exponents": fit,
        "exponents_ml": ml,
        "notes": run.notes,
    }
    out.mkdir(parents=True, exist_ok=True)
    stem = f"bench-{started:%Y%m%d-%H%M%S}-{''.join(sizes)}"
    (out / f"{stem}.json").write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n")
    (out / f"{stem}.md").write_text(markdown(result))
    if write_latest:
        (out / "latest.json").write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n")
        (out / "latest.md").write_text(markdown(result))
    return result


def admin_url_of(home: Path) -> str:
    """Start (or reuse) the embedded cluster under ``home``; its admin URL."""
    from hazards.db.server import ManagedServer

    server = ManagedServer(home)
    info = server.ensure_running()
    return server.url(info).rsplit("/", 1)[0] + "/postgres"


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--sizes",
    default="S,M",
    show_default=True,
    help="Comma-separated sizes: T (500 segments, 2k rows), S (5k, 20k), M (50k, 200k), L (500k, 2M).",
)
@click.option(
    "--out",
    "out",
    type=click.Path(path_type=Path),
    default=Path("bench/results"),
    show_default=True,
    help="Folder for the JSON and Markdown results (the newest also as latest.json).",
)
@click.option(
    "--steps",
    default=None,
    help=f"Comma-separated steps to run (default all): {', '.join(STEPS)}. "
    "road_load always runs (the others need the network).",
)
@click.option(
    "--workdir",
    type=click.Path(path_type=Path),
    default=None,
    help="Where the generated data and outputs go (default $TMPDIR/hazards-bench; data is reused between runs).",
)
@click.option(
    "--home",
    type=click.Path(path_type=Path),
    default=None,
    help="HAZARDS_HOME of the embedded cluster the bench uses (default ./.hazards-bench).",
)
@click.option(
    "--admin-url",
    default=None,
    help="Admin URL of a PostGIS server to use instead of the embedded one.",
)
@click.option("--no-browser", is_flag=True, help="Skip the map open time in headless Chromium.")
@click.option(
    "--profile",
    is_flag=True,
    help="cProfile every step (times are inflated); writes profile-*.txt.",
)
@click.option("--keep-db", is_flag=True, help="Keep each size's database after the run.")
def main(
    sizes: str,
    out: Path,
    steps: str | None,
    workdir: Path | None,
    home: Path | None,
    admin_url: str | None,
    no_browser: bool,
    profile: bool,
    keep_db: bool,
) -> None:
    """Time each step of hazards through its public function, beside its raw floor, at sizes S/M/L."""
    result = run_bench(
        [s.strip().upper() for s in sizes.split(",") if s.strip()],
        out=out,
        steps=[s.strip() for s in steps.split(",")] if steps else None,
        admin_url=admin_url,
        home=home,
        workdir=workdir,
        browser=not no_browser,
        profile=profile,
        keep_db=keep_db,
    )
    click.echo(markdown(result))
