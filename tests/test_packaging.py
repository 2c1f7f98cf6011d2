"""Packaging: a quiet build whose wheel holds the package data and nothing else; setup.cfg and
environment.yml agree; the README shows the two commands."""

from __future__ import annotations

import configparser
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

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


# What setuptools says when a folder holding package data is not itself a package (the
# BuildBackendWarning of setuptools >= 69; "as data is deprecated" in older releases).
QUIET_INSTALL_WARNINGS = (
    "BuildBackendWarning",
    "SetuptoolsDeprecationWarning",
    "absent from the `packages` configuration",
    "as data is deprecated",
)
NO_BUILD_DEPS = ("Could not find a version that satisfies", "No matching distribution")


def _copy_source(dst: Path) -> None:
    """The files a build reads (and bench/, tests/ to show they are left out), caches included."""
    for name in ("setup.cfg", "pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, dst / name)
    for folder in ("hazards", "bench", "tests"):
        shutil.copytree(REPO / folder, dst / folder, symlinks=True)


def _quiet_pip(python: str, *args: str) -> None:
    """Run pip with ``python``; fail on an error or any warning about the package layout
    (skip, outside CI, when the build dependencies cannot be downloaded)."""
    proc = subprocess.run(
        [python, "-m", "pip", *args],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )
    output = proc.stdout + proc.stderr
    if proc.returncode and any(s in output for s in NO_BUILD_DEPS) and not os.environ.get("CI"):
        pytest.skip("the build dependencies (setuptools, wheel) cannot be downloaded here")
    assert proc.returncode == 0, output[-4000:]
    warnings = [
        ln.strip() for ln in output.splitlines() if any(w in ln for w in QUIET_INSTALL_WARNINGS)
    ]
    assert not warnings, "\n".join(warnings[:10])


def test_the_wheel_builds_without_warnings_with_its_data_and_without_bench_or_tests(
    tmp_path: Path,
) -> None:
    """What `pip install -e .` on a fresh clone does: an isolated build with the newest
    setuptools. No BuildBackendWarning; every file of the package folder is in the wheel
    (migrations, schemas, static files), and nothing else (bench/, tests/, caches)."""
    src, dist = tmp_path / "src", tmp_path / "dist"
    src.mkdir()
    _copy_source(src)
    (src / "hazards" / "__pycache__").mkdir(exist_ok=True)  # as in a working tree
    _quiet_pip(sys.executable, "wheel", "-v", "--no-deps", "-w", str(dist), str(src))

    (wheel,) = dist.glob("hazards-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    package_files = {
        p.relative_to(REPO).as_posix()
        for p in (REPO / "hazards").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    }
    missing = package_files - names
    assert not missing, f"not in the wheel: {sorted(missing)}"
    for needed in (
        "hazards/db/migrations/env.py",
        "hazards/db/migrations/script.py.mako",
        "hazards/db/migrations/versions/0001_initial_schema.py",
        "hazards/schemas/contractor-batch.schema.json",
        "hazards/static/hazards_map.js",
        "hazards/static/leaflet/leaflet.js",
        "hazards/static/leaflet/images/layers.png",
        "hazards/py.typed",
    ):
        assert needed in names, needed
    outside = sorted(n for n in names if not n.startswith(("hazards/", "hazards-")))
    assert not outside, f"outside the package: {outside[:10]}"
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    top_level = next(n for n in names if n.endswith(".dist-info/top_level.txt"))
    with zipfile.ZipFile(wheel) as zf:
        assert zf.read(top_level).decode().split() == ["hazards"]


def test_an_editable_install_is_quiet_and_imports_from_the_checkout(tmp_path: Path) -> None:
    """`pip install -e .` (what `make test` and `make demo` run): no BuildBackendWarning (a flat
    layout without `package_dir` gets an import finder and a warning), and the installed
    package is the checkout's."""
    src, venv = tmp_path / "src", tmp_path / "venv"
    src.mkdir()
    _copy_source(src)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    _quiet_pip(str(python), "install", "-v", "--no-deps", "-e", str(src))
    where = subprocess.run(
        [str(python), "-c", "import hazards.vocabulary as v; print(v.__file__)"],
        capture_output=True, text=True, check=True, cwd=tmp_path,
    )  # fmt: skip
    assert Path(where.stdout.strip()) == src / "hazards" / "vocabulary.py"
