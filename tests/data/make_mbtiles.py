"""Write tests/data/tiny.mbtiles: a raster MBTiles file of the whole world at zooms 0-2 (21 tiles
of 256 x 256 px) for tests/test_basemaps.py (issue 21).

Run from the repository root: ``.venv/bin/python tests/data/make_mbtiles.py``. Each tile is a PNG
made with zlib alone: a fill colour from its (z, x, y), a dark 8 px border and a diagonal, so a
map showing the tiles is far from uniform grey. Rows are stored the MBTiles (TMS) way, counted
from the south; the tile's XYZ position is written in its metadata-free colour:
red = 60 + 60·x, green = 60 + 60·y, blue = 80·z.
"""

from __future__ import annotations

import sqlite3
import struct
import sys
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
SIZE = 256


def colour(z: int, x: int, y: int) -> tuple[int, int, int]:
    """The fill colour of the XYZ tile (z, x, y)."""
    return (60 + 60 * x, 60 + 60 * y, 80 * z)


def png(rgb: tuple[int, int, int]) -> bytes:
    """A 256 x 256 RGB PNG: ``rgb`` with a dark border and a diagonal."""
    rows = []
    for j in range(SIZE):
        row = bytearray()
        for i in range(SIZE):
            edge = i < 8 or j < 8 or i >= SIZE - 8 or j >= SIZE - 8 or abs(i - j) < 3
            row += bytes((30, 30, 30)) if edge else bytes(rgb)
        rows.append(b"\x00" + bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", SIZE, SIZE, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + chunk(b"IEND", b"")
    )


def write(path: Path, zooms: range = range(3)) -> Path:
    """Write the MBTiles file (replaced when it exists)."""
    path.unlink(missing_ok=True)
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
    con.execute(
        "CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, "
        "tile_data BLOB)"
    )
    meta = {"name": "tiny", "format": "png", "minzoom": "0", "maxzoom": str(zooms[-1])}
    meta["bounds"] = "-180,-85.0511,180,85.0511"
    con.executemany("INSERT INTO metadata VALUES (?, ?)", meta.items())
    for z in zooms:
        for x in range(1 << z):
            for y in range(1 << z):
                con.execute(
                    "INSERT INTO tiles VALUES (?, ?, ?, ?)",
                    (z, x, (1 << z) - 1 - y, png(colour(z, x, y))),
                )
    con.commit()
    con.close()
    return path


if __name__ == "__main__":
    print(write(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "tiny.mbtiles"))
