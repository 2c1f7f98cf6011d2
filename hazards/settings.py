"""One typed settings object, read from ``HAZARDS_*`` variables and an optional ``hazards.toml``.

Every setting is declared once below with its default and its help text; ``docs/configuration.md``
documents each one (a test checks that). Precedence: environment variable, then the TOML file
(``HAZARDS_CONFIG`` or ``./hazards.toml``), then the default.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hazards.errors import ConfigError, InputError

ENV_PREFIX = "HAZARDS_"


def _setting(default: Any, help: str) -> Any:
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class Settings:
    """The tool's settings. Build with :func:`get_settings` (cached) or :func:`load_settings`."""

    database_url: str | None = _setting(
        None,
        "PostgreSQL + PostGIS to use, e.g. postgresql://user:pass@host:5432/db. "
        "Unset: the embedded cluster under `home` is started and used.",
    )
    home: Path = _setting(
        Path(".hazards"),
        "Folder for the embedded PostgreSQL cluster and its connection details.",
    )
    pg_bin: Path | None = _setting(
        None,
        "Folder holding PostgreSQL server binaries (initdb, pg_ctl, postgres) for the "
        "embedded cluster. Unset: searched in the conda environment, PATH and "
        "/usr/lib/postgresql/*/bin.",
    )
    pg_user: str | None = _setting(
        None,
        "System user that runs the embedded server when the tool runs as root. "
        "Unset: `postgres` if it exists, else a `hazards` system user is created.",
    )
    start_timeout: float = _setting(60.0, "Seconds to wait for the embedded server to start.")
    working_crs: str | None = _setting(
        None,
        "Working metric CRS for lengths and chainage (e.g. EPSG:4545). Unset: chosen from "
        "the first road data loaded (its UTM zone, or CGCS2000 3-degree Gauss-Krüger zone).",
    )
    max_gap_m: float = _setting(
        2000.0,
        "Longest gap (m) between two pieces of one route that is bridged by a straight line, "
        "its chainage running on across it. Pieces farther apart are separate sections of "
        "the route, each with its own chainage from K0+000.",
    )
    match_accept_m: float = _setting(
        15.0,
        "Survey points this close (m) to their route (or, without a route code, to the "
        "nearest road) are accepted.",
    )
    match_review_m: float = _setting(
        50.0,
        "Survey points farther than match_accept_m but within this (m) go to review; "
        "farther ones are rejected.",
    )
    match_outside_m: float = _setting(
        2000.0,
        "Survey points farther than this (m) from every road are rejected as outside the network.",
    )
    match_conflict_ratio: float = _setting(
        3.0,
        "A point whose stated route is this many times farther than another route (and "
        "match_conflict_min_m farther) goes to review as a conflict, when it is within "
        "match_review_m of that other route.",
    )
    match_conflict_min_m: float = _setting(
        5.0, "Minimum difference (m) between the stated route and a nearer route for a conflict."
    )
    chainage_review_m: float = _setting(
        50.0,
        "When a row has both coordinates and a chainage, a difference larger than this (m) "
        "between the stated and the measured chainage sends it to review.",
    )
    duplicate_m: float = _setting(
        5.0,
        "Rows of the same category on the same route within this distance (m) of each "
        "other are one hazard (in one file, and against hazards already known).",
    )
    crash_snap_m: float = _setting(
        30.0,
        "Crashes this close (m) to a road are attached to the nearest route; farther ones are "
        "kept unattached and listed.",
    )
    junction_m: float = _setting(
        20.0,
        "Crashes this close (m) to a junction node (three or more approaches) are junction "
        "crashes, counted once at the node.",
    )
    admin_code: str = _setting(
        "",
        "Administrative (county) code stored on the big tables, for running several counties "
        "in one database.",
    )
    lang: str = _setting(
        "zh",
        "Language of the contractor's work list, the maps and the terminal tables: zh "
        "(Chinese, amounts in 万元) or en (English, amounts in CNY).",
    )
    tier_one_reach_m: float = _setting(
        500.0,
        "Progress counts the km of road within this distance (m, along the route, either "
        "side) of an open tier I hazard.",
    )
    tianditu_key: str = _setting(
        "",
        "Key (tk) of the 天地图 (Tianditu) tile service for map basemaps (`--tiles tianditu`); "
        "apply at console.tianditu.gov.cn.",
    )

    @classmethod
    def fields(cls) -> list[dataclasses.Field[Any]]:
        return list(dataclasses.fields(cls))


def _convert(name: str, raw: Any, annotation: str) -> Any:
    if raw is None or raw == "":
        return None if "None" in annotation else raw
    try:
        if "Path" in annotation:
            return Path(str(raw)).expanduser()
        if "float" in annotation:
            return float(raw)
        if "int" in annotation:
            return int(raw)
        return str(raw)
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"Setting {name!r} has the value {raw!r}, which is not a valid {annotation}. "
            f"Fix {ENV_PREFIX}{name.upper()} or {name} in hazards.toml."
        ) from exc


