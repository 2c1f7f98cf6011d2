"""The README's tour works as pasted, in order, against a fresh database."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def tour_commands() -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("## A five-minute tour", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block, "the tour has no sh block"
    lines = [ln.split("  #", 1)[0].strip() for ln in block.group(1).splitlines()]
    return [ln for ln in lines if ln.startswith("hazards ")]


def test_the_readme_tour_runs(db_url: str, tmp_path: Path) -> None:
    commands = tour_commands()
    assert len(commands) >= 15
    (tmp_path / "gis_data").symlink_to(REPO / "gis_data")
    env = {**os.environ, "HAZARDS_DATABASE_URL": db_url}
    hazards = Path(sys.executable).parent / "hazards"
    for command in commands:
        args = shlex.split(command)
        proc = subprocess.run(
            [str(hazards), *args[1:]],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert proc.returncode == 0, f"`{command}` failed:\n{proc.stdout}\n{proc.stderr}"
        assert "Traceback" not in proc.stderr
    for made in ("2025-1.geojson", "2025-1.xlsx", "maps/overview.html", "maps/road-Y005.html"):
        assert (tmp_path / made).is_file(), made
