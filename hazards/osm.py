"""OpenStreetMap road data: which ways are vehicular roads, their class from ``highway``, and
their route from ``ref`` (or, when asked, the street name).

Used by :func:`hazards.roads.load_roads` on ``.osm``/``.osm.pbf`` files and on any table
exported from OpenStreetMap (a GeoPackage with a ``highway`` column of OSM values). The words
(which ``highway`` values are roads, and their classes) are in :mod:`hazards.vocabulary`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import pandas as pd

from hazards.errors import InputError
from hazards.vocabulary import OSM_HIGHWAY_CLASS, OSM_HIGHWAYS, OSM_OTHER_HIGHWAYS

OSM_ROUTES = ("ref", "name")
"""Where an OpenStreetMap way's route code comes from: its ``ref`` only (the default; ways
without one are unassigned roads), or its ``ref`` and else its street ``name``."""

NOT_A_HIGHWAY = "(no highway tag)"
"""The skipped-type key of lines that are not highways at all (railways, rivers, walls)."""


@dataclass
class OsmRoads:
    """The ways of an OpenStreetMap table kept as roads, and what was skipped."""

    gdf: gpd.GeoDataFrame  # osm_id, ref (the route code), name, highway, [township], geometry
    skipped: dict[str, int] = field(default_factory=dict)
    """``highway`` value → ways not loaded (most first); :data:`NOT_A_HIGHWAY` for other lines."""
    highways: tuple[str, ...] = OSM_HIGHWAYS
    class_map: dict[str, str] = field(default_factory=dict)
    """``highway`` value → road class (:data:`hazards.vocabulary.OSM_HIGHWAY_CLASS`)."""
    unmatched: tuple[str, ...] = ()
    """The types asked for, beyond the default ones, that no way of the file has (a typo:
    ``primay``)."""

    def warnings(self) -> list[str]:
        """What the load says of the types asked for: those no way of the file has."""
        if not self.unmatched:
            return []
        found = ", ".join(sorted(set(self.skipped) | set(self.gdf["highway"].dropna())))
        return [
            f"no way of the file has the highway type(s) {', '.join(self.unmatched)} given "
            f"with --osm-highways (a typo?); its ways are: {found}."
        ]


def parse_highways(text: str | Iterable[str] | None) -> tuple[str, ...]:
    """``"primary,secondary,footway"`` (or a list) → the ``highway`` values to keep; the word
    ``default`` stands for :data:`hazards.vocabulary.OSM_HIGHWAYS` (``default,pedestrian``)."""
    if text is None:
        return OSM_HIGHWAYS
    items = text.split(",") if isinstance(text, str) else list(text)
    out: list[str] = []
    for item in (str(i).strip().lower() for i in items):
        if not item:
            continue
        if item == "default":
            out.extend(h for h in OSM_HIGHWAYS if h not in out)
        elif not re.fullmatch(r"[a-z0-9_:]+", item):
            raise InputError(
                f"Highway types {text!r}: {item!r} is not an OpenStreetMap highway value. Give "
                "values separated by commas, e.g. primary,secondary,residential (or "
                "default,pedestrian).",
                param="osm_highways",
            )
        elif item not in out:
            out.append(item)
    if not out:
        raise InputError(
            "No highway types given: name at least one, e.g. primary,secondary.",
            param="osm_highways",
        )
    return tuple(out)


def _column(gdf: gpd.GeoDataFrame, name: str) -> str | None:
    return next((c for c in gdf.columns if str(c).strip().lower() == name), None)


def highway_column(gdf: gpd.GeoDataFrame) -> str | None:
    """The ``highway`` column of a table exported from OpenStreetMap, or None: a column named
    ``highway`` (any case) holding at least one OpenStreetMap ``highway`` value (a county file
    whose ``highway`` column says 县道 is not OpenStreetMap data)."""
    col = _column(gdf, "highway")
    if col is None:
        return None
    known = {*OSM_HIGHWAYS, *OSM_OTHER_HIGHWAYS}
    values = gdf[col].dropna().astype(str).str.strip().str.lower().unique()
    return col if any(v in known for v in values) else None


def _tag(tags: pd.Series, key: str) -> pd.Series:
    return tags.fillna("").astype(str).str.extract(rf'"{key}"=>"([^"]*)"', expand=False)


def _first(v: Any) -> str | None:
    """The first of ``G207;S308`` (several refs on one way), stripped; None when empty."""
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return None
    first = str(v).split(";")[0].strip()
    return first or None


def select_roads(
    gdf: gpd.GeoDataFrame,
    *,
    highways: str | Iterable[str] | None = None,
    routes: str = "ref",
    township: str | None = None,
) -> OsmRoads | None:
    """The vehicular ways of an OpenStreetMap table, or None when ``gdf`` is not one
    (:func:`highway_column`).

    Kept: ways whose ``highway`` is in ``highways`` (default
    :data:`hazards.vocabulary.OSM_HIGHWAYS`; see :func:`parse_highways`); every other line is
    counted by its ``highway`` value in ``skipped``. The route code is the way's ``ref`` (the
    first of several: ``G207;S308`` → ``G207``), else with ``routes="name"`` its ``name``
    (same-name streets far apart become sections of one route by the gap limit). ``township``:
    a column of the table to keep as the township. The rows keep the table's order.
    """
    if routes not in OSM_ROUTES:
        raise InputError(
            f"Routes from {routes!r}: use ref (the way's ref tag) or name (ref, else the "
            "street name).",
            param="osm_routes",
        )
    col = highway_column(gdf)
    if col is None:
        return None
    keep_types = parse_highways(highways)
    highway = gdf[col].astype(object).where(gdf[col].notna(), None)
    highway = highway.map(lambda v: None if v is None else str(v).strip().lower() or None)
    tags = gdf[_column(gdf, "other_tags")] if _column(gdf, "other_tags") else None
    ref_col, name_col = _column(gdf, "ref"), _column(gdf, "name")
    ref = gdf[ref_col] if ref_col else pd.Series(None, index=gdf.index, dtype=object)
    if tags is not None:
        ref = ref.where(ref.notna(), _tag(tags, "ref"))
    ref = ref.map(_first)
    name = gdf[name_col] if name_col else pd.Series(None, index=gdf.index, dtype=object)
    name = (
        name.astype(object)
        .where(name.notna(), None)
        .map(lambda v: None if v is None or not str(v).strip() else str(v).strip())
    )
    code = ref.where(ref.notna(), name) if routes == "name" else ref
    id_col = _column(gdf, "osm_id")
    out = gpd.GeoDataFrame(
        {
            "osm_id": gdf[id_col].astype(str) if id_col else None,
            "ref": code.astype(object),
            "name": name,
            "highway": highway,
            **({"township": gdf[township]} if township else {}),
        },
        geometry=gdf.geometry.to_numpy(),
        crs=gdf.crs,
        index=gdf.index,
    )
    kept = highway.isin(keep_types).to_numpy()
    skipped = highway[~kept].fillna(NOT_A_HIGHWAY).value_counts()
    class_map = {h: OSM_HIGHWAY_CLASS[h] for h in keep_types if h in OSM_HIGHWAY_CLASS}
    present = set(highway.dropna())
    return OsmRoads(
        gdf=out[kept].reset_index(drop=True),
        skipped={str(k): int(v) for k, v in skipped.items()},
        highways=keep_types,
        class_map=class_map,
        unmatched=tuple(h for h in keep_types if h not in present and h not in OSM_HIGHWAYS),
    )


def highway_classes(gdf: gpd.GeoDataFrame) -> dict[str, str]:
    """The road class of each OpenStreetMap ``highway`` value (``secondary`` → ``county``...)
    when ``gdf`` has a ``highway`` column of such values (:func:`highway_column`), else none:
    for a county file that gives its classes in OpenStreetMap's words."""
    return dict(OSM_HIGHWAY_CLASS) if highway_column(gdf) is not None else {}


