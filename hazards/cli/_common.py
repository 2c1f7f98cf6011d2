"""What every command module shares: the groups that map library errors to CLI errors (with
the flag that caused them), ``--json``, and the printers of mappings and tables.

Only click is imported here: rich, and the library modules, are imported inside the functions
that use them, so that ``hazards --help`` stays fast.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import sys
from collections.abc import Callable
from typing import Any

import click

from hazards.cli._words import COLUMN_ZH, KEY_ZH, TITLE_ZH
from hazards.errors import HazardsError, connection_lost

PARAM_ALIASES: dict[str, str] = {
    "starts_on": "start",
    "due_on": "due",
    "tiers": "tier_list",
    "expected_versions": "expect_version",
    "path": "output",
    "max_distance_m": "max_distance",
}
"""Library keyword → name of the click parameter that sets it, where the two differ (the names
that are equal, e.g. ``budget``, ``to``, ``road_class`` for ``--class``, ``mapping`` for
``--map``, need no entry). The exact name is tried first: ``path`` is a command's PATH argument
where it has one, else its ``-o/--output``."""

_WHERE = "hazards_cli_param"
"""Attribute a command sets on a :class:`HazardsError` it lets through: which of its
parameters the error is about (e.g. ``option --budget``)."""


def describe_param(command: click.Command, keyword: str | None) -> str | None:
    """The flag (``option --budget``) or argument (``argument REFS...``) of ``command`` that
    sets the library keyword ``keyword``; None when the command has no such parameter."""
    if not keyword:
        return None
    by_name = {p.name: p for p in command.params}
    param = by_name.get(keyword) or by_name.get(PARAM_ALIASES.get(keyword, ""))
    if param is None:
        return None
    if isinstance(param, click.Option):
        return "option " + "/".join(param.opts)
    return "argument " + param.human_readable_name


class HazardsCommand(click.Command):
    """A command that marks the library errors it raises with the parameter they are about."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except HazardsError as exc:
            if getattr(exc, _WHERE, None) is None:
                setattr(exc, _WHERE, describe_param(self, exc.param))
            raise


class CommandGroup(click.Group):
    """A group of :class:`HazardsCommand` commands (errors go up to the top group)."""

    command_class: type[click.Command] | None = HazardsCommand
    group_class: type[click.Group | type] | None = type  # subgroups are of this class too


class HazardsGroup(CommandGroup):
    """The top group: turns library errors into a clean message and exit code 1.

    The message is the library's; when the error is about one argument (``exc.param``), the
    flag that sets it is added, e.g. ``Error: The budget -5 is negative; give an amount ≥ 0.
    (option --budget)``.
    """

    group_class = CommandGroup

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except HazardsError as exc:
            where = getattr(exc, _WHERE, None)
            raise click.ClickException(
                plain(f"{exc.message} ({where})" if where else exc.message)
            ) from None
        except OSError as exc:
            if exc.filename is None or isinstance(exc, InterruptedError):
                raise
            # a file or folder the system refused (a folder given as a file, no permission,
            # a disk full): one line naming it, not a traceback
            where = getattr(exc, _WHERE, None)
            fix = _OS_FIX.get(type(exc), "check the path")
            raise click.ClickException(
                plain(f"{exc.filename}: {exc.strerror or exc}; {fix}.")
                + (f" ({where})" if where else "")
            ) from None
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            sys.exit(130)
        except Exception as exc:
            # a connection the server ended (psycopg was imported: a database command)
            lost = connection_lost(exc) if "psycopg" in sys.modules else None
            if lost is None:
                raise
            raise click.ClickException(plain(lost)) from None


_OS_FIX: dict[type[OSError], str] = {
    IsADirectoryError: "it is a folder: give a file name",
    NotADirectoryError: "a part of the path is a file, not a folder",
    PermissionError: "give a path you may write to, or ask for the rights",
    FileNotFoundError: "check the path",
    FileExistsError: "a file of that name is in the way",
}


_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI: colours, cursor moves, clear screen
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC: titles, hyperlinks
    r"|\x1b[P^_X][^\x1b]*(?:\x1b\\)?"  # DCS, PM, APC, SOS strings
    r"|\x1b.?"  # any other escape
    r"|[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]"  # C0, C1, bidi overrides
)


def plain(value: Any) -> str:
    """``value`` as text safe for a terminal: escape sequences and control characters removed
    (tab and newline kept). For text printed with ``click.echo``."""
    text = "" if value is None else str(value)
    return _ESCAPES.sub("", text) if not text.isprintable() else text


