"""Rows in PostgreSQL's COPY formats: a binary COPY fed with the driver's C-accelerated
``write_row``, JSON and geometry given as text (:func:`binary_copy`: the road load's routes,
the survey import's hazards, whose points are hex EWKB, :func:`point_hex`), and the road
load's segments as binary rows built with array operations."""

from __future__ import annotations

import functools
import struct
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely

if TYPE_CHECKING:
    import pandas as pd
    import psycopg
    from psycopg import Copy
    from pyproj import Transformer

BINARY_HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00" * 8
"""The start of PostgreSQL's binary COPY data: its signature, no flags, no header extension."""
BINARY_TRAILER = b"\xff\xff"
"""The end of binary COPY data (a field count of -1)."""
_POINT_4326 = struct.pack("<BII", 1, 0x20000001, 4326).hex()  # little-endian Point, with SRID
_XY = struct.Struct("<dd").pack


def point_hex(lon: float, lat: float) -> str:
    """A lon/lat point as a text ``COPY`` (or a cast) gives it to a ``geometry`` column: hex
    EWKB, SRID 4326, the floats' own bits. PostGIS reads it faster than EWKT (2.5 µs a row
    less at 200,000 hazards), and it is made faster than EWKT's two float reprs."""
    return _POINT_4326 + _XY(lon, lat).hex()


