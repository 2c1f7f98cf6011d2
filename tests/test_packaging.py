"""Packaging: setup.cfg and environment.yml agree; the README shows the two commands."""

from __future__ import annotations

import configparser
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CONDA_ONLY = {"python", "postgresql", "postgis", "pip"}


def _name(requirement: str) -> str:
    return re.split(r"[\[<>=!~ ;]", requirement.strip(), maxsplit=1)[0].lower()


def test_environment_yml_lists_the_same_runtime_libraries_as_setup_cfg() -> None:
    cfg = configparser.ConfigParser()
    cfg.read(REPO / "setup.cfg")
    pip_names = {
        _name(line) for line in cfg["options"]["install_requires"].splitlines() if line.strip()
    }
    conda_names = set()
    in_deps = False
    for line in (REPO / "environment.yml").read_text().splitlines():
        if line.startswith("dependencies:"):
            in_deps = True
            continue
        if in_deps and re.match(r"^\s+-\s+pip:\s*$", line):
            continue  # the pip: sub-list follows; its names count too
        if in_deps and re.match(r"^\s+-\s+\S", line):
            conda_names.add(_name(line.split("-", 1)[1].split("#")[0]))
        elif in_deps and line.strip() and not line.startswith(" "):
            in_deps = False
    assert {"postgresql", "postgis", "python"} <= conda_names
    assert conda_names - CONDA_ONLY == pip_names


def test_readme_shows_the_two_commands_and_ci_runs_make_test() -> None:
    readme = (REPO / "README.md").read_text()
    assert "make demo" in readme and "make test" in readme
    ci = (REPO / ".ci" / "run").read_text()
    assert "make test" in ci
