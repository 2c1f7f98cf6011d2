"""The benchmark's report: growth exponents, the machine it ran on, and the Markdown table."""

from __future__ import annotations

import contextlib
import math
import os
import platform
from pathlib import Path
from typing import Any

import numpy as np

from bench.data import SIZES


def exponents(steps: list[dict[str, Any]]) -> tuple[dict[str, float], dict[str, float]]:
    """Per step: k of time ∝ segments^k fitted on log-log over the sizes run (S/M/L; T too when
    alone), and the two-point k from M to L."""
    order = ["T", "S", "M", "L"]
    fit: dict[str, float] = {}
    ml: dict[str, float] = {}
    by: dict[str, dict[str, float]] = {}
    for s in steps:
        if s["step"].startswith("startup_"):  # a command's start does not grow with the data
            continue
        if s["seconds"] and s["seconds"] > 0:
            by.setdefault(s["step"], {})[s["size"]] = s["seconds"]
    for step, times in by.items():
        sizes = [z for z in order if z in times]
        if len(sizes) > 1 and "T" in sizes and any(z != "T" for z in sizes):
            sizes = [z for z in sizes if z != "T"]
        if len(sizes) >= 2:
            x = np.log([SIZES[z][0] for z in sizes])
            y = np.log([times[z] for z in sizes])
            fit[step] = round(float(np.polyfit(x, y, 1)[0]), 3)
        if "M" in times and "L" in times:
            ml[step] = round(math.log(times["L"] / times["M"]) / math.log(10), 3)
    return fit, ml


def machine_info(admin_url: str | None, *, memory_method: str) -> dict[str, Any]:
    """CPU, memory, Python, PostgreSQL and the geo libraries' versions."""
    import geopandas
    import pyogrio
    import shapely

    from bench.floors import server_version

    info: dict[str, Any] = {
        "hostname": platform.node(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "shapely": shapely.__version__,
        "geos": shapely.geos_version_string,
        "geopandas": geopandas.__version__,
        "pyogrio": pyogrio.__version__,
        "gdal": pyogrio.__gdal_version_string__,
        "memory_method": memory_method,
    }
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                info["mem_gb"] = round(int(line.split()[1]) / 1024 / 1024, 1)
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    try:
        import pyarrow

        info["pyarrow"] = pyarrow.__version__
    except ImportError:
        info["pyarrow"] = None
    if admin_url:
        with contextlib.suppress(Exception):
            info["postgresql"] = server_version(admin_url)
    return info


def _num(v: Any) -> str:
    return "" if v is None else f"{v:.2f}"


def markdown(result: dict[str, Any]) -> str:
    """The run as a Markdown page: machine, one row per step and size, the exponents, notes."""
    lines = [f"# hazards bench — {result['started']}", ""]
    m = result["machine"]
    lines.append(
        f"Machine: {m.get('cpu', '?')}, {m.get('cpus')} cores, {m.get('mem_gb', '?')} GB; "
        f"Python {m['python']}, PostgreSQL {m.get('postgresql', '?')}, shapely {m['shapely']} "
        f"(GEOS {m['geos']}), GDAL {m['gdal']}, pyarrow {m.get('pyarrow')}. Peak memory: "
        f"{m['memory_method']}."
    )
    lines += [
        "",
        "| step | size | n | seconds | floor s | ratio | peak MB | notes |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for s in result["steps"]:
        extra = {
            k: v
            for k, v in s.items()
            if k not in ("step", "size", "seconds", "floor_seconds", "ratio", "peak_mb", "n")
        }
        lines.append(
            f"| {s['step']} | {s['size']} | {s.get('n', '')} | {s['seconds']:.2f} | "
            f"{_num(s['floor_seconds'])} | {_num(s['ratio'])} | {s['peak_mb']:.0f} | "
            f"{', '.join(f'{k}={v}' for k, v in extra.items())} |"
        )
    lines += [
        "",
        "Growth exponent k (time ∝ segments^k): fitted over the sizes run, and M→L.",
        "",
        "| step | k (fit) | k (M→L) |",
        "| --- | ---: | ---: |",
    ]
    for step, k in result["exponents"].items():
        lines.append(f"| {step} | {k:.2f} | {result['exponents_ml'].get(step, '')} |")
    if result["notes"]:
        lines += ["", "Notes:", ""] + [f"- {n}" for n in result["notes"]]
    return "\n".join(lines) + "\n"
