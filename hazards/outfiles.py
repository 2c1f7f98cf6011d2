"""Files the tool writes for people (the ``outfiles`` step): the rejected rows of an import,
written back for the firm to correct (:class:`RejectedWriter`, :func:`rejected_target`; a
road file's as a GeoPackage, :func:`write_rejected_features`); a
path checked before anything is written (:func:`writable_file`); a name made safe for a file
(:func:`safe_name`); text a spreadsheet would run as a formula kept as text
(:func:`literal_text`)."""

from __future__ import annotations

import contextlib
import csv
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from hazards.errors import InputError
from hazards.reason_words import reason_text

if TYPE_CHECKING:
    import geopandas as gpd

# ----------------------------------------------------------------------------- text for spreadsheets
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What makes a spreadsheet take a text cell for a formula (CSV injection)."""


def formula_like(value: Any) -> bool:
    """Whether ``value`` is text a spreadsheet would run as a formula (``=HYPERLINK(…)``,
    ``+1+2``, ``@SUM``, ...); a number written as text (``-12.5``) is not."""
    if not isinstance(value, str) or not value.startswith(FORMULA_STARTS):
        return False
    try:
        float(value)
    except ValueError:
        return True
    return False


def literal_text(value: Any) -> Any:
    """``value`` for a CSV opened in a spreadsheet: formula-like text behind an apostrophe
    (Excel's mark for "this is text"), anything else as it is."""
    return "'" + value if formula_like(value) else value


def literal_frame(df: Any) -> Any:
    """A copy of the DataFrame ``df`` with :func:`literal_text` applied to its text columns."""
    out = df.copy()
    for c in out.columns:
        if out[c].dtype == object or str(out[c].dtype) in ("str", "string"):
            out[c] = out[c].map(literal_text)
    return out


# ----------------------------------------------------------------------------- rejected rows
class RejectedWriter:
    """The rejected rows with their original columns, ``source_row`` and ``rejected_reason``.

    UTF-8 with BOM so that Excel opens the Chinese text; the firm fixes and re-sends it. The
    reasons are in ``lang`` (:func:`~hazards.reason_words.reason_text`: Chinese in zh). Rows
    go to ``NAME.PID.part`` as they are rejected; :meth:`keep` renames it to ``path`` once the
    import has succeeded, :meth:`discard` removes it when it failed. No file without a row.
    The partial files left by an import that was killed are removed when the next one starts.
    Text a spreadsheet would run as a formula is written behind an apostrophe. A file already at
    ``path`` that differs from the rows written now (one the user is correcting, say) is not
    overwritten: :meth:`keep` sets it aside first (:func:`set_aside`).
    """

    def __init__(self, path: Path, columns: list[str], *, lang: str = "en") -> None:
        self.path = path
        self.lang = lang  # of the reasons (:func:`hazards.reason_words.reason_text`)
        self.part = path.with_name(f"{path.name}.{os.getpid()}.part")
        _remove_stale_parts(path)
        self.columns = [c for c in columns if not c.startswith("_")]
        self._fh: IO[str] | None = None
        self._w: Any = None  # a csv writer (its type is private to the csv module)

    @property
    def used(self) -> bool:
        """Whether a row was written (so there is a file to keep)."""
        return self._fh is not None

    def write(self, raw: dict[str, str], row_id: str, reason: str) -> None:
        """Add one rejected row (its cells and row id), with the reason."""
        if self._w is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = self.part.open("w", encoding="utf-8-sig", newline="")
            self._w = csv.writer(self._fh)
            self._w.writerow([*self.columns, "source_row", "rejected_reason"])
        cells = [*(raw.get(c, "") for c in self.columns), row_id, reason_text(reason, self.lang)]
        self._w.writerow([literal_text(c) for c in cells])

    def keep(self) -> Path | None:
        """The import succeeded: the file takes its name, a different one that was there set
        aside first (:func:`set_aside`). Returns where that one went, or None."""
        if self._fh is None:
            return None
        self._fh.close()
        try:
            kept = set_aside(self.path, self.part)
            self.part.replace(self.path)
        except BaseException:
            self.part.unlink(missing_ok=True)
            raise
        return kept

    def discard(self) -> None:
        """The import failed: no file is left behind."""
        if self._fh is not None:
            self._fh.close()
            self.part.unlink(missing_ok=True)


def set_aside(
    path: Path, new: Path, *, same: Callable[[Path, Path], bool] | None = None
) -> Path | None:
    """Move the file at ``path`` out of the way of ``new`` (about to take its place) when their
    contents differ (``same``: how to tell, else byte for byte), or when it cannot be read to
    tell: to the first free ``NAME.1.SUFFIX``, ``NAME.2.SUFFIX``, ... beside it, never over
    another file. Returns where it went; None when there was no file or the same content."""
    import filecmp

    if not path.is_file():
        return None
    try:
        filecmp.clear_cache()
        if (same or (lambda a, b: filecmp.cmp(a, b, shallow=False)))(path, new):
            return None
    except OSError:
        pass  # unreadable now: kept rather than overwritten
    n = 1
    while True:
        there = path.with_name(f"{path.stem}.{n}{path.suffix}")
        try:
            os.link(path, there)  # fails when the name is taken, even meanwhile
        except FileExistsError:
            n += 1
            continue
        except OSError:  # no hard links here: a rename, checked just before
            if there.exists():
                n += 1
                continue
            path.rename(there)
            return there
        path.unlink()
        return there


def earlier_kept(report: Mapping[str, Any], *, lang: str) -> str | None:
    """The line (in ``lang``) saying where an import put the different file that was at its
    rejected-rows file's place (``rejected_file_earlier``: one the user was correcting?)."""
    kept, path = report.get("rejected_file_earlier"), report.get("rejected_file")
    if not kept:
        return None
    if lang == "zh":
        return f"原有的 {path} 与本次拒收的行不同（可能正在改正），已另存为 {kept}"
    return f"{path} differed from the rows rejected now: kept as {kept}"


def _remove_stale_parts(path: Path) -> None:
    """Remove the partial files of ``path`` left by imports that were killed (``NAME.part``,
    or ``NAME.PID.part`` of a process that is gone)."""
    import glob

    if not path.parent.is_dir():
        return
    for part in path.parent.glob(glob.escape(path.name) + "*.part"):
        middle = part.name[len(path.name) : -len(".part")]  # "" or ".PID"
        if middle and not (middle.startswith(".") and middle[1:].isdigit()):
            continue
        if middle and _alive(int(middle[1:])):
            continue
        with contextlib.suppress(OSError):  # not ours to remove: it does no harm
            part.unlink()


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return False  # an earlier run of this same process id: it is over
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it exists (another user's)
    return True


def writable_file(path: str | Path, *, param: str | None = None, what: str = "file") -> Path:
    """``path`` as a file that can be written: its missing folders are created; a folder given
    as the file, a folder that cannot be created, or a place that cannot be written is
    refused with one line saying why."""
    p = Path(path)
    if p.is_dir():
        raise InputError(
            f"{p} is a folder; give a file name for the {what} (e.g. {p / ('NAME' + (p.suffix or '.csv'))}).",
            param=param,
        )
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise InputError(
            f"{p}: {p.parent} is a file, not a folder; give a path in a folder.", param=param
        ) from None
    except OSError as exc:
        raise InputError(
            f"{p}: the folder {p.parent} cannot be created ({exc.strerror}); give a path you "
            "may write to.",
            param=param,
        ) from None
    if not os.access(p.parent, os.W_OK) or (p.exists() and not os.access(p, os.W_OK)):
        raise InputError(
            f"{p}: cannot be written (permission denied); give a path you may write to.",
            param=param,
        )
    return p


def safe_name(text: str) -> str:
    """``text`` as a part of a file name: each run of anything but letters (Chinese too),
    digits, ``_``, ``.`` and ``-`` made one ``_``, none at the ends."""
    return re.sub(r"[^\w.-]+", "_", text).strip("_.")


def rejected_target(path: Path, explicit: str | Path | None, *, sheet: str | None = None) -> Path:
    """Where the rejected rows of ``path`` go: ``explicit``, else ``NAME.rejected.csv`` beside
    it, ``NAME.SHEET.rejected.csv`` for a sheet named with ``--sheet`` (so that another sheet's
    import does not overwrite it), in the current folder when its folder is read-only. A
    folder given as ``explicit``, or a place that cannot be written, is refused before
    anything is read."""
    if explicit:
        return writable_file(explicit, param="rejected_path", what="rejected rows")
    part = "." + safe_name(sheet) if sheet else ""
    target = path.with_name(f"{path.stem}{part}.rejected.csv")
    return target if os.access(path.parent, os.W_OK) else Path.cwd() / target.name


def write_rejected_features(
    gdf: gpd.GeoDataFrame, reasons: Mapping[int, list[str]], rejected_rows: list[int], path: Path
) -> str | None:
    """Write a road file's rejected rows (1-based ``rejected_rows`` of ``gdf``) with ``_row``
    and ``_reason`` (their ``reasons`` joined) to the GeoPackage ``path``. A GeoPackage already
    there with other features (one being corrected?) is set aside (:func:`set_aside`): the
    warning saying where is returned (else None)."""
    import warnings

    import pyogrio

    out = gdf.iloc[[r - 1 for r in rejected_rows]].copy()
    out.insert(0, "_row", rejected_rows)
    out.insert(1, "_reason", ["; ".join(reasons.get(r, [])) for r in rejected_rows])
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(f"{path.name}.{os.getpid()}.part")
    part.unlink(missing_ok=True)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pyogrio.write_dataframe(
                out, part, layer="rejected", driver="GPKG", geometry_type="Unknown"
            )
        kept = set_aside(path, part, same=_same_features)
        part.replace(path)
    finally:
        part.unlink(missing_ok=True)
    return earlier_kept({"rejected_file": path, "rejected_file_earlier": kept}, lang="en")


def _same_features(a: Path, b: Path) -> bool:
    """Whether two GeoPackages hold the same features (their bytes differ by timestamps)."""
    import warnings

    import pyogrio

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            one, two = (pyogrio.read_dataframe(p, layer="rejected") for p in (a, b))
    except Exception:  # noqa: BLE001 - not one of ours any more (another layer...): other
        return False
    return list(one.columns) == list(two.columns) and one.to_wkb().equals(two.to_wkb())


def write_rejected_rows(
    rows: list[dict[str, Any]], invalid: list[dict[str, Any]], target: Path
) -> tuple[str, str | None]:
    """Write the ``invalid`` rows (by their ordinal ``row``) of ``rows`` (each with its
    ``_cells`` as the file had them) to ``target``, with their line (``source_row``) and
    reason (``rejected_reason``): a CSV the import reads back (a completion report's).
    Returns ``target`` and where a different file that was there was set aside
    (:func:`set_aside`), or None."""
    columns = list(dict.fromkeys(c for r in rows for c in r["_cells"]))
    writer = RejectedWriter(target, columns)
    try:
        for r in sorted(invalid, key=lambda r: r["row"]):
            writer.write(
                {
                    k: "" if v is None else str(v).removesuffix("T00:00:00")  # a date cell's day
                    for k, v in rows[r["row"] - 1]["_cells"].items()
                },
                str(r["line"]),
                r["reason"],
            )
    except BaseException:
        writer.discard()
        raise
    earlier = writer.keep()
    return str(target), None if earlier is None else str(earlier)
