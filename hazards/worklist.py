"""The contractor's Excel work list, in the contractor's language (zh or en): written from a
batch's features, and its columns and status words read back from a returned copy.

The sheet ``施工清单`` (``work list``) opens with a header block (batch, plan, contractor,
dates, the batch's amount, the day it was written), then one row per hazard under a frozen
header row, and a totals row; the returned status column carries a drop-down list; a second
sheet ``填写说明`` (``instructions``) says how to fill it in. The GeoJSON keeps its stable
English keys (``hazards/schemas/contractor-batch.schema.json``); only this sheet is translated.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import unicodedata
from pathlib import Path
from typing import Any

from hazards.chainage import format_chainage
from hazards.vocabulary import CATEGORY_ZH, STATUS_ZH, TIER_ZH, UNIT_ZH

COLUMNS: dict[str, tuple[str, str, int]] = {
    # key: (zh header, en header, width in characters; 0: fitted to the contents)
    "no": ("序号", "no", 6),
    "id": ("隐患编号", "id", 0),
    "route_code": ("路线编码", "route_code", 0),
    "route_name": ("路线名称", "route_name", 0),
    "township": ("乡镇", "township", 0),
    "chainage": ("桩号", "chainage", 0),
    "from_chainage": ("起点桩号", "from_chainage", 0),
    "to_chainage": ("止点桩号", "to_chainage", 0),
    "category": ("隐患类型", "category", 0),
    "description": ("隐患描述", "description", 40),
    "tier": ("风险等级", "tier", 0),
    "countermeasure": ("整治措施", "countermeasure", 30),
    "countermeasure_source": ("措施来源", "countermeasure_source", 0),
    "quantity": ("数量", "quantity", 10),
    "unit": ("单位", "unit", 0),
    "estimated_cost_cny": ("估算费用（元）", "estimated_cost_cny", 14),
    "cost_source": ("费用来源", "cost_source", 0),
    "due_date": ("计划完工日期", "due_date", 12),
    "status": ("状态", "status", 10),
    "completed_on": ("完成日期", "completed_on", 12),
    "note": ("备注", "note", 24),
    "evidence": ("佐证材料", "evidence", 24),
    "lon": ("经度", "lon", 12),
    "lat": ("纬度", "lat", 12),
}
"""The work list's columns in order (``from_chainage``/``to_chainage`` only for a batch with
linear hazards), with their zh and en headers."""

HEADER_ALIASES: dict[str, str] = {
    **{key: key for key in COLUMNS},
    **{zh: key for key, (zh, _en, _w) in COLUMNS.items()},
    "估算费用": "estimated_cost_cny",
    "估算费用(元)": "estimated_cost_cny",
    "完工日期": "completed_on",
    "完成时间": "completed_on",
    "施工状态": "status",
    "批次": "batch",
    "batch": "batch",
    "照片": "evidence",
    "chainage_m": "chainage_m",
}
"""A returned sheet's column names (zh or en, as written or as commonly retyped) → keys."""

SOURCES = {"survey": "勘察", "library": "成本库"}
"""The source of a countermeasure or a cost, in Chinese."""

CONTRACTOR_STATUS: dict[str, tuple[str, str]] = {
    "planned": ("未开工", "planned"),
    "in_progress": ("施工中", "in_progress"),
    "reported_done": ("已完成", "reported_done"),
}
"""The statuses a contractor reports (zh, en): the drop-down list of the status column."""

_TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "sheet": "施工清单",
        "title": "道路安全隐患整治施工清单",
        "batch": "批次",
        "plan": "所属计划",
        "contractor": "施工单位",
        "written": "导出日期",
        "starts": "开工日期",
        "due": "计划完工日期",
        "budget": "批次金额（元）",
        "count": "隐患数（处）",
        "total": "合计",
        "instructions": "填写说明",
        "prompt_title": "施工状态",
        "prompt": "请从下拉列表选择：未开工、施工中、已完成",
        "error": "请从下拉列表选择状态",
    },
    "en": {
        "sheet": "work list",
        "title": "Road hazard remediation work list",
        "batch": "batch",
        "plan": "plan",
        "contractor": "contractor",
        "written": "written on",
        "starts": "starts on",
        "due": "due on",
        "budget": "batch amount (CNY)",
        "count": "hazards",
        "total": "Total",
        "instructions": "instructions",
        "prompt_title": "status",
        "prompt": "Choose from the list: planned, in_progress, reported_done",
        "error": "Choose a status from the list",
    },
}

