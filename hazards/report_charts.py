"""The period report's charts and its Word file (``hazards report -o FILE.html|.docx``).

Two charts, drawn with matplotlib (Agg, no display): *progress per tier over time* (for each
tier, hazards found and fixed as of the end of every month of the period, rebuilt from the
events like ``progress --as-of``) and *per township* (each township's found hazards split into
fixed, planned and still open, from the report's township table). The HTML carries them as SVG
images in data URIs with their text kept as text (the browser's fonts draw the Chinese), so the
page needs no network; the Word file carries them as PNG.

This module knows nothing of the report's wording: :mod:`hazards.report` hands it the words and
the formatted cells.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import logging
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hazards.vocabulary import DONE_STATUSES, TIERS

if TYPE_CHECKING:
    from sqlalchemy import Engine

__all__ = ["CHART_WORDS", "charts", "month_ends", "tier_series", "write_docx"]

MAX_POINTS = 36
"""At most this many points on the time axis (a longer period is sampled by quarter)."""
CJK_FONTS = [
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "WenQuanYi Micro Hei",
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
    "DejaVu Sans",  # the fallback, last: no Chinese in it
]
CHART_WORDS = {
    "zh": {
        "tiers": "各风险等级隐患整改进度",
        "townships": "各乡镇隐患整改情况",
        "found": "发现",
        "fixed": "已整改",
        "planned": "已计划未完工",
        "open": "未治理",
        "count": "隐患(处)",
        "month": "月末",
    },
    "en": {
        "tiers": "Progress per tier",
        "townships": "Hazards per township",
        "found": "found",
        "fixed": "fixed",
        "planned": "planned",
        "open": "open",
        "count": "hazards",
        "month": "month end",
    },
}


def month_ends(start: dt.date, end: dt.date) -> list[dt.date]:
    """The last day of every month from ``start`` to ``end``, ``end`` itself last (every third
    month when there would be more than :data:`MAX_POINTS`)."""
    out, y, m = [], start.year, start.month
    while True:
        nxt = dt.date(y + (m == 12), m % 12 + 1, 1)
        last = nxt - dt.timedelta(days=1)
        if last >= end:
            break
        out.append(last)
        y, m = nxt.year, nxt.month
    if len(out) + 1 > MAX_POINTS:
        out = out[2::3]
    return [*out, end]


def tier_series(start: dt.date, end: dt.date, *, engine: Engine) -> dict[str, Any]:
    """Hazards found (not rejected) and fixed per tier as of each of :func:`month_ends`:
    ``{"dates": [...], "found": {tier: [...]}, "fixed": {tier: [...]}}``."""
    from hazards.db import store

    dates = month_ends(start, end)
    found: dict[str, list[int]] = {t: [] for t in TIERS}
    fixed: dict[str, list[int]] = {t: [] for t in TIERS}
    for d in dates:
        df = store.progress_frame(engine, as_of=d)
        for t in TIERS:
            mine = df[df["tier"] == t]
            found[t].append(int(mine.loc[mine["status"] != "rejected", "n"].sum()))
            fixed[t].append(int(mine.loc[mine["status"].isin(DONE_STATUSES), "n"].sum()))
    return {"dates": [d.isoformat() for d in dates], "found": found, "fixed": fixed}


def _figure(width: float, height: float) -> Any:
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100)
    return fig


def _style() -> Any:
    return {"font.family": "sans-serif", "font.sans-serif": CJK_FONTS, "svg.fonttype": "none"}


def cjk_font() -> str | None:
    """The first of :data:`CJK_FONTS` (but its Latin fallback) matplotlib knows. matplotlib keeps the fonts it found
    in a cache, which a font installed since (``apt-get install fonts-noto-cjk``) is not in:
    when it knows none, the fonts installed since are added (the charts drew boxes for every
    Chinese character although the font was there). None when there is none."""
    import contextlib

    from matplotlib import font_manager

    fonts = font_manager.fontManager

    def known() -> str | None:
        names = {f.name for f in fonts.ttflist}
        return next((n for n in CJK_FONTS[:-1] if n in names), None)  # not the fallback

    found = known()
    if found is None:
        listed = {f.fname for f in fonts.ttflist}
        for path in font_manager.findSystemFonts():
            if path not in listed:
                with contextlib.suppress(Exception):  # a file FreeType cannot read: skipped
                    fonts.addfont(path)
        found = known()
    return found


def _tier_chart(series: dict[str, Any], words: dict[str, str], tier_names: dict[str, str]) -> Any:
    from hazards.map_style import TIER_COLOURS

    fig = _figure(7.5, 3.6)
    ax = fig.add_subplot()
    dates = [dt.date.fromisoformat(d) for d in series["dates"]]
    labels = [f"{d.year}-{d.month:02d}" for d in dates]
    x = list(range(len(dates)))
    for t in TIERS:
        colour = TIER_COLOURS[t]
        ax.plot(x, series["found"][t], color=colour, linestyle="--", linewidth=1.2)
        ax.plot(
            x,
            series["fixed"][t],
            color=colour,
            marker="o",
            markersize=3,
            linewidth=2,
            label=f"{tier_names.get(t, t)} {words['fixed']} / {words['found']}",
        )
    ax.set_xticks(x, labels, rotation=45 if len(x) > 6 else 0, fontsize=8)
    ax.set_ylabel(words["count"])
    ax.set_title(words["tiers"])
    ax.set_ylim(bottom=0)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    fig.tight_layout()
    return fig


def _township_chart(rows: list[dict[str, Any]], words: dict[str, str]) -> Any:
    names = [str(r["township"]) for r in rows]
    fixed = [r["fixed"] for r in rows]
    planned = [r["planned"] for r in rows]
    rest = [max(0, r["found"] - r["fixed"] - r["planned"]) for r in rows]
    fig = _figure(7.5, max(2.2, 0.45 * len(rows) + 1.2))
    ax = fig.add_subplot()
    y = list(range(len(rows)))
    ax.barh(y, fixed, color="#1a9641", label=words["fixed"])
    ax.barh(y, planned, left=fixed, color="#1f5fbf", label=words["planned"])
    left = [a + b for a, b in zip(fixed, planned, strict=True)]
    ax.barh(y, rest, left=left, color="#d7191c", label=words["open"])
    ax.set_yticks(y, names, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(words["count"])
    ax.set_title(words["townships"])
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


def charts(
    report: dict[str, Any], *, kind: str, tier_names: dict[str, str]
) -> list[tuple[str, bytes]]:
    """The report's charts as ``(title, image)``: ``kind`` ``svg`` (text as text) or ``png``.
    The township chart only when some hazard has a township."""
    import matplotlib

    words = CHART_WORDS[report["lang"]]
    tables = {t["key"]: t for t in report["tables"]}
    towns = [r for r in tables["by_township"]["rows"] if r["found"]]
    out = []
    cjk_font()  # a CJK font installed since matplotlib listed the fonts: known from now on
    with matplotlib.rc_context(_style()), warnings.catch_warnings():
        # without a CJK font the PNG shows boxes for Chinese (the SVG keeps the text as text)
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
        figures = [(words["tiers"], _tier_chart(report["series"], words, tier_names))]
        if towns:
            figures.append((words["townships"], _township_chart(towns, words)))
        for title, fig in figures:
            buf = io.BytesIO()
            fig.savefig(buf, format=kind, dpi=150 if kind == "png" else 100)
            out.append((title, buf.getvalue()))
    return out


def html_images(report: dict[str, Any], *, tier_names: dict[str, str]) -> str:
    """The charts as ``<figure><img src="data:image/svg+xml;base64,...">`` elements."""
    from html import escape

    parts = []
    for title, svg in charts(report, kind="svg", tier_names=tier_names):
        data = base64.b64encode(svg).decode("ascii")
        parts.append(
            f'<figure class="chart"><img alt="{escape(title)}" '
            f'src="data:image/svg+xml;base64,{data}"></figure>'
        )
    return "\n".join(parts)


def write_docx(
    report: dict[str, Any],
    path: Path,
    *,
    heading: str,
    tables: list[tuple[str, list[str], list[list[str]]]],
    tier_names: dict[str, str],
) -> None:
    """The report as a Word file: title, period line (``heading``), narrative, charts (PNG),
    then each table ``(title, headers, rows)`` with its total row in bold."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    doc = Document()
    normal = doc.styles["Normal"]
    normal.font.name = "SimSun" if report["lang"] == "zh" else "Calibri"
    normal.font.size = Pt(10.5)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "宋体")
    doc.add_heading(report["title"], level=0).alignment = WD_ALIGN_PARAGRAPH.CENTER
    doc.add_paragraph(heading)
    for p in report["narrative"]:
        doc.add_paragraph(p).paragraph_format.first_line_indent = Pt(21)
    for title, png in charts(report, kind="png", tier_names=tier_names):
        doc.add_picture(io.BytesIO(png), width=Cm(16))
        doc.add_paragraph(title).alignment = WD_ALIGN_PARAGRAPH.CENTER
    for title, headers, rows in tables:
        doc.add_heading(title, level=2)
        table = doc.add_table(rows=1, cols=len(headers))
        table.style = "Table Grid"
        for cell, text in zip(table.rows[0].cells, headers, strict=True):
            cell.text = text
            cell.paragraphs[0].runs[0].bold = True
        for i, row in enumerate(rows):
            cells = table.add_row().cells
            for j, (cell, text) in enumerate(zip(cells, row, strict=True)):
                cell.text = text
                if j:
                    cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
                if i == len(rows) - 1:
                    for run in cell.paragraphs[0].runs:
                        run.bold = True
    doc.save(str(path))