def _read_toml(path: Path) -> dict[str, Any] | None:
    """The TOML file's content, None when there is no such file; a clear error otherwise."""
    try:
        if not path.is_file():
            return None
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        hint = (
            ' A key in Chinese (or with spaces) must be quoted: [costs."急弯"], "乡道" = "township".'
            if "Invalid initial character for a key part" in str(exc)
            else ""
        )
        raise ConfigError(
            f"{path}: not valid TOML ({exc}).{hint} Fix the file or remove it."
        ) from exc
    except OSError as exc:
        raise ConfigError(
            f"{path}: the settings file cannot be read ({exc.strerror}). Fix its permissions, or "
            "point HAZARDS_CONFIG at a readable file."
        ) from exc


def config_path(env: dict[str, str]) -> Path:
    """The settings file to read: the one ``HAZARDS_CONFIG`` names, which must exist (a path
    mistyped there would otherwise leave every setting at its default without a word), else
    ``./hazards.toml`` when there is one (also when it is set empty)."""
    named = env.get(f"{ENV_PREFIX}CONFIG", "").strip()
    if not named:  # unset, or set to nothing
        return Path("hazards.toml")
    path = Path(named)
    if not path.is_file():
        what = "is a folder" if path.is_dir() else "does not exist"
        raise ConfigError(
            f"{ENV_PREFIX}CONFIG names {named!r}, which {what}. Point it at your settings file "
            f"(TOML, e.g. hazards.toml), or unset it to read ./hazards.toml when there is one."
        )
    return path


TABLES = ("scoring", "costs", "class_map")
"""The tables of ``hazards.toml`` read besides the settings (:func:`config_table`)."""


def load_settings(
    *, env: dict[str, str] | None = None, config_file: Path | None = None
) -> Settings:
    """Build settings from the environment and the TOML file (uncached)."""
    env = dict(os.environ) if env is None else env
    path = config_file or config_path(env)
    file_values = _read_toml(path) or {}
    if file_values:
        known = {f.name for f in Settings.fields()}
        unknown = sorted(set(file_values) - known - set(TABLES))
        if unknown:
            raise ConfigError(
                f"{path}: unknown setting(s) {', '.join(unknown)}. "
                f"Known settings: {', '.join(sorted(known))}; tables: "
                f"{', '.join(f'[{t}]' for t in TABLES)}."
            )
    values: dict[str, Any] = {}
    for f in Settings.fields():
        env_name = f"{ENV_PREFIX}{f.name.upper()}"
        if env_name in env:
            values[f.name] = _convert(f.name, env[env_name], str(f.type))
        elif f.name in file_values:
            values[f.name] = _convert(f.name, file_values[f.name], str(f.type))
    return _checked(Settings(**values))


def _checked(settings: Settings) -> Settings:
    """``settings``, its numbers checked: every one is a distance, a time or a ratio, so a
    finite number of at least 0 (a ratio at least 1); a survey point accepted must also be
    within review (``match_accept_m`` ≤ ``match_review_m``). A minus sign typed by mistake
    (``duplicate_m = -1``) would otherwise take every repeat for a new hazard."""

    def refuse(name: str, why: str) -> ConfigError:
        value = getattr(settings, name)
        return ConfigError(
            f"Setting {name!r} has the value {value!r}: {why}. Fix "
            f"{ENV_PREFIX}{name.upper()} or {name} in hazards.toml."
        )

    for f in Settings.fields():
        value = getattr(settings, f.name)
        if "float" not in str(f.type) or (value is None and "None" in str(f.type)):
            continue
        if not isinstance(value, (int, float)) or not (math.isfinite(value) and value >= 0):
            raise refuse(f.name, "it must be a number of at least 0")  # "", -1, nan
    if settings.match_conflict_ratio < 1:
        raise refuse("match_conflict_ratio", "a route so many times farther must be at least 1")
    if settings.match_accept_m > settings.match_review_m:
        raise refuse(
            "match_accept_m",
            f"it is more than match_review_m ({settings.match_review_m:g} m), the distance up "
            "to which points go to review",
        )
    return settings


def config_table(name: str, *, env: dict[str, str] | None = None) -> dict[str, Any]:
    """A table of ``hazards.toml`` (one of :data:`TABLES`), or {} when absent."""
    if name not in TABLES:
        raise ValueError(f"[{name}] is not a table of hazards.toml ({', '.join(TABLES)})")
    env = dict(os.environ) if env is None else env
    path = config_path(env)
    data = _read_toml(path) or {}
    table = data.get(name, {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [{name}] must be a table.")
    return table


LANGS = ("zh", "en")
"""The languages of contractor files and table amounts (the ``lang`` setting)."""


def language(lang: str | None = None) -> str:
    """``lang`` when given (checked), else the ``lang`` setting: ``zh`` or ``en``."""
    if lang is not None:
        if lang not in LANGS:
            raise InputError(f"The language {lang!r} is not zh or en; give one.", param="lang")
        return lang
    value = get_settings().lang
    if value not in LANGS:
        raise ConfigError(
            f"Setting 'lang' has the value {value!r}; use zh or en. Fix {ENV_PREFIX}LANG or "
            "lang in hazards.toml."
        )
    return value


def county(admin_code: str | None = None) -> str:
    """``admin_code`` when given, else the ``admin_code`` setting: the county whose rows a
    command writes and reads (roads, their segments and aliases, surveys, hazards, crashes,
    plans and batches).
    The store's functions take it from here when not told, so every command of one process
    works on one county."""
    return get_settings().admin_code if admin_code is None else admin_code


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process (cached; call ``get_settings.cache_clear()`` after changes)."""
    return load_settings()