INSTRUCTIONS = {
    "zh": [
        "填写说明",
        "1. 本表每行一处隐患，按路线和桩号排序；请勿修改“隐患编号”，勿增删列。",
        "2. “状态”一列从下拉列表选择：已完成（完工）、施工中（已开工）、未开工（不填报）。",
        "3. “完成日期”填写完工日期，可写 2025-07-20、2025/7/20、2025.7.20 或 2025年7月20日；"
        "状态为“已完成”时必须填写，且不得早于开工日期、不得晚于填报当天。",
        "4. “备注”可写施工情况；“佐证材料”写照片或文件名（如 IMG_0123.jpg）。",
        "5. 经度、纬度为隐患位置（WGS84）；如需更正，偏差不得超过15米，超过请联系发包单位重新核查。",
        "6. 填好后将本文件交回发包单位，由其导入：hazards import completion 文件名.xlsx",
        "“措施来源”：勘察＝检测单位提出的措施（数量以现场为准），成本库＝按单价库估算的措施及数量。",
    ],
    "en": [
        "Instructions",
        "1. One row per hazard, ordered by route and chainage; do not change the id, do not add "
        "or remove columns.",
        "2. Choose the status from the list: reported_done (finished), in_progress (started), "
        "planned (not reported).",
        "3. completed_on: the day the work was finished, as 2025-07-20, 2025/7/20, 2025.7.20 or "
        "2025年7月20日; required with reported_done, not before the batch start, not in the "
        "future.",
        "4. note: how the work went; evidence: photo or document names (IMG_0123.jpg).",
        "5. lon/lat: the hazard's place (WGS84); a correction may move it at most 15 m, "
        "otherwise ask the county to re-survey it.",
        "6. Send the file back; the county imports it with: hazards import completion FILE.xlsx",
        "countermeasure_source: survey = the surveyor's countermeasure (quantity as found on "
        "site); library = the cost library's countermeasure and quantity.",
    ],
}


def status_word(status: str | None, lang: str) -> str:
    """A status as the work list writes it: the contractor's word for the statuses a
    contractor reports, else the status (in Chinese for zh)."""
    if status is None:
        return ""
    if status in CONTRACTOR_STATUS:
        return CONTRACTOR_STATUS[status][0 if lang == "zh" else 1]
    return STATUS_ZH.get(status, status) if lang == "zh" else status


def header_key(name: Any) -> str | None:
    """The work-list key of a returned sheet's column name (zh or en), None when unknown."""
    text = unicodedata.normalize("NFKC", str(name or "")).strip()
    return HEADER_ALIASES.get(text) or HEADER_ALIASES.get(text.lower())


def header_score(cells: list[Any]) -> int:
    """How many work-list columns a row names (to find the header row below the block)."""
    return sum(1 for c in cells if header_key(c) in COLUMNS)


def _start(geometry: dict[str, Any] | None) -> tuple[float | None, float | None]:
    """lon, lat of a Point, or of the first vertex of a LineString (a linear hazard's start):
    the place of a feature that gives no ``lon``/``lat`` properties."""
    coords: Any = (geometry or {}).get("coordinates")
    if (geometry or {}).get("type") in ("LineString", "MultiPoint") and coords:
        coords = coords[0]
    elif (geometry or {}).get("type") == "MultiLineString" and coords and coords[0]:
        coords = coords[0][0]
    if not coords or len(coords) < 2:
        return None, None
    return float(coords[0]), float(coords[1])


def _rows_cost(features: list[dict[str, Any]]) -> float:
    """The sum of the hazards' estimated costs, rounded to the fen as each is."""
    return round(sum(float(f["properties"].get("estimated_cost_cny") or 0) for f in features), 2)


def _row(props: dict[str, Any], geometry: Any, n: int, lang: str) -> dict[str, Any]:
    """One hazard's cells, by key, in ``lang``."""
    zh = lang == "zh"
    lon, lat = props.get("lon"), props.get("lat")  # the hazard's point, as the GeoJSON gives it
    if lon is None or lat is None:
        lon, lat = _start(geometry)
    row = {k: props.get(k) for k in COLUMNS}
    row.update(no=n, lon=lon, lat=lat, status=status_word(props.get("status"), lang))
    for key, metres in (("from_chainage", "from_m"), ("to_chainage", "to_m")):
        value = props.get(metres)
        row[key] = format_chainage(float(value)) if value is not None else None
    for key in ("due_date", "completed_on"):  # date cells (yyyy-mm-dd), as in the header block
        day = row[key]
        if isinstance(day, str) and day:
            with contextlib.suppress(ValueError):  # not an ISO day: written as the text it is
                row[key] = dt.date.fromisoformat(day[:10])
    if zh:
        row["category"] = CATEGORY_ZH.get(props.get("category") or "", props.get("category"))
        row["tier"] = TIER_ZH.get(props.get("tier") or "", props.get("tier"))
        row["unit"] = UNIT_ZH.get(props.get("unit") or "", props.get("unit"))
        for key in ("countermeasure_source", "cost_source"):
            row[key] = SOURCES.get(props.get(key) or "", props.get(key))
    return row


