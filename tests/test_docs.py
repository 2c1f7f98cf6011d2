"""The documentation matches the code: no path outside the repository, every `hazards ...`
command line shown names commands and options that exist (each one's ``--help`` is run),
examples the tool can produce, and dev extras for every tool the contributor docs name."""

from __future__ import annotations

import configparser
import re
from functools import cache
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from hazards.cli import cli

REPO = Path(__file__).resolve().parents[1]
DOCS = sorted(
    [
        REPO / "README.md",
        REPO / "CONTRIBUTING.md",
        REPO / "notebooks" / "README.md",
        REPO / "bench" / "README.md",
        *(REPO / "docs").glob("*.md"),
    ]
)
# Fenced blocks in these languages hold no command lines (Python, TOML, JSON...).
NOT_SHELL = {"python", "py", "toml", "json", "yaml", "sql", "text", "pycon"}


def _rel(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


def code_texts(path: Path) -> list[str]:
    """The shell lines of a document's fenced blocks, then its inline code spans."""
    text = path.read_text(encoding="utf-8")
    texts: list[str] = []
    prose: list[str] = []
    rest = 0
    for m in re.finditer(r"^```([\w+-]*)[^\n]*\n(.*?)^```", text, re.S | re.M):
        prose.append(text[rest : m.start()])
        rest = m.end()
        if m.group(1).lower() not in NOT_SHELL:
            texts.extend(m.group(2).splitlines())
    prose.append(text[rest:])
    for part in prose:  # a span may wrap onto a second line
        texts.extend(
            " ".join(t.split("\n")) for t in re.findall(r"`([^`\n]+(?:\n[^`\n]+)?)`", part)
        )
    return texts


# `hazards` as the command: at the start of a line or span, after `$(`, `&&`, `;`, a pipe, an
# environment assignment or a bin/ folder; not `hazards.mapping`, `hazards/static`, `-d hazards`.
COMMAND_RE = re.compile(
    r"(?:^\s*(?:[A-Z_]+=\S+\s+)*|\$\(\s*|&&\s*|;\s*|\|\s*|/bin/)hazards(?=\s|$)"
)


def _command_at(text: str, start: int) -> str:
    """The command line from ``start``, cut where the shell line goes on to something else."""
    line = text[start:]
    for stop in ("  #", ")", "&&", ";", "`"):
        if stop == ")" and not text[:start].rstrip().endswith("$("):
            continue
        line = line.split(stop, 1)[0]
    piped = re.search(r"\s\|\s+(?!-)", line)  # `| python ...` is a pipe; `--json | --csv` is not
    return (line[: piped.start()] if piped else line).strip()


@cache
def documented_commands() -> list[tuple[str, str]]:
    """(document, command line) for every `hazards ...` line the docs show."""
    found: list[tuple[str, str]] = []
    for doc in DOCS:
        for text in code_texts(doc):
            for m in COMMAND_RE.finditer(text):
                found.append((_rel(doc), _command_at(text, m.end() - len("hazards"))))
    return found


def resolve(line: str) -> tuple[list[str], click.Command, list[str]]:
    """The command path, the click command and the option tokens of a documented line."""
    tokens = [t.strip("[](),") for t in line.split()[1:]]
    path: list[str] = []
    command: click.Command = cli
    while isinstance(command, click.Group) and tokens and tokens[0] in command.commands:
        path.append(tokens.pop(0))
        command = command.commands[path[-1]]
    options = [t.split("=", 1)[0] for t in tokens if re.match(r"^--?[A-Za-z][\w-]*(=.*)?$", t)]
    return path, command, options


def _option_names(command: click.Command) -> set[str]:
    names = {"--help", "-h"}
    for p in command.params:
        if isinstance(p, click.Option):
            names.update(p.opts)
            names.update(p.secondary_opts)
    return names


def test_the_docs_show_commands() -> None:
    docs = {doc for doc, _ in documented_commands()}
    assert len(documented_commands()) > 80
    assert {"README.md", "docs/roads.md", "docs/survey.md", "docs/maps.md"} <= docs


def test_every_documented_command_and_option_exists() -> None:
    problems: list[str] = []
    for doc, line in documented_commands():
        path, command, options = resolve(line)
        if not path and not set(options) <= {"--help", "-h", "--version", "-V"}:
            problems.append(f"{doc}: `{line}`: no such command")
            continue
        rest = line.split()[1 + len(path) :]
        if isinstance(command, click.Group) and command is not cli:
            if rest and rest[0] not in ("...", "…"):  # `hazards review` names the group
                problems.append(f"{doc}: `{line}`: `hazards {' '.join(path)}` has no {rest[0]}")
            continue
        known = _option_names(command) | ({"--version", "-V"} if command is cli else set())
        for option in options:
            if option not in known:
                problems.append(f"{doc}: `{line}`: `hazards {' '.join(path)}` has no {option}")
    assert not problems, "\n".join(problems)


def test_the_help_of_every_documented_command_runs_and_shows_its_options() -> None:
    seen: dict[tuple[str, ...], set[str]] = {}
    for _, line in documented_commands():
        path, command, options = resolve(line)
        if path and not isinstance(command, click.Group):
            seen.setdefault(tuple(path), set()).update(
                o for o in options if o in _option_names(command)
            )
    assert len(seen) > 30
    runner = CliRunner()
    for path, options in sorted(seen.items()):
        result = runner.invoke(cli, [*path, "--help"], prog_name="hazards")
        assert result.exit_code == 0, f"hazards {' '.join(path)} --help: {result.output}"
        for option in options - {"-h"}:
            assert option in result.output, (
                f"hazards {' '.join(path)} --help does not show {option}"
            )


@pytest.mark.parametrize("doc", DOCS, ids=_rel)
def test_no_doc_names_a_path_outside_the_repository(doc: Path) -> None:
    text = doc.read_text(encoding="utf-8")
    assert "shared/" not in text, f"{_rel(doc)} cites shared/, which is not in the repository"
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"^[a-z]+:|^#", target):  # a URL or an anchor
            continue
        resolved = (doc.parent / target.split("#", 1)[0]).resolve()
        assert resolved.is_relative_to(REPO), f"{_rel(doc)} links outside the repository: {target}"
        assert resolved.exists(), f"{_rel(doc)} links to {target}, which does not exist"


