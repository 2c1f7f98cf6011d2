"""The README works as printed: every shell line, in order, against a fresh database, in a
clean git copy of the repository that is still clean afterwards (every output is ignored)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# The two commands that make `.venv` (and, for `make test`, run this very test): CI runs
# `make test` itself (.ci/run, tests/test_packaging.py), so they are the only lines not run here.
NOT_RUN_HERE = {"make demo", "make test"}
# Lines that set up the shell for the lines after them.
SETUP = (". ", "source ", "export ")


def readme() -> str:
    return (REPO / "README.md").read_text(encoding="utf-8")


def shell_lines() -> list[str]:
    """Every line of every ```sh block of the README, in order (comments and blanks left out)."""
    lines: list[str] = []
    for block in re.findall(r"```sh\n(.*?)```", readme(), re.S):
        for line in block.splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                lines.append(line.strip())
    return lines


def _command(line: str) -> str:
    """The line without its trailing comment (`  # ...`)."""
    return line.split("  #", 1)[0].strip()


def _clean_copy(work: Path) -> None:
    """A git repository holding what the README's lines read, with the project's .gitignore,
    all committed; `.venv/bin/activate` puts this Python's `hazards` on PATH."""
    work.mkdir()
    for name in ("README.md", ".gitignore"):
        shutil.copy2(REPO / name, work / name)
    shutil.copytree(
        REPO / "gis_data", work / "gis_data", ignore=shutil.ignore_patterns("*.rejected.*")
    )
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@example.org"]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "clean copy"]):
        subprocess.run([*git, *args], cwd=work, check=True, capture_output=True)
    venv_bin = work / ".venv" / "bin"
    venv_bin.mkdir(parents=True)
    (venv_bin / "activate").write_text(f'export PATH="{Path(sys.executable).parent}:$PATH"\n')


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_every_readme_shell_line_runs_in_order_and_leaves_the_checkout_clean(
    db_url: str, tmp_path: Path
) -> None:
    lines = shell_lines()
    assert len(lines) >= 30
    work = tmp_path / "repo"
    _clean_copy(work)
    env = {**os.environ, "HAZARDS_DATABASE_URL": db_url}
    setup: list[str] = []
    out: dict[str, str] = {}
    for line in lines:
        command = _command(line)
        if command in NOT_RUN_HERE:
            continue
        script = "\n".join(["set -euo pipefail", *setup, command])
        proc = subprocess.run(
            ["bash", "-c", script], cwd=work, env=env, capture_output=True, text=True, timeout=300
        )
        if command.startswith(SETUP):
            setup.append(command)
        if command == "hazards db down":
            # With HAZARDS_DATABASE_URL set (as here) there is no embedded server to stop.
            assert proc.returncode == 1 and "nothing to stop" in proc.stderr, proc.stderr
            continue
        assert proc.returncode == 0, f"`{command}` failed:\n{proc.stdout}\n{proc.stderr}"
        assert "Traceback" not in proc.stderr, proc.stderr
        assert not [ln for ln in proc.stderr.splitlines() if not ln.strip()], (
            f"`{command}` wrote an empty line on stderr: {proc.stderr!r}"
        )
        out[command] = proc.stdout

    status = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=work,
        capture_output=True,
        text=True,
        check=True,
    )
    assert status.stdout == "", f"the README's lines left files in the checkout:\n{status.stdout}"
    tour = work / "out" / "tour"
    for made in (
        "2025-1.geojson",
        "2025-1.xlsx",
        "overview.html",
        "road-Y005.html",
        "returned.csv",
        "recheck.csv",
        "township_survey.rejected.csv",
    ):
        assert (tour / made).is_file(), made

    # What the README says the tour gives.
    load = next(v for k, v in out.items() if k.startswith("hazards roads load"))
    # in the default language (zh); the README's comment says it in English
    assert "140 条路线 + 3 条无编码道路" in " ".join(load.split())
    measured = json.loads(
        next(v for k, v in out.items() if k.startswith("hazards chainage measure"))
    )
    assert measured["chainage"] == "K2+508" and measured["offset_m"] < 1
    batch = json.loads((tour / "2025-1.geojson").read_text(encoding="utf-8"))
    ids = [f["id"] for f in batch["features"]]
    text = readme()
    named = re.search(r"Batch 2025-1 holds (H\d+), (H\d+), (H\d+) and (\d+) more", text)
    assert named, "the README names the first hazards of batch 2025-1"
    assert list(named.groups()[:3]) == ids[:3] and int(named.group(4)) == len(ids) - 3
    history = out["hazards history H000014"]
    # the tour runs with the lang setting's default, zh: keys, values and titles in Chinese
    assert re.search(r"状态\s+已验收", history) and "处置记录 (5)" in history


def test_the_readme_shows_the_current_schema_revision() -> None:
    versions = REPO / "hazards" / "db" / "migrations" / "versions"
    head = max(p.name.split("_", 1)[0] for p in versions.glob("[0-9]*_*.py"))
    shown = re.findall(r'"schema_revision": "(\d+)"', readme())
    assert shown and set(shown) == {head}


@pytest.mark.skipif(not (REPO / ".git").exists(), reason="needs the git checkout")
def test_every_folder_the_readme_points_hazards_home_at_is_ignored() -> None:
    homes = set(re.findall(r"HAZARDS_HOME=(\S+)", readme()))
    assert ".hazards-tour" in homes
    for home in homes:
        proc = subprocess.run(
            ["git", "check-ignore", "-q", f"{home}/pgdata"], cwd=REPO, capture_output=True
        )
        assert proc.returncode == 0, f"{home}/ is not in .gitignore"