def osm_roads(
    raw: gpd.GeoDataFrame,
    mapping: dict[str, str] | None,
    highways: str | Sequence[str] | None,
    routes: str,
    *,
    fields: dict[str, str],
) -> tuple[OsmRoads | None, gpd.GeoDataFrame, dict[str, str] | None]:
    """OpenStreetMap data's vehicular ways (``raw`` as it is when it is not OSM data), and the
    field mapping to use on them (only the ``township`` field is read from the file's own
    fields): what :func:`hazards.roads.load_roads` loads of a road file that may be OSM data.
    ``fields``: the file's recognised fields (role → column,
    :func:`hazards.road_files.recognise_fields`). A file with a route-code column of its own
    (路线编码, or one mapped with ``code=``; OpenStreetMap's ``ref`` aside) or a route-name
    column of its own (路线名称, or ``name=``; OpenStreetMap's ``name`` aside) is not OSM data,
    whatever its ``highway`` column holds: its codes are the routes (its ``highway`` values
    then give the class, :func:`highway_classes`)."""
    own = any(  # a route code or name column of the file's own, not OSM's ref or name
        fields.get(role) is not None and fields[role].lower() != osm_name
        for role, osm_name in (("code", "ref"), ("name", "name"))
    )
    township = fields.get("township")
    osm = None if own else select_roads(raw, highways=highways, routes=routes, township=township)
    if osm is None:
        if highways is not None or routes != "ref":
            raise InputError(
                f"{'Highway types' if highways is not None else 'Routes from names'} were "
                "asked for, but the file is not OpenStreetMap data (it has no highway column "
                "of OpenStreetMap values such as primary or residential).",
                param="osm_highways" if highways is not None else "osm_routes",
            )
        return None, raw, mapping
    return osm, osm.gdf, None
