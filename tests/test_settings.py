"""Settings: precedence, validation, and that every setting is documented."""

from __future__ import annotations

from pathlib import Path

import pytest

from hazards.errors import ConfigError
from hazards.settings import TABLES, Settings, load_settings

REPO = Path(__file__).resolve().parents[1]


def test_defaults() -> None:
    s = load_settings(env={}, config_file=Path("/nonexistent.toml"))
    assert s.database_url is None
    assert s.home == Path(".hazards")
    assert s.start_timeout == 60.0


def test_environment_beats_file_beats_default(tmp_path: Path) -> None:
    cfg = tmp_path / "hazards.toml"
    cfg.write_text('home = "/srv/h"\nstart_timeout = 5\nadmin_code = "430981"\n', encoding="utf-8")
    s = load_settings(env={"HAZARDS_START_TIMEOUT": "7.5"}, config_file=cfg)
    assert s.home == Path("/srv/h")
    assert s.start_timeout == 7.5
    assert s.admin_code == "430981"


def test_bad_value_names_the_setting() -> None:
    with pytest.raises(ConfigError, match="HAZARDS_START_TIMEOUT"):
        load_settings(env={"HAZARDS_START_TIMEOUT": "soon"}, config_file=Path("/none"))


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"HAZARDS_DUPLICATE_M": "-1"}, "duplicate_m"),  # every repeat a new hazard
        ({"HAZARDS_MATCH_ACCEPT_M": "-5"}, "match_accept_m"),  # every point to review
        ({"HAZARDS_MATCH_ACCEPT_M": "80"}, "match_accept_m"),  # accepted beyond review
        ({"HAZARDS_CRASH_SNAP_M": "nan"}, "crash_snap_m"),
        ({"HAZARDS_MATCH_CONFLICT_RATIO": "0.5"}, "match_conflict_ratio"),
        ({"HAZARDS_MATCH_ACCEPT_M": ""}, "match_accept_m"),  # set and empty: no number
        ({"HAZARDS_DUPLICATE_M": ""}, "duplicate_m"),
    ],
)
def test_a_number_that_cannot_be_is_refused(env: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError, match=f"'{named}'.*HAZARDS_{named.upper()}"):
        load_settings(env=env, config_file=Path("/none"))
    assert (
        load_settings(env={"HAZARDS_DUPLICATE_M": "0"}, config_file=Path("/none")).duplicate_m == 0
    )


def test_a_number_in_the_settings_file_is_checked_alike(tmp_path: Path) -> None:
    (tmp_path / "there.toml").write_text("duplicate_m = -1\n")
    with pytest.raises(ConfigError, match="duplicate_m.*hazards.toml"):
        load_settings(env={"HAZARDS_CONFIG": str(tmp_path / "there.toml")})


def test_unknown_setting_in_file_is_refused(tmp_path: Path) -> None:
    cfg = tmp_path / "hazards.toml"
    cfg.write_text("hoem = 'x'\n")
    with pytest.raises(ConfigError, match="hoem"):
        load_settings(env={}, config_file=cfg)
    # a table nothing reads is refused too (a user would think it did something)
    cfg.write_text("[planning]\nbudget = 3000000\n")
    with pytest.raises(ConfigError, match=r"planning.*\[scoring\], \[costs\], \[class_map\]"):
        load_settings(env={}, config_file=cfg)
    cfg.write_text("[scoring]\n[costs]\n[class_map]\n")
    assert load_settings(env={}, config_file=cfg) == load_settings(env={}, config_file=Path("/x"))


def test_every_table_read_is_documented() -> None:
    doc = (REPO / "docs" / "configuration.md").read_text(encoding="utf-8")
    for table in TABLES:
        assert f"[{table}]" in doc, f"[{table}] is not in docs/configuration.md"


def test_every_setting_is_documented() -> None:
    doc = (REPO / "docs" / "configuration.md").read_text(encoding="utf-8")
    for f in Settings.fields():
        assert f"`{f.name}`" in doc, f"setting {f.name} is not in docs/configuration.md"
        assert f"`HAZARDS_{f.name.upper()}`" in doc
        assert f.metadata.get("help"), f"setting {f.name} has no help"


def test_an_unreadable_settings_file_is_a_clear_error(tmp_path: Path) -> None:
    cfg = tmp_path / "hazards.toml"
    cfg.write_text("home = 'x'\n")
    cfg.chmod(0)
    import os

    if os.geteuid() == 0:  # root reads anything: make the folder untraversable for a real check
        pytest.skip("root can read any file")
    with pytest.raises(ConfigError, match="cannot be read"):
        load_settings(env={}, config_file=cfg)


def test_a_settings_file_that_is_not_toml(tmp_path: Path) -> None:
    cfg = tmp_path / "hazards.toml"
    cfg.write_text("home = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(env={}, config_file=cfg)


def test_an_unquoted_chinese_key_is_told_how_to_write(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """[costs.急弯] is not TOML (a bare key is ASCII): the error says to quote it."""
    from hazards.settings import config_table

    cfg = tmp_path / "hazards.toml"
    cfg.write_text("[costs.急弯]\nunit_cost_cny = 240\n", encoding="utf-8")
    monkeypatch.setenv("HAZARDS_CONFIG", str(cfg))
    with pytest.raises(ConfigError, match=r'must be quoted: \[costs."急弯"\]'):
        config_table("costs")
    cfg.write_text('[costs."急弯"]\nunit_cost_cny = 240\n', encoding="utf-8")
    assert config_table("costs") == {"急弯": {"unit_cost_cny": 240}}


def test_a_settings_file_named_that_is_not_there_is_refused(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """HAZARDS_CONFIG mistyped: refused, naming the path and the fix, rather than every setting
    left at its default without a word; by the CLI too, without a traceback."""
    from click.testing import CliRunner

    from hazards.cli import cli
    from hazards.settings import config_table, get_settings

    typo = tmp_path / "hazard.toml"
    (tmp_path / "hazards.toml").write_text('admin_code = "430981"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"HAZARDS_CONFIG names '{typo}', which does not exist"):
        load_settings(env={"HAZARDS_CONFIG": str(typo)})
    with pytest.raises(ConfigError, match="which is a folder"):
        load_settings(env={"HAZARDS_CONFIG": str(tmp_path)})
    with pytest.raises(ConfigError, match="does not exist"):
        config_table("costs", env={"HAZARDS_CONFIG": str(typo)})
    # named and there: read; not named: ./hazards.toml when there is one, else the defaults
    named = load_settings(env={"HAZARDS_CONFIG": str(tmp_path / "hazards.toml")})
    assert named.admin_code == "430981"
    monkeypatch.chdir(tmp_path)
    assert load_settings(env={}).admin_code == "430981"
    assert load_settings(env={"HAZARDS_CONFIG": ""}).admin_code == "430981"  # set to nothing
    (tmp_path / "hazards.toml").unlink()
    assert load_settings(env={}).admin_code == ""

    monkeypatch.setenv("HAZARDS_CONFIG", str(typo))
    get_settings.cache_clear()
    out = CliRunner().invoke(cli, ["roads", "summary"])
    assert out.exit_code == 1 and "Traceback" not in out.output, out.output
    assert out.exception is None or isinstance(out.exception, SystemExit), out.exception
    assert f"HAZARDS_CONFIG names '{typo}', which does not exist" in out.output
