"""The period report for superiors (``hazards report``): the figures a county road-safety office
sends up, as Markdown, HTML (with charts), an Excel workbook or a Word file (with charts), in
Chinese or English.

Every hazard figure is the state on the period's last day, rebuilt from the events exactly as
``progress --as-of`` does (:func:`hazards.db.store.progress_frame` is the one query of that
rule); tiers are the effective tiers of today and roads the network as stored. Re-checks are
those recorded within the period. Each table carries its own total row. The narrative is made
of the tables' numbers only.

Definitions (status on the last day): *found* every hazard not rejected; *planned* those in a
plan whose work is not yet reported done (``planned``, ``in_progress``); *fixed* ``reported_done``
and ``verified``; *verified* ``verified``; *reopened* ``reopened`` (a failed re-check, not yet
planned again); *% fixed* fixed / found. Crashes (a table only when crash records exist) are
those that happened within the period, per class of their road and KABCO severity. The charts
(:mod:`hazards.report_charts`) show found and fixed per tier at every month end of the period
(``series``) and each township's hazards.
"""

from __future__ import annotations

import datetime as dt
import html
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

import pandas as pd

from hazards.dates import parse_day
from hazards.errors import InputError
from hazards.vocabulary import DONE_STATUSES, ROAD_CLASSES, TIERS

if TYPE_CHECKING:
    from sqlalchemy import Engine

__all__ = ["FORMATS", "LANGS", "Report", "build_report", "markdown", "period", "write_report"]

LANGS = ("zh", "en")
FORMATS = (".md", ".html", ".xlsx", ".docx")
HAZARD_COLUMNS = ("found", "planned", "fixed", "verified", "reopened", "pct_fixed")
CRASH_COLUMNS = ("K", "A", "B", "C", "O", "unknown", "crashes", "fatalities", "injuries")
NONE = "—"


class Table(TypedDict):
    """One table of the report: its columns (keys of ``rows``), their headings, rows, total."""

    key: str
    title: str
    columns: list[str]
    headers: list[str]
    rows: list[dict[str, Any]]
    total: dict[str, Any]


class Report(TypedDict):
    """What :func:`build_report` returns (``hazards report --json``)."""

    lang: str
    title: str
    period_from: str
    period_to: str
    as_of: str
    plans: int
    plan_budget_cny: float
    narrative: list[str]
    tables: list[Table]
    series: dict[str, Any]
    crashes_until: str | None  # the newest crash stored: the crash figures stop there


WORDS: dict[str, dict[str, str]] = {
    "zh": {
        "title": "道路交通安全隐患排查整治情况报告",
        "period": "统计期间",
        "as_of": "数据截至",
        "summary": "概况",
        "roads": "路网",
        "by_class": "隐患-按公路等级",
        "by_township": "隐患-按乡镇",
        "by_tier": "隐患-按风险等级",
        "batches": "整治批次",
        "rechecks": "回头看复查",
        "crash_table": "交通事故-按公路等级",
        "K": "死亡事故(起)",
        "A": "重伤事故(起)",
        "B": "轻伤事故(起)",
        "C": "轻微伤事故(起)",
        "O": "财产损失事故(起)",
        "unknown": "严重程度不详(起)",
        "crashes": "事故合计(起)",
        "fatalities": "死亡(人)",
        "injuries": "受伤(人)",
        "unattached": "未关联道路",
        "class": "公路等级",
        "township": "乡镇",
        "tier": "风险等级",
        "routes": "路线(条)",
        "length_km": "里程(公里)",
        "found": "排查发现(处)",
        "planned": "列入计划未完工(处)",
        "fixed": "已整改(处)",
        "verified": "其中已验收(处)",
        "reopened": "复查未通过(处)",
        "pct_fixed": "整改率(%)",
        "batch": "批次",
        "plan": "计划",
        "contractor": "施工单位",
        "cost_cny": "批次金额(元)",
        "hazards": "隐患(处)",
        "checked": "复查(处)",
        "passed": "通过(处)",
        "failed": "未通过(处)",
        "pct_passed": "通过率(%)",
        "total": "合计",
    },
    "en": {
        "title": "Road safety hazards: survey and remediation report",
        "period": "Period",
        "as_of": "Figures as of",
        "summary": "Summary",
        "roads": "Roads",
        "by_class": "Hazards by class",
        "by_township": "Hazards by township",
        "by_tier": "Hazards by tier",
        "batches": "Batches",
        "rechecks": "Re-checks",
        "crash_table": "Crashes by road class",
        "K": "fatal (K)",
        "A": "serious (A)",
        "B": "minor (B)",
        "C": "possible (C)",
        "O": "damage only (O)",
        "unknown": "severity unknown",
        "crashes": "crashes",
        "fatalities": "killed",
        "injuries": "injured",
        "unattached": "not on a road",
        "class": "road class",
        "township": "township",
        "tier": "tier",
        "routes": "routes",
        "length_km": "km",
        "found": "found",
        "planned": "planned, not done",
        "fixed": "fixed",
        "verified": "of which verified",
        "reopened": "reopened",
        "pct_fixed": "% fixed",
        "batch": "batch",
        "plan": "plan",
        "contractor": "contractor",
        "cost_cny": "amount (CNY)",
        "hazards": "hazards",
        "checked": "re-checked",
        "passed": "passed",
        "failed": "failed",
        "pct_passed": "% passed",
        "total": "total",
    },
}
CLASS_ZH = dict(
    zip(
        ROAD_CLASSES,
        ("国道", "省道", "县道", "乡道", "村道", "专用公路", "其他", "未知"),
        strict=True,
    )
)
TIER_ZH = {"I": "I级", "II": "II级", "III": "III级"}
TIER_EN = {"I": "tier I", "II": "tier II", "III": "tier III"}


