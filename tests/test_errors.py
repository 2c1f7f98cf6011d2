"""User-facing errors: a message apart from the detail, the argument at fault, built-in bases."""

from __future__ import annotations

import pytest

from hazards.errors import (
    ConfigError,
    ConflictError,
    DatabaseError,
    HazardsError,
    InputError,
    InputFileNotFound,
    MissingSoftware,
    NotFound,
)


def test_message_detail_and_param() -> None:
    exc = InputError("The budget -5 is negative.", detail="select(): budget=-5", param="budget")
    assert str(exc) == exc.message == "The budget -5 is negative."
    assert exc.detail == "select(): budget=-5" and exc.param == "budget"
    assert InputError("x").param is None and InputError("x").detail is None


@pytest.mark.parametrize(
    ("cls", "builtin"),
    [
        (ConfigError, ValueError),
        (InputError, ValueError),
        (InputFileNotFound, FileNotFoundError),
        (DatabaseError, RuntimeError),
        (MissingSoftware, DatabaseError),
        (NotFound, LookupError),
        (ConflictError, RuntimeError),
    ],
)
def test_errors_are_also_builtins(cls: type[HazardsError], builtin: type[Exception]) -> None:
    with pytest.raises(builtin):
        raise cls("m")
    assert issubclass(cls, HazardsError)


def test_library_messages_name_no_flags() -> None:
    """Library code passes the argument in ``param``; a ``--flag`` in a message is the CLI's."""
    import re
    from pathlib import Path

    package = Path(__file__).resolve().parents[1] / "hazards"
    pattern = re.compile(r"(?:Error|NotFound)\(\s*f?[\"'][^\"']*(?<![\w-])--[a-z][\w-]*")
    offenders = []
    for path in sorted(package.rglob("*.py")):
        if "cli" in path.relative_to(package).parts:
            continue
        for match in pattern.finditer(path.read_text(encoding="utf-8")):
            offenders.append(f"{path.relative_to(package)}: {match.group(0)[:80]}")
    assert not offenders, "library messages naming a CLI flag:\n" + "\n".join(offenders)
