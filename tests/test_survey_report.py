"""The survey import's report (hazards.survey_report): every key and every listed row's field
is documented in docs/survey.md; test_intake checks an import fills exactly these keys."""

from __future__ import annotations

from pathlib import Path
from typing import get_type_hints

from hazards.survey_report import MissingPhoto, RejectedRow, SurveyImportReport, WarningRow

DOC = Path(__file__).resolve().parents[1] / "docs" / "survey.md"


def test_every_key_and_listed_field_is_documented() -> None:
    doc = DOC.read_text(encoding="utf-8")
    keys = set(get_type_hints(SurveyImportReport))
    assert {"rows", "warnings", "warning_rows", "rejected_rows"} <= keys
    missing = sorted(k for k in keys if f"`{k}`" not in doc)
    assert missing == [], f"not in docs/survey.md: {missing}"
    for row in (RejectedRow, WarningRow, MissingPhoto):
        fields = set(get_type_hints(row))
        assert "row" in fields and "line" in fields
        assert all(f"`{f}`" in doc for f in fields), (row.__name__, fields)