def _width(value: Any) -> int:
    """Columns a value takes in Excel (CJK characters count two)."""
    text = value if isinstance(value, str) else ("" if value is None else f"{value}")
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def write_work_list(
    collection: dict[str, Any], batch: dict[str, Any], path: Path, *, lang: str
) -> int:
    """Write the work list of ``collection`` (the batch's features) to ``path`` in ``lang``;
    ``batch`` is the batch's row (name, plan, contractor, dates, amount). The rows written."""
    import openpyxl
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    from hazards.outfiles import formula_like

    words = _TEXT[lang]
    features = collection["features"]
    linear = any(
        f["properties"].get("from_m") is not None or f["properties"].get("to_m") is not None
        for f in features
    )
    keys = [k for k in COLUMNS if linear or k not in ("from_chainage", "to_chainage")]
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = words["sheet"]
    bold = Font(bold=True)
    ws.append([words["title"]])
    ws["A1"].font = Font(bold=True, size=14)
    amount = _rows_cost(features)
    block = [
        (words["batch"], batch.get("name"), words["contractor"], batch.get("contractor")),
        (words["plan"], batch.get("plan_name"), words["written"], dt.date.today()),
        (words["starts"], batch.get("starts_on"), words["due"], batch.get("due_on")),
        # the batch's amount as its rows give it (each hazard's effective cost today, the 合计
        # row below): the amount stored when it was planned may have changed since
        (words["budget"], amount, words["count"], len(features)),
    ]
    for line in block:
        ws.append(list(line))
        r = ws.max_row
        for col in (1, 3):
            ws.cell(r, col).font = bold
        for col in (2, 4):
            cell = ws.cell(r, col)
            if isinstance(cell.value, dt.date):
                cell.number_format = "yyyy-mm-dd"
            elif isinstance(cell.value, float):
                cell.number_format = "#,##0.00"
    ws.append([])
    ws.append([COLUMNS[k][0 if lang == "zh" else 1] for k in keys])
    head = ws.max_row
    fill = PatternFill("solid", fgColor="DDEBF7")
    for cell in ws[head]:
        cell.font, cell.fill = bold, fill
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    widths = {k: _width(ws.cell(head, i + 1).value) for i, k in enumerate(keys)}
    for n, f in enumerate(features, start=1):
        row = _row(f["properties"], f.get("geometry"), n, lang)
        ws.append([row[k] for k in keys])
        for i, cell in enumerate(ws[ws.max_row]):
            if formula_like(cell.value):  # text, never a formula: shown as typed
                cell.data_type = "s"
                cell.quotePrefix = True
            if isinstance(cell.value, dt.date):
                cell.number_format = "yyyy-mm-dd"
            widths[keys[i]] = max(widths[keys[i]], _width(cell.value))
    first, last = head + 1, head + len(features)
    ws.append([words["total"]] + [None] * (len(keys) - 1))
    ws.cell(ws.max_row, 1).font = bold
    cost_col = keys.index("estimated_cost_cny") + 1
    ws.cell(ws.max_row, cost_col, amount).font = bold
    for r in range(first, ws.max_row + 1):
        ws.cell(r, cost_col).number_format = "#,##0.00"
        ws.cell(r, keys.index("description") + 1).alignment = Alignment(wrap_text=True)
    for i, k in enumerate(keys):
        fixed = COLUMNS[k][2]
        ws.column_dimensions[get_column_letter(i + 1)].width = (
            fixed if fixed else min(max(widths[k], 6) + 2, 30)
        )
    if features:
        choices = ",".join(
            CONTRACTOR_STATUS[s][0 if lang == "zh" else 1] for s in CONTRACTOR_STATUS
        )
        dv = DataValidation(
            type="list",
            formula1=f'"{choices}"',
            allow_blank=True,
            showErrorMessage=True,
            showInputMessage=True,
            promptTitle=words["prompt_title"],
            prompt=words["prompt"],
            errorTitle=words["prompt_title"],
            error=words["error"],
        )
        status_col = get_column_letter(keys.index("status") + 1)
        dv.add(f"{status_col}{first}:{status_col}{last}")
        ws.add_data_validation(dv)
        done_col = get_column_letter(keys.index("completed_on") + 1)
        for r in range(first, last + 1):
            ws[f"{done_col}{r}"].number_format = "yyyy-mm-dd"
    ws.freeze_panes = ws.cell(head + 1, 3)  # the header row and the number and id columns
    ws.auto_filter.ref = f"A{head}:{get_column_letter(len(keys))}{max(last, head)}"
    notes = wb.create_sheet(words["instructions"])
    for text in INSTRUCTIONS[lang]:
        notes.append([text])
    notes["A1"].font = Font(bold=True, size=14)
    notes.column_dimensions["A"].width = 110
    wb.save(path)
    return len(features)
