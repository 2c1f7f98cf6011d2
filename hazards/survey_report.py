"""The report of a survey import (``hazards survey import --json``; docs/survey.md): its
keys, and the rows it lists (rejected, duplicate, with warnings) and the photos not found.
:mod:`hazards.intake` fills it."""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict

from hazards.route_names import NameMismatch

__all__ = ["MissingPhoto", "RejectedRow", "SurveyImportReport", "WarningRow"]


class RejectedRow(TypedDict):
    """A rejected or duplicate row in the report: its row id, its line (CSV) or row (XLSX)
    number in the file, and the reason."""

    row: str
    line: int
    reason: str | None


class WarningRow(TypedDict):
    """A stored row with warnings, in the report: its row id, its line (CSV) or row (XLSX)
    number in the file, and its warnings (as the hazard keeps them)."""

    row: str
    line: int
    warnings: list[str]


class MissingPhoto(TypedDict):
    """A photo named by a row and not found: the row id, its line in the file, the photo."""

    row: str
    line: int
    photo: str


class SurveyImportReport(TypedDict):
    """The accounting of one survey import (``hazards survey import --json``; docs/survey.md).

    ``accepted + review + rejected + duplicates + empty == rows``; of the stored rows
    (accepted + review), ``added + updated + unchanged + seen_again`` say what became of them.
    """

    survey_id: int | None
    file: str
    provider: str
    surveyed_on: str
    encoding: str | None
    headers: dict[str, str]
    rows: int
    accepted: int
    review: int
    rejected: int
    duplicates: int
    empty: int
    rejected_by_reason: dict[str, int]
    rejected_file: str | None
    rejected_file_earlier: NotRequired[str]
    """Only when a different file was at ``rejected_file`` (one being corrected?): where this
    import set it aside (``outfiles.set_aside``); not in the report stored with the survey."""
    warnings: int
    added: int
    updated: int
    unchanged: int
    seen_again: int
    already_imported: bool
    rejected_rows: list[RejectedRow]
    duplicate_rows: list[RejectedRow]
    warning_rows: list[WarningRow]
    dry_run: bool
    options: dict[str, Any]
    header_row: int | None
    header_from: int | None
    """For a header written over two rows, its upper row (``header_row`` the lower); else None."""
    corrects: int | None
    replaced: int | None
    missing_photos: list[MissingPhoto]
    route_name_mismatches: list[NameMismatch]