def period(
    *,
    date_from: str | dt.date | None = None,
    date_to: str | dt.date | None = None,
    year: int | None = None,
    today: dt.date | None = None,
) -> tuple[dt.date, dt.date]:
    """The report's first and last day: a calendar ``year``, or ``date_from`` to ``date_to``
    (the start defaults to 1 January of the end's year, the end to today); with neither, this
    year so far."""
    today = today or dt.date.today()
    if year is not None:
        if date_from is not None or date_to is not None:
            raise InputError("Give a year or a from/to period, not both.", param="year")
        if not 1900 < year < 3000:
            raise InputError(f"The year {year} is not a year like 2025.", param="year")
        if year > today.year:
            raise InputError(
                f"The year {year} has not begun: nothing has happened in it yet. Give a year "
                f"up to {today.year}.",
                param="year",
            )
        return dt.date(year, 1, 1), dt.date(year, 12, 31)
    end = parse_day(date_to, param="date_to") or today
    start = parse_day(date_from, param="date_from") or dt.date(end.year, 1, 1)
    if start > today:
        raise InputError(
            f"The period starts on {start}, after today: nothing has happened in it yet.",
            param="date_from",
        )
    if start > end:
        raise InputError(
            f"The period starts on {start}, after its end {end}; give the earlier date first.",
            param="date_from",
        )
    return start, end


def _pct(part: float, whole: float) -> float | None:
    """``part`` as a percentage of ``whole``; None when ``whole`` is 0 (a rate of nothing is
    no rate: shown as a dash, not as 0 %)."""
    return round(100.0 * part / whole, 1) if whole else None


def _hazard_rows(df: pd.DataFrame, key: str, order: list[str] | None) -> list[dict[str, Any]]:
    """The hazard columns per value of ``key``: the values of ``order`` first (for tiers all of
    them, zeros included), then the others."""
    status, n = df["status"], df["n"].astype("int64")
    parts = {
        "found": n.where(status != "rejected", 0),
        "planned": n.where(status.isin(["planned", "in_progress"]), 0),
        "fixed": n.where(status.isin(DONE_STATUSES), 0),
        "verified": n.where(status == "verified", 0),
        "reopened": n.where(status == "reopened", 0),
    }
    agg = pd.DataFrame({k: v.groupby(df[key]).sum() for k, v in parts.items()})
    if order is not None:
        keep = order if key == "tier" else [g for g in order if g in agg.index]
        agg = agg.reindex(keep + [g for g in agg.index if g not in order], fill_value=0)
    rows = []
    for g, r in agg.iterrows():
        row = {key: g, **{k: int(r[k]) for k in parts}}
        row["pct_fixed"] = _pct(row["fixed"], row["found"])
        rows.append(row)
    return rows


