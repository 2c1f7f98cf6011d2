"""Write tests/data/tiny.pmtiles: the 21 raster tiles of tests/data/tiny.mbtiles (whole world,
zooms 0-2, PNG) as a PMTiles v3 archive, for tests/test_basemaps.py (issue 21).

Run from the repository root: ``.venv/bin/python tests/data/make_pmtiles.py``. The tiles are
read from the MBTiles file (rows flipped from TMS to XYZ) and written with the writer of
Protomaps' ``pmtiles`` package in tile-id order; the PNG bytes are not changed, so the tests can
compare the unpacked tiles with the MBTiles file's byte for byte.
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

from pmtiles.tile import Compression, TileType, zxy_to_tileid
from pmtiles.writer import write as pmtiles_writer

HERE = Path(__file__).resolve().parent


def tiles(mbtiles: Path) -> dict[tuple[int, int, int], bytes]:
    """The MBTiles file's tiles by XYZ position (z, x, y)."""
    with sqlite3.connect(mbtiles) as con:
        rows = con.execute("SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles")
        return {(z, x, (1 << z) - 1 - row): bytes(data) for z, x, row, data in rows}


def write(path: Path, mbtiles: Path = HERE / "tiny.mbtiles") -> Path:
    """Write the PMTiles archive (replaced when it exists)."""
    found = tiles(mbtiles)
    with pmtiles_writer(str(path)) as w:
        for zxy in sorted(found, key=lambda k: zxy_to_tileid(*k)):
            w.write_tile(zxy_to_tileid(*zxy), found[zxy])
        w.finalize(
            {
                "tile_type": TileType.PNG,
                "tile_compression": Compression.NONE,
                "min_zoom": 0,
                "max_zoom": 2,
                "min_lon_e7": -1800000000,
                "min_lat_e7": -850511000,
                "max_lon_e7": 1800000000,
                "max_lat_e7": 850511000,
                "center_zoom": 0,
                "center_lon_e7": 0,
                "center_lat_e7": 0,
            },
            {"name": "tiny", "format": "png", "attribution": "tests/data/make_mbtiles.py"},
        )
    return path


if __name__ == "__main__":
    print(write(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "tiny.pmtiles"))
