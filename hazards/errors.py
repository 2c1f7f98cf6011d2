"""The errors the library raises for things a user can fix.

Each carries a message for the user (what went wrong, where, and how to fix it) separately
from an optional ``detail`` for logs. They also subclass the matching built-in, so callers
that catch ``ValueError`` or ``FileNotFoundError`` keep working.

The library never names a command-line flag: an error about one argument gives the argument's
keyword in ``param`` (e.g. ``"budget"``) and the CLI adds the flag that sets it (``--budget``).
"""

from __future__ import annotations


class HazardsError(Exception):
    """Base of every error meant for the user; the CLI prints it and exits 1."""

    def __init__(
        self, message: str, *, detail: str | None = None, param: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail
        self.param = param

    def __str__(self) -> str:
        return self.message


class ConfigError(HazardsError, ValueError):
    """A setting or option has a value that cannot be used."""


class InputError(HazardsError, ValueError):
    """An input file or value is wrong (bad CRS, bad field, bad row...)."""


class InputFileNotFound(HazardsError, FileNotFoundError):
    """An input file does not exist or cannot be read."""


class DatabaseError(HazardsError, RuntimeError):
    """The database cannot be reached, started or used."""


class MissingSoftware(DatabaseError):
    """PostgreSQL or PostGIS binaries are not installed on this machine."""


class NotFound(HazardsError, LookupError):
    """A road, hazard, survey or batch that was asked for does not exist."""


class ConflictError(HazardsError, RuntimeError):
    """Someone else changed the record since it was read (optimistic locking)."""


class PermissionRefused(HazardsError, PermissionError):
    """The database refused the connected user (its role does not allow this; issue 19)."""


def connection_lost(exc: BaseException) -> str | None:
    """What to tell the user when ``exc`` (or what caused it) is psycopg's error for a
    connection the server ended or lost (an administrator's shutdown, a crash), with the
    server's first line; else None."""
    import psycopg

    seen: BaseException | None = exc
    for _ in range(5):  # the driver's error under SQLAlchemy's (``orig``) or as the cause
        if seen is None:
            return None
        if isinstance(seen, psycopg.OperationalError) and (
            isinstance(seen, psycopg.errors.AdminShutdown)
            or seen.sqlstate in ("57P01", "57P02", "57P03")
            or "server closed the connection" in str(seen)
            or "consuming input failed" in str(seen)
        ):
            said = (str(seen).strip().splitlines() or ["connection lost"])[0]
            return (
                f"The connection to the database was lost while the command ran ({said}): the "
                "server was stopped or restarted (`hazards db down`, a restart, a crash). What "
                "the command had not yet committed was not saved; run it again (`hazards db "
                "status` starts the embedded server)."
            )
        seen = getattr(seen, "orig", None) or seen.__cause__
    return None