@contextmanager
def binary_copy(
    cur: psycopg.Cursor[Any], table: str, columns: Sequence[str], *, writer: Any = None
) -> Iterator[Copy]:
    """A binary ``COPY`` into ``table``'s ``columns``, its rows written with ``write_row``: each
    value of the Python type of its column (``str`` for text, ``int`` for integers, ``float``
    for floating point, ``bool``, None for NULL; int4 values must fit, as the driver's binary
    dumper does not check), JSON columns as JSON text and geometry columns as hex EWKB
    (:func:`point_hex`) or EWKB bytes. The columns' types are read from the catalog;
    ``writer``: the driver's COPY writer (default: its own). Against the text format, at
    200,000 survey hazards: 0.4-0.6 s against 0.9-1.2 s to encode the rows, 1.2-1.6 s against
    1.9-2.2 s of the server's time."""
    from psycopg import sql

    cur.execute(
        "SELECT a.attname, a.atttypid::int, t.typname FROM pg_attribute a "
        "JOIN pg_type t ON t.oid = a.atttypid WHERE a.attrelid = %s::regclass "
        "AND a.attnum > 0 AND NOT a.attisdropped AND a.attname = ANY(%s)",
        (table, list(columns)),
    )
    found = {name: (oid, kind) for name, oid, kind in cur.fetchall()}
    missing = [c for c in columns if c not in found]
    if missing:
        raise ValueError(f"not columns of {table}: {missing}")
    encoding = cur.connection.info.encoding  # the text in JSON is converted from it, as text is
    for oid, kind in set(found.values()):
        if kind in ("json", "jsonb", "geometry"):
            cur.adapters.register_dumper(None, _raw_dumper(kind, oid, encoding))
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
        sql.SQL(table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    with cur.copy(statement, writer=writer) as copy:
        copy.set_types([found[c][0] for c in columns])
        yield copy


@functools.cache
def _raw_dumper(kind: str, oid: int, encoding: str) -> type:
    """The binary dumper :func:`binary_copy` gives a column of type ``kind`` (``oid``): JSON
    text as it is (jsonb's binary form: a version byte, 1, then the text), geometry's hex EWKB
    as its bytes. Made once each (the driver keeps every dumper class it is given)."""
    from psycopg.adapt import Dumper
    from psycopg.pq import Format

    def json_text(self: Any, obj: str) -> bytes:
        return prefix + obj.encode(encoding)

    def ewkb(self: Any, obj: str | bytes) -> bytes:
        return bytes.fromhex(obj) if isinstance(obj, str) else obj

    prefix = b"\x01" if kind == "jsonb" else b""
    dump = ewkb if kind == "geometry" else json_text
    return type(f"Raw_{kind}", (Dumper,), {"oid": oid, "format": Format.BINARY, "dump": dump})


COPY_CHUNK = 5_000
"""Segments encoded at a time: small enough for the server to insert one while the next is
encoded, large enough that the per-chunk array work stays negligible."""


SEGMENT_COLUMNS: dict[str, Any] = {
    "township": None,
    "aadt": np.nan,
    "seq": 0,
    "part": 0,
    "section": 0,
    "from_m": 0.0,
    "to_m": 0.0,
    "length_m": 0.0,
    "row": 0,
}
"""The segment columns stored (with the value of one a frame lacks)."""


def segment_copy_sql(table: str = "road_segments", *, ids: bool = False) -> str:
    """The binary ``COPY`` of segments that :func:`segment_copy_rows` writes the rows of (with
    ``ids``: each row's id given, not drawn by the column's default)."""
    return (
        f"COPY {table} ({'id, ' if ids else ''}admin_code, road_id, seq, part, section, from_m, "
        "to_m, length_m, source_row, source_file, geom, township, aadt) "
        "FROM STDIN WITH (FORMAT BINARY)"
    )


def segment_tails(township: np.ndarray, aadt: np.ndarray) -> np.ndarray:
    """Each segment's binary COPY row end: its township and its AADT (:func:`segment_copy_rows`),
    encoded once per distinct pair."""
    import struct

    import pandas as pd

    t_labels, t_uniques = pd.factorize(pd.Series(township, dtype=object))
    v_labels, v_uniques = pd.factorize(aadt.astype(float))  # NaN (no AADT): label -1
    town_field = [copy_field(text_or_none(u)) for u in t_uniques] + [copy_field(None)]
    aadt_field = [b"\x00\x00\x00\x08" + struct.pack(">d", v) for v in v_uniques]
    labels, pairs = pd.factorize((t_labels + 1) * (len(v_uniques) + 1) + (v_labels + 1))
    tail = np.array(
        [
            town_field[p // (len(v_uniques) + 1) - 1]
            + (
                aadt_field[p % (len(v_uniques) + 1) - 1]
                if p % (len(v_uniques) + 1)
                else b"\xff" * 4
            )
            for p in pairs.tolist()
        ],
        dtype=object,
    )
    return tail[labels]


def segment_copy_rows(
    segments: dict[str, np.ndarray],
    tails: np.ndarray,
    geoms: np.ndarray,
    road_id: np.ndarray,
    *,
    admin_code: str,
    source: str,
    to_lonlat: Transformer | None = None,
    ids: np.ndarray | None = None,
) -> bytes:
    """Segments (columns of :data:`SEGMENT_COLUMNS`, 2D LineStrings) as rows of PostgreSQL's
    binary COPY format (:func:`segment_copy_sql`), built with array operations.

    A row is: the field count and the fixed-size fields as one big-endian record, ending with
    the line's WKB header; the line's coordinates; then its tail (:func:`segment_tails`: the
    township and the AADT). The WKB has no SRID: the column's type (``geometry(LineString,
    4326)``) gives it its SRID as PostGIS reads it. ``to_lonlat``: the lines are in another
    CRS, and their coordinates are transformed with it, all at once; the WKB is made from the
    coordinates themselves, without a geometry (and a WKB) made for every line on the way.
    ``ids``: each segment's id (else the column's default draws them, one call per row).
    """
    n = len(geoms)
    if n and ((shapely.get_type_id(geoms) != 1).any() or shapely.has_z(geoms).any()):
        raise ValueError("segments must be 2D LineStrings")
    xy, index = shapely.get_coordinates(geoms, return_index=True)
    if to_lonlat is not None:
        lon, lat = to_lonlat.transform(xy[:, 0], xy[:, 1])
        xy = np.empty((len(lon), 2), dtype="<f8")
        xy[:, 0] = lon
        xy[:, 1] = lat
    points = np.bincount(index, minlength=n)
    ends = np.cumsum(points) * 16
    admin = admin_code.encode()
    src = source.encode()
    rec = np.empty(
        n,
        dtype=np.dtype(
            [
                ("fields", ">i2"),
                *([("lid", ">i4"), ("id", ">i8")] if ids is not None else []),
                ("la", ">i4"),
                *([("a", f"S{len(admin)}")] if admin else []),
                ("l1", ">i4"),
                ("road_id", ">i4"),
                ("l2", ">i4"),
                ("seq", ">i4"),
                ("l3", ">i4"),
                ("part", ">i4"),
                ("l3s", ">i4"),
                ("section", ">i4"),
                ("l4", ">i4"),
                ("from_m", ">f8"),
                ("l5", ">i4"),
                ("to_m", ">f8"),
                ("l6", ">i4"),
                ("length_m", ">f8"),
                ("l7", ">i4"),
                ("row", ">i4"),
                ("ls", ">i4"),
                *([("s", f"S{len(src)}")] if src else []),
                ("lg", ">i4"),
                # the WKB's header: little-endian, a LineString (2), its points
                ("wkb_order", "u1"),
                ("wkb_type", "<u4"),
                ("wkb_points", "<u4"),
            ]
        ),
    )
    rec["fields"] = 13 if ids is None else 14
    if ids is not None:
        rec["lid"] = 8
        rec["id"] = ids
    rec["la"] = len(admin)
    if admin:
        rec["a"] = admin
    for k in ("l1", "l2", "l3", "l3s", "l7"):
        rec[k] = 4
    for k in ("l4", "l5", "l6"):
        rec[k] = 8
    rec["road_id"] = road_id
    for k in ("seq", "part", "section", "from_m", "to_m", "length_m", "row"):
        rec[k] = segments[k]
    rec["ls"] = len(src)
    if src:
        rec["s"] = src
    rec["lg"] = 9 + 16 * points
    rec["wkb_order"] = 1
    rec["wkb_type"] = 2
    rec["wkb_points"] = points
    coords = np.ascontiguousarray(xy, dtype="<f8").tobytes()  # each line's WKB points, in turn
    rows: list[Any] = [None] * (3 * n)
    rows[0::3] = rec.view(f"V{rec.dtype.itemsize}").tolist()
    rows[1::3] = map(coords.__getitem__, map(slice, (ends - 16 * points).tolist(), ends.tolist()))
    rows[2::3] = tails.tolist()
    return b"".join(rows)


def copy_field(value: str | None) -> bytes:
    """One text field of a binary COPY row: its length, then its UTF-8 bytes (null: -1)."""
    if value is None:
        return b"\xff\xff\xff\xff"
    data = value.encode()
    return len(data).to_bytes(4, "big") + data


def text_or_none(v: Any) -> str | None:
    """``v`` as text; ``None`` for a missing value (``None`` or NaN)."""
    return None if v is None or (isinstance(v, float) and v != v) else str(v)


ROAD_COPY_COLUMNS = (
    "admin_code", "route_code", "name", "road_class", "township", "length_m", "end_m", "gap_m",
    "parts", "has_gap", "has_branch", "unassigned", "source", "checksum", "class_raw", "sections",
)  # fmt: skip
"""The columns of ``roads`` that :func:`road_copy_rows` gives, in their order."""


def road_copy_rows(
    roads: pd.DataFrame,
    codes: list[str],
    *,
    admin_code: str,
    source: str,
    ids: list[int] | None = None,
) -> Iterator[tuple[Any, ...]]:
    """The rows of ``COPY roads`` (:data:`ROAD_COPY_COLUMNS`), one per route of ``roads``
    (``codes``: their codes as text); with ``ids``, each row starts with its route's id
    (``COPY roads (id, admin_code, ...)``)."""
    n = len(roads)
    return zip(
        *([ids] if ids is not None else []),
        [admin_code] * n,
        codes,
        map(text_or_none, roads["name"].to_numpy(dtype=object)),
        map(str, roads["road_class"].to_numpy(dtype=object)),
        map(text_or_none, roads["township"].to_numpy(dtype=object)),
        roads["length_m"].to_numpy(float).tolist(),
        roads["end_m"].to_numpy(float).tolist(),
        roads["gap_m"].to_numpy(float).tolist(),
        roads["parts"].to_numpy(int).tolist(),
        roads["has_gap"].to_numpy(bool).tolist(),
        roads["has_branch"].to_numpy(bool).tolist(),
        roads["unassigned"].to_numpy(bool).tolist(),
        [source] * n,
        map(str, roads["checksum"].to_numpy(dtype=object)),
        map(
            text_or_none,
            roads["class_raw"].to_numpy(dtype=object) if "class_raw" in roads else [None] * n,
        ),
        roads["sections"].to_numpy(int).tolist() if "sections" in roads else [1] * n,
        strict=True,
    )