def safe(value: Any) -> str:
    """``value`` as text safe to print through rich: :func:`plain`, and rich markup escaped
    (``[/x]`` and ``[link=…]`` print as they are written)."""
    from rich.markup import escape

    return escape(plain(value))


def header_row_option(f: Callable[..., Any]) -> Callable[..., Any]:
    """The ``--header-row N`` option (parameter ``header_row``) of the sheet imports."""
    return click.option(
        "--header-row",
        type=click.IntRange(min=1),
        metavar="N",
        help="Row (line) number of the column names (default: found among the first rows, "
        "below any title rows; a header over two rows is read as one).",
    )(f)


def json_option(f: Callable[..., Any]) -> Callable[..., Any]:
    """The ``--json`` flag (parameter ``as_json``) of every command that reports."""
    return click.option(
        "--json", "as_json", is_flag=True, help="Print machine-readable JSON instead of a table."
    )(f)


def _finite(data: Any) -> Any:
    """``data`` with every NaN or infinite float replaced by None (JSON has no such numbers)."""
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {k: _finite(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [_finite(v) for v in data]
    return data


def echo_json(data: Any) -> None:
    """Print ``data`` as indented JSON (dates and other objects as strings; a number that is
    not finite as null, so that the output is always valid JSON)."""
    click.echo(
        json.dumps(_finite(data), ensure_ascii=False, indent=2, default=str, allow_nan=False)
    )


def echo_mapping(data: dict[str, Any], *, title: str | None = None, words: bool = True) -> None:
    """Print a mapping as a two-column key/value table; in zh the keys are shown by
    :func:`key_title` and yes/no as 是/否, and metres (keys ``*_m``) to one decimal
    (``words=False``: keys that are names, such as package names, are shown as they are).
    ``--json`` keeps the keys and the numbers as they are."""
    from rich.console import Console
    from rich.table import Table

    lang = table_lang()
    table = Table(
        title=safe(table_title(title, lang)) if title else None,
        show_header=False,
        box=None,
        pad_edge=False,
    )
    table.add_column(style="bold")
    table.add_column()
    for key, value in data.items():
        if lang == "zh" and isinstance(value, bool):
            value = "是" if value else "否"
        elif isinstance(value, float) and str(key).endswith("_m") and math.isfinite(value):
            value = round(value, 1)  # metres (a chainage, an offset) to the decimetre
        table.add_row(
            safe(key_title(str(key), lang) if words else key),
            safe(_cell(str(key), value, lang))
            if key.endswith("_cny") or (lang == "zh" and _value_words(str(key)))
            else ""
            if value is None
            else safe(value),
        )
    Console().print(table)


KEY_COLUMNS = frozenset(
    {
        "id",
        "ref",
        "route",
        "route_code",
        "chainage",
        "code",
        "name",
        "route_name",
        "batch",
        "plan",
        "plan_name",
        "township",
        "contractor",
        "group",
    }
)
"""Columns of ids, codes and names: a table never cuts them (nor drops them for width)."""


def key_title(key: str, lang: str) -> str:
    """A key/value table's key in ``lang``: :data:`KEY_ZH`, else :func:`column_title`."""
    if lang != "zh":
        return key
    return KEY_ZH.get(key) or column_title(key, lang)


_TITLE_WORDS = {
    "route": "路线",
    "hazard": "隐患",
    "progress by": "治理进度，按",
    "as of": "截至",
}


def table_title(title: str, lang: str) -> str:
    """A table's title in ``lang``: :data:`TITLE_ZH` in zh, else its leading English words
    replaced (``progress by township`` → ``治理进度，按 乡镇``)."""
    if lang != "zh":
        return title
    if title in TITLE_ZH:
        return TITLE_ZH[title]
    out = title
    for en, zh in _TITLE_WORDS.items():
        out = re.sub(rf"\b{en}\b", zh, out)
    if out.startswith("治理进度，按 "):
        head, _, rest = out[len("治理进度，按 ") :].partition(" ")
        out = f"治理进度，按{column_title(head, lang)}" + (f" {rest}" if rest else "")
    return out


def column_title(column: str, lang: str) -> str:
    """A table column's header in ``lang``: its Chinese name in zh (the key when it has none),
    the key in en."""
    if lang != "zh":
        return column
    from hazards.vocabulary import STATUS_ZH

    return COLUMN_ZH.get(column) or KEY_ZH.get(column) or STATUS_ZH.get(column) or column


def _value_words(column: str) -> dict[str, str] | None:
    """The Chinese words of a column's coded values (status, tier, category, kind, class)."""
    from hazards.vocabulary import (
        CATEGORY_ZH,
        CLASS_ZH,
        EVENT_KIND_ZH,
        STATUS_ZH,
        TIER_ZH,
        UNIT_ZH,
    )

    return {
        # a hazard's, a plan's or a batch's status
        "status": {
            **STATUS_ZH,
            "draft": "草稿",
            "committed": "已下达",
            "issued": "已下发",
            "closed": "已关闭",
        },  # fmt: skip
        "category": CATEGORY_ZH,
        "kind": EVENT_KIND_ZH,
        "road_class": CLASS_ZH,
        "class": CLASS_ZH,
        "unit": UNIT_ZH,
        "tier": TIER_ZH,
        "base_tier": TIER_ZH,
        "model_tier": TIER_ZH,
        "provided_tier": TIER_ZH,
        "tier_override": TIER_ZH,
        "cost_source": {"survey": "勘察", "library": "成本库"},
    }.get(column)


class StatusParam(click.ParamType):
    """A hazard status as a user writes it: its code (``planned``) or its Chinese word as the
    tables and work lists show it (``已计划``; ``已完工`` for ``reported_done``)."""

    name = "status"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        import unicodedata

        from hazards.vocabulary import STATUS_ZH, STATUSES

        text = unicodedata.normalize("NFKC", str(value)).strip()
        words = {unicodedata.normalize("NFKC", w): code for code, w in STATUS_ZH.items()}
        words |= {w.split("（")[0]: code for code, w in STATUS_ZH.items()}  # 已完工（待验收）
        words |= {
            "已完成": "reported_done",
            "施工中": "in_progress",
            "未开工": "planned",
        }  # 施工清单
        code = text.lower() if text.lower() in STATUSES else words.get(text)
        if code is None:
            self.fail(
                f"{text!r} is not a status; use one of "
                + ", ".join(f"{c} ({STATUS_ZH[c]})" for c in STATUSES),
                param,
                ctx,
            )
        return code

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return "STATUS"


STATUS = StatusParam()
"""The ``--status``/``--to`` options' type (:class:`StatusParam`)."""


_WORDS = {
    "zh": {"hidden": "（终端宽度不足，未显示的列：{cols}；加宽终端或用 --json 查看全部）"},
    "en": {"hidden": "(not shown at this width: {cols}; widen the terminal or use --json)"},
}


def table_lang() -> str:
    """The language of table amounts and notes: the ``lang`` setting (zh or en)."""
    from hazards.settings import language

    return language()


def tr(en: str, zh: str, *, lang: str | None = None) -> str:
    """One line the CLI prints in the ``lang`` setting (or ``lang``): ``zh`` in zh, else ``en``
    (``--json`` never goes through it)."""
    return zh if (lang or table_lang()) == "zh" else en


def money(value: float | int | None, *, lang: str | None = None) -> str:
    """An amount of CNY as every table shows it: ``3,681.95 万元`` (zh) or ``CNY 36,819,500``
    (en); empty for None. ``--json`` keeps the raw number."""
    from hazards.vocabulary import money_text

    return money_text(value, lang=lang or table_lang())


def _cell(column: str, value: Any, lang: str) -> str:
    """A table cell: amounts (columns ``*_cny``) by :func:`money`, floats to one decimal; in
    zh coded values in Chinese, and event notes, status changes and reasons too."""
    if value is None:
        return ""
    if column.endswith("_cny") and isinstance(value, (int, float)) and not isinstance(value, bool):
        return money(value, lang=lang)
    if lang == "zh" and isinstance(value, str) and (words := _value_words(column)):
        return words.get(value, value)
    if lang == "zh" and isinstance(value, str) and column in ("note", "change", "reason"):
        from hazards.reason_words import reason_text
        from hazards.vocabulary import STATUS_ZH, event_note

        if column != "change":  # the notes (history) and reasons hazards writes itself
            return plain(reason_text(event_note(value, lang), lang))
        return " → ".join(STATUS_ZH.get(s.strip(), s.strip()) for s in value.split("→")).strip()
    if isinstance(value, float):
        return f"{value:.1f}" if math.isfinite(value) else ""
    if isinstance(value, dt.datetime):  # to the second, in local time: not 12:03:44.123456+00
        return value.astimezone().strftime("%Y-%m-%d %H:%M:%S")
    return plain(value)


_AMOUNT = re.compile(r"^(?:CNY )?[-+]?[\d,]*\.?\d+(?: 万元|%)?$")


def _longest_word(text: str) -> int:
    """The narrowest a cell can wrap to: its longest word; a number or amount is one word."""
    from rich.cells import cell_len

    if _AMOUNT.match(text):
        return cell_len(text)
    return max((cell_len(w) for w in text.split()), default=0)


def fit_columns(
    cells: dict[str, list[str]],
    *,
    width: int,
    keep: set[str],
    drop: list[str],
) -> tuple[list[str], dict[str, int]]:
    """The columns of a table that fit in ``width`` terminal cells, and the width of each.

    ``cells``: each column's header then its cells, in order. Columns in ``keep`` get their
    full width (never cut); the others may wrap down to their longest word (numbers are one
    word, so never cut either; long headers fold). When even that does not fit, columns are
    left out: those in ``drop`` first (in order), then the others from the right."""
    from rich.cells import cell_len

    natural = {
        c: max(cell_len(x) for line in v for x in line.splitlines() or [""])
        for c, v in cells.items()
    }
    least = {
        c: natural[c] if c in keep else max(max((_longest_word(x) for x in v[1:]), default=1), 4)
        for c, v in cells.items()
    }
    shown = list(cells)
    order = [c for c in drop if c in shown and c not in keep]
    order += [c for c in reversed(shown) if c not in keep and c not in order]

    def frame(n: int) -> int:  # borders and padding of a table of n columns
        return 3 * n + 1

    while order and sum(least[c] for c in shown) + frame(len(shown)) > width:
        shown.remove(order.pop(0))
    widths = {c: natural[c] for c in shown}
    excess = sum(widths.values()) + frame(len(shown)) - width
    while excess > 0:  # narrow the widest wrapping column, one cell at a time
        wide = [c for c in shown if c not in keep and widths[c] > least[c]]
        if not wide:
            break
        c = max(wide, key=lambda k: widths[k])
        widths[c] -= 1
        excess -= 1
    return shown, widths


def echo_table(
    rows: list[dict[str, Any]],
    columns: list[str],
    title: str,
    *,
    keep: tuple[str, ...] = (),
    drop: tuple[str, ...] = (),
    count: int | None = None,
) -> None:
    """Print ``rows`` as a table of ``columns``, titled with the count (``count``, else the
    rows'; a table ending with a totals row gives it), fitted to the terminal.

    Ids, codes and names (:data:`KEY_COLUMNS` not named in ``drop``, the first column, and
    ``keep``) are never cut;
    other columns wrap, and when the terminal is too narrow the least important are left out
    (``drop`` first, then from the right) and a line says which. Amounts (``*_cny``) are
    shown by :func:`money`; other floats to one decimal."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    lang = table_lang()
    console = Console()
    cells = {
        c: [plain(column_title(c, lang)), *(_cell(c, r.get(c), lang) for r in rows)]
        for c in columns
    }
    keys = {c for c in columns if (c in KEY_COLUMNS and c not in drop) or c in keep}
    keys |= set(columns[:1])
    shown, widths = fit_columns(cells, width=console.width, keep=keys, drop=list(drop))
    table = Table(
        title=f"{safe(table_title(title, lang))} ({len(rows) if count is None else count})"
    )
    for c in shown:  # folded, never cut: at full width, ids and names fit on one line
        head = cells[c][0]
        if widths[c] < len(head):  # a narrowed header wraps at its underscores
            head = head.replace("_", " ")
        table.add_column(Text(head), width=widths[c], overflow="fold")
    for i in range(len(rows)):
        table.add_row(*(Text(cells[c][i + 1]) for c in shown))
    console.print(table)
    hidden = [c for c in columns if c not in shown]
    if hidden:
        names = "、".join if lang == "zh" else ", ".join
        console.print(
            _WORDS[lang]["hidden"].format(cols=names(column_title(c, lang) for c in hidden)),
            highlight=False,
        )


def with_chainage(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add a ``chainage`` text (K12+350) to each row and shorten long descriptions, for tables."""
    from hazards.chainage import format_chainage

    for r in rows:
        r["chainage"] = format_chainage(r["chainage_m"]) if r.get("chainage_m") is not None else ""
        if r.get("description") and len(r["description"]) > 40:
            r["description"] = r["description"][:39] + "…"
    return rows


def with_own_words(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each row whose category the vocabulary does not know (``other``) shown with the word
    the survey wrote, 其他（树木遮挡）, for tables (``--json`` keeps ``category_raw``)."""
    from hazards.vocabulary import CATEGORY_ZH

    for r in rows:
        raw = str(r.get("category_raw") or "").strip()
        if r.get("category") == "other" and raw and raw.lower() not in ("other", "其他"):
            raw = raw if len(raw) <= 20 else raw[:19] + "…"
            r["category"] = tr(f"other ({raw})", f"{CATEGORY_ZH['other']}（{raw}）")
    return rows