BATCH_RE = re.compile(
    r"(?:export batch|batch set|map batch|--batch(?![\w-])|batch_map\(\")\s*\"?([^\s\"`)]+)"
)


def test_batch_names_in_the_docs_are_ones_the_planner_makes() -> None:
    """The planner names batches PLAN-1, PLAN-2, ...: no example shows another kind."""
    bad = []
    for doc in DOCS:
        for name in BATCH_RE.findall(doc.read_text(encoding="utf-8")):
            if name.isupper() or name.startswith("-"):  # a placeholder (NAME) or an option
                continue
            if not re.fullmatch(r"[\w.-]+-\d+", name):
                bad.append(f"{_rel(doc)}: {name}")
    assert not bad, bad


def _extras() -> dict[str, set[str]]:
    cfg = configparser.ConfigParser(interpolation=None)
    cfg.read(REPO / "setup.cfg")
    raw = cfg["options.extras_require"]
    names = {
        extra: {
            re.split(r"[\[<>=!~ ;]", ln.strip(), maxsplit=1)[0].lower()
            for ln in value.splitlines()
            if ln.strip() and not ln.strip().startswith("%(")
        }
        for extra, value in raw.items()
    }
    if "%(test)s" in raw["dev"]:
        names["dev"] |= names["test"]
    return names


# A tool the contributor docs may name → the distribution that provides it.
TOOLS = {
    r"\bpytest\b": "pytest",
    r"\bruff\b": "ruff",
    r"\bmypy\b": "mypy",
    r"\bjupyter nbconvert\b": "nbconvert",
    r"\bnbclient\b": "nbclient",
    r"\bnbformat\b": "nbformat",
    r"\bipykernel\b": "ipykernel",
    r"\bjupyter lab\b": "jupyterlab",
    r"\bhypothesis\b": "hypothesis",
    r"\bwebsockets\b": "websockets",
}


@pytest.mark.parametrize("doc", ["CONTRIBUTING.md", "notebooks/README.md"])
def test_the_dev_extras_cover_every_tool_the_contributor_docs_name(doc: str) -> None:
    """`pip install -e '.[dev]'` (what `make test` installs) brings every tool named, unless
    the doc itself says to install it (`pip install jupyterlab`)."""
    text = (REPO / doc).read_text(encoding="utf-8")
    dev = _extras()["dev"]
    missing = [
        package
        for pattern, package in TOOLS.items()
        if re.search(pattern, text)
        and package not in dev
        and not re.search(rf"pip install [^\n`]*\b{package}\b", text)
    ]
    assert not missing, f"{doc} names tools the dev extras do not install: {missing}"