def _total(rows: list[dict[str, Any]], key: str, columns: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {key: "total"}
    for c in columns:
        if c.startswith("pct_"):
            continue
        vals = [r[c] for r in rows if isinstance(r.get(c), (int, float))]
        out[c] = round(sum(vals), 3) if any(isinstance(v, float) for v in vals) else sum(vals)
    return out


def _table(
    key: str, first: str, columns: list[str], rows: list[dict[str, Any]], lang: str
) -> Table:
    total = _total(rows, first, columns)
    if "pct_fixed" in columns and "found" in total:
        total["pct_fixed"] = _pct(total["fixed"], total["found"])
    if "pct_passed" in columns:
        total["pct_passed"] = _pct(total["passed"], total["checked"])
    cols = [first, *columns]
    w = WORDS[lang]
    return {
        "key": key,
        "title": w[key],
        "columns": cols,
        "headers": [w.get(c, c) for c in cols],
        "rows": rows,
        "total": total,
    }


def build_report(
    *,
    date_from: str | dt.date | None = None,
    date_to: str | dt.date | None = None,
    year: int | None = None,
    lang: str = "zh",
    engine: Engine | None = None,
) -> Report:
    """The report's tables and narrative for the period (see the module's definitions).

    The figures are those of the period's last day, or of today when the period is not over."""
    from hazards.db import store
    from hazards.db.session import get_engine
    from hazards.db.store import reports as store_reports
    from hazards.network import road_summary
    from hazards.report_charts import tier_series

    if lang not in LANGS:
        raise InputError(f"The language {lang!r} is not one of: {', '.join(LANGS)}.", param="lang")
    start, end = period(date_from=date_from, date_to=date_to, year=year)
    as_of = min(end, dt.date.today())
    engine = engine or get_engine()
    df = store.progress_frame(engine, as_of=as_of)
    classes = store.route_classes(engine)
    df["class"] = [
        classes.get(c, "unknown") if isinstance(c, str) else "unknown" for c in df["route_code"]
    ]
    df["township"] = df["township"].fillna(NONE)
    df["tier"] = df["tier"].fillna(NONE)
    df["batch"] = df["batch"].fillna(NONE)
    hz = list(HAZARD_COLUMNS)

    roads = road_summary(by="class", engine=engine)
    road_rows = [
        {
            "class": g["class"],
            "routes": g["routes"],
            "length_km": round(float(g["length_km"] or 0), 3),
        }
        for g in sorted(roads["classes"], key=lambda g: ROAD_CLASSES.index(g["class"]))
    ]
    road_table = _table("roads", "class", ["routes", "length_km"], road_rows, lang)
    # the network's km as `roads summary` gives it (the sum of the rounded classes can be a
    # metre off it)
    road_table["total"]["length_km"] = roads["total"]["length_km"]
    tables = [
        road_table,
        _table(
            "by_class",
            "class",
            hz,
            _hazard_rows(df, "class", list(ROAD_CLASSES)),
            lang,
        ),
        _table(
            "by_township",
            "township",
            hz,
            _hazard_rows(df, "township", None),
            lang,
        ),
        _table("by_tier", "tier", hz, _hazard_rows(df, "tier", list(TIERS)), lang),
    ]
    tables[2]["rows"].sort(key=lambda r: (r["township"] == NONE, r["township"]))
    counts = {r["batch"]: r for r in _hazard_rows(df, "batch", None)}
    hazards_per_batch = df.groupby("batch")["n"].sum()
    batch_rows = []
    planned = store.planned_batches(engine, until=as_of)
    for b in planned:
        c = counts.get(b["name"], {})
        batch_rows.append(
            {
                "batch": b["name"],
                "plan": b["plan_name"],
                "contractor": b["contractor"] or "",
                "cost_cny": round(float(b["cost_cny"] or 0), 2),
                "hazards": int(hazards_per_batch.get(b["name"], 0)),
                "fixed": int(c.get("fixed", 0)),
                "verified": int(c.get("verified", 0)),
                "pct_fixed": _pct(c.get("fixed", 0), c.get("found", 0)),
            }
        )
    bt = _table(
        "batches",
        "batch",
        [
            "plan",
            "contractor",
            "cost_cny",
            "hazards",
            "fixed",
            "verified",
            "pct_fixed",
        ],
        batch_rows,
        lang,
    )
    bt["total"].update(plan="", contractor="")
    bt["total"]["found"] = sum(int(counts.get(r["batch"], {}).get("found", 0)) for r in batch_rows)
    bt["total"]["pct_fixed"] = _pct(bt["total"]["fixed"], bt["total"].pop("found"))
    tables.append(bt)
    budgets = {b["plan_name"]: float(b["plan_budget_cny"] or 0) for b in planned}
    rc: dict[str, dict[str, int]] = {}
    for r in store.recheck_counts(engine, start=start, end=end):
        rc.setdefault(r["tier"] or NONE, {"pass": 0, "fail": 0})[r["result"]] += int(r["n"])
    re_rows = [
        {
            "tier": t,
            "checked": v["pass"] + v["fail"],
            "passed": v["pass"],
            "failed": v["fail"],
            "pct_passed": _pct(v["pass"], v["pass"] + v["fail"]),
        }
        for t, v in sorted(rc.items(), key=lambda kv: (kv[0] not in TIERS, kv[0]))
    ]
    tables.append(
        _table("rechecks", "tier", ["checked", "passed", "failed", "pct_passed"], re_rows, lang)
    )
    if store_reports.has_crashes(engine):
        tables.append(_crash_table(store_reports.crash_counts(engine, start=start, end=end), lang))
    report: Report = {
        "lang": lang,
        "title": WORDS[lang]["title"],
        "period_from": start.isoformat(),
        "period_to": end.isoformat(),
        "as_of": as_of.isoformat(),
        "plans": len(budgets),
        "plan_budget_cny": round(sum(budgets.values()), 2),
        "narrative": [],
        "tables": tables,
        "series": tier_series(start, as_of, engine=engine),
        "crashes_until": (lambda d: d.isoformat() if d else None)(
            store_reports.crashes_until(engine)
        ),
    }
    report["narrative"] = narrative(report)
    return report


def _crash_table(counts: list[dict[str, Any]], lang: str) -> Table:
    """Crashes of the period per road class (classes in their order, ``unattached`` last)."""
    by: dict[str, dict[str, Any]] = {}
    for c in counts:
        row = by.setdefault(c["class"], {"class": c["class"], **dict.fromkeys(CRASH_COLUMNS, 0)})
        row[c["severity"] or "unknown"] += int(c["n"])
        row["crashes"] += int(c["n"])
        row["fatalities"] += int(c["fatalities"])
        row["injuries"] += int(c["injuries"])
    order = [*ROAD_CLASSES, "unattached"]
    rows = sorted(by.values(), key=lambda r: order.index(r["class"]) if r["class"] in order else 99)
    return _table("crash_table", "class", list(CRASH_COLUMNS), rows, lang)


def label(table: str, column: str, value: Any, lang: str) -> str:
    """A cell as the reader sees it: classes, tiers and the total row in the report's language."""
    if value == "total" and column == _first(table):
        return WORDS[lang]["total"]
    if value is None:
        return NONE if column.startswith("pct") else ""  # a rate of nothing
    if column == "class" and value == "unattached":
        return WORDS[lang]["unattached"]
    if lang == "zh" and column == "class":
        return CLASS_ZH.get(value, value)
    if lang == "zh" and column == "tier":
        return TIER_ZH.get(value, value)
    if isinstance(value, float):
        return (
            f"{value:,.2f}"
            if column.endswith("_cny")
            else f"{value:g}"
            if column.startswith("pct")
            else f"{value:,.3f}".rstrip("0").rstrip(".")
        )
    return str(value)


def _first(table: str) -> str:
    return {
        "roads": "class",
        "by_class": "class",
        "by_township": "township",
        "by_tier": "tier",
        "batches": "batch",
        "rechecks": "tier",
        "crash_table": "class",
    }[table]


def narrative(report: Report) -> list[str]:
    """The report's paragraphs, made of its own figures only."""
    t = {x["key"]: x for x in report["tables"]}
    return _narrative(report, t) + _crash_paragraph(report, t)


def _crash_paragraph(report: Report, t: dict[str, Table]) -> list[str]:
    if "crash_table" not in t:
        return []
    c = t["crash_table"]["total"]
    until = report.get("crashes_until")  # the records stop before the period ends: said
    short = until is not None and until < report["period_to"]
    if report["lang"] == "zh":
        f0, f1 = (dt.date.fromisoformat(report[k]) for k in ("period_from", "period_to"))
        u = dt.date.fromisoformat(until) if short and until else None
        return [
            f"{f0.year}年{f0.month}月{f0.day}日至{f1.year}年{f1.month}月{f1.day}日，"
            f"发生道路交通事故{c['crashes']}起，其中死亡事故{c['K']}起、重伤事故{c['A']}起，"
            f"造成{c['fatalities']}人死亡、{c['injuries']}人受伤"
            + (f"（事故数据截至{u.year}年{u.month}月{u.day}日，此后的事故尚未录入）" if u else "")
            + "。"
        ]
    return [
        f"From {report['period_from']} to {report['period_to']}, {c['crashes']} crashes: "
        f"{c['K']} fatal, {c['A']} with serious injuries; {c['fatalities']} killed, "
        f"{c['injuries']} injured"
        + (
            f" (the crash records run to {until}; later crashes are not stored yet)"
            if short
            else ""
        )
        + "."
    ]


def _narrative(report: Report, t: dict[str, Table]) -> list[str]:
    zh = report["lang"] == "zh"
    roads, hz, tiers = t["roads"]["total"], t["by_class"]["total"], t["by_tier"]["rows"]
    bt, rc = t["batches"]["total"], t["rechecks"]["total"]
    lab = lambda tab, col, v: label(tab, col, v, report["lang"])  # noqa: E731
    tier_n = {r["tier"]: r["found"] for r in tiers}
    y, m, d = (int(x) for x in report["as_of"].split("-"))
    if zh:
        per_class = "，".join(
            f"{lab('roads', 'class', r['class'])}{r['routes']}条{lab('roads', 'length_km', r['length_km'])}公里"
            for r in t["roads"]["rows"]
        )
        f0, f1 = (dt.date.fromisoformat(report[k]) for k in ("period_from", "period_to"))
        return [
            f"截至{y}年{m}月{d}日，台账内公路共{roads['routes']}条、{lab('roads', 'length_km', roads['length_km'])}公里"
            + (f"，其中{per_class}。" if per_class else "。"),
            f"累计排查发现道路交通安全隐患{hz['found']}处，其中"
            + "、".join(f"{TIER_ZH[k]}{tier_n.get(k, 0)}处" for k in TIERS)
            + f"；已整改{hz['fixed']}处"
            + ("" if hz["pct_fixed"] is None else f"，整改率{hz['pct_fixed']:g}%")
            + f"，其中经复查验收{hz['verified']}处；"
            f"已列入整治计划尚未完工{hz['planned']}处；复查未通过、待重新整治{hz['reopened']}处。",
            f"共下达整治计划{report['plans']}个、预算合计{report['plan_budget_cny']:,.2f}元，"
            f"整治批次{len(t['batches']['rows'])}个、金额合计{bt['cost_cny']:,.2f}元，"
            f"涉及隐患{bt['hazards']}处，已整改{bt['fixed']}处。",
            f"{f0.year}年{f0.month}月{f0.day}日至{f1.year}年{f1.month}月{f1.day}日，"
            + (
                f"开展回头看复查{rc['checked']}处，通过{rc['passed']}处，未通过{rc['failed']}处，"
                f"通过率{rc['pct_passed']:g}%。"
                if rc["checked"]
                else "未开展回头看复查。"
            ),
        ]
    per_class = "; ".join(
        f"{r['class']} {r['routes']} routes, {lab('roads', 'length_km', r['length_km'])} km"
        for r in t["roads"]["rows"]
    )
    return [
        f"As of {report['as_of']}, the inventory holds {roads['routes']} routes, "
        f"{lab('roads', 'length_km', roads['length_km'])} km"
        + (f" ({per_class})." if per_class else "."),
        f"{hz['found']} hazards found in all ("
        + ", ".join(f"tier {k}: {tier_n.get(k, 0)}" for k in TIERS)
        + f"); {hz['fixed']} fixed"
        + ("" if hz["pct_fixed"] is None else f" ({hz['pct_fixed']:g}%)")
        + f", of which {hz['verified']} verified; "
        f"{hz['planned']} planned and not yet done; {hz['reopened']} reopened after a failed re-check.",
        f"{report['plans']} plans with budgets of {report['plan_budget_cny']:,.2f} CNY in all; "
        f"{len(t['batches']['rows'])} batches of {bt['cost_cny']:,.2f} CNY, "
        f"covering {bt['hazards']} hazards, {bt['fixed']} of them fixed.",
        f"From {report['period_from']} to {report['period_to']}, "
        + (
            f"{rc['checked']} sites re-checked: {rc['passed']} passed, {rc['failed']} failed "
            f"({rc['pct_passed']:g}% passed)."
            if rc["checked"]
            else "no site was re-checked."
        ),
    ]


def _cells(table: Table, lang: str) -> list[list[str]]:
    return [
        [label(table["key"], c, r.get(c), lang) for c in table["columns"]]
        for r in [*table["rows"], table["total"]]
    ]


def markdown(report: Report) -> str:
    w = WORDS[report["lang"]]
    out = [
        f"# {report['title']}",
        "",
        f"{w['period']}: {report['period_from']} – {report['period_to']}; {w['as_of']} {report['as_of']}",
        "",
    ]
    out += [*(p + "\n" for p in report["narrative"])]
    for t in report["tables"]:
        out += [
            f"## {t['title']}",
            "",
            "| " + " | ".join(t["headers"]) + " |",
            "|" + "|".join(" --- " for _ in t["headers"]) + "|",
        ]
        out += [
            "| " + " | ".join(c.replace("|", "\\|") for c in row) + " |"
            for row in _cells(t, report["lang"])
        ]
        out.append("")
    return "\n".join(out)


def _html(report: Report) -> str:
    from hazards.report_charts import html_images

    w, e = WORDS[report["lang"]], html.escape
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{"zh-CN" if report["lang"] == "zh" else "en"}"><head><meta charset="utf-8">',
        f"<title>{e(report['title'])}</title><style>body{{font-family:sans-serif;max-width:60em;margin:2em auto}}"
        "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #999;padding:.2em .6em}"
        "td.n{text-align:right}tr.total{font-weight:bold;background:#eee}"
        "figure.chart{margin:1em 0}figure.chart img{max-width:100%}</style></head><body>",
        f"<h1>{e(report['title'])}</h1>",
        f"<p>{e(w['period'])}: {e(report['period_from'])} – {e(report['period_to'])}; {e(w['as_of'])} {e(report['as_of'])}</p>",
        *(f"<p>{e(p)}</p>" for p in report["narrative"]),
        html_images(dict(report), tier_names=TIER_ZH if report["lang"] == "zh" else TIER_EN),
    ]
    for t in report["tables"]:
        parts.append(
            f"<h2>{e(t['title'])}</h2><table><tr>"
            + "".join(f"<th>{e(h)}</th>" for h in t["headers"])
            + "</tr>"
        )
        cells = _cells(t, report["lang"])
        for i, row in enumerate(cells):
            cls = ' class="total"' if i == len(cells) - 1 else ""
            parts.append(
                f"<tr{cls}>"
                + "".join(f"<td{' class=n' if j else ''}>{e(c)}</td>" for j, c in enumerate(row))
                + "</tr>"
            )
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _xlsx(report: Report, path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    w = WORDS[report["lang"]]
    wb = Workbook()
    ws = wb.active
    ws.title = w["summary"]
    ws.append([report["title"]])
    ws.append([w["period"], report["period_from"], report["period_to"]])
    ws.append([w["as_of"], report["as_of"]])
    for p in report["narrative"]:
        ws.append([p])
    ws.column_dimensions["A"].width = 100
    for t in report["tables"]:
        sh = wb.create_sheet(t["title"][:31])
        sh.append(t["headers"])
        for r in [*t["rows"], t["total"]]:
            sh.append(
                [
                    label(t["key"], c, r.get(c), report["lang"])
                    if isinstance(r.get(c), str) or r.get(c) is None
                    else r.get(c)
                    for c in t["columns"]
                ]
            )
        for cell in [*sh[1], *sh[sh.max_row]]:
            cell.font = Font(bold=True)
        for col in sh.columns:
            sh.column_dimensions[col[0].column_letter].width = 16
    wb.save(path)


def write_report(report: Report, path: str | Path) -> Path:
    """Write the report as Markdown, HTML (with charts), an Excel workbook (one sheet a table) or
    a Word file (narrative, charts, tables), by suffix."""
    from hazards.outfiles import writable_file

    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in FORMATS:
        raise InputError(
            f"{p}: a report is written as {', '.join(FORMATS)}; give a file name ending in one of those.",
            param="path",
        )
    writable_file(p, param="path", what="report")
    if suffix == ".md":
        p.write_text(markdown(report), encoding="utf-8")
    elif suffix == ".html":
        p.write_text(_html(report), encoding="utf-8")
    elif suffix == ".docx":
        from hazards.report_charts import write_docx

        w, lang = WORDS[report["lang"]], report["lang"]
        write_docx(
            dict(report),
            p,
            heading=f"{w['period']}: {report['period_from']} – {report['period_to']}; "
            f"{w['as_of']} {report['as_of']}",
            tables=[(t["title"], t["headers"], _cells(t, lang)) for t in report["tables"]],
            tier_names=TIER_ZH if lang == "zh" else TIER_EN,
        )
    else:
        _xlsx(report, p)
    return p
