"""A QGIS project (``.qgs``) on the live database (``hazards export qgis-project``): the layers of
the GeoPackage export (:mod:`hazards.gpkg`) as PostGIS query layers, each with the same style
(tier colours, status outlines, road classes, zh or en names; the roads' road modes as further
named styles, Layer > Styles), so an engineer opens the project in QGIS and sees today's
inventory without exporting again.

Each layer is a query (``table="(SELECT ...)"``) with a ``fid`` key, in EPSG:4326 (the stored
CRS); QGIS reprojects on the fly to the project's CRS. The connection is the configured
database's (``hazards db url``); its password is written only when asked for (otherwise QGIS
asks for it, or takes it from a ``PGPASSFILE`` / ``pg_service.conf``).
"""

from __future__ import annotations

import re
import uuid
import warnings
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hazards.errors import InputError

if TYPE_CHECKING:
    from pyproj import CRS
    from sqlalchemy import Engine

__all__ = ["layer_queries", "project_xml", "write_project"]

WKB_TYPES = {"LineString": 2, "Point": 1, "MultiPoint": 4, "MultiLineString": 5}


def layer_queries(engine: Engine) -> dict[str, tuple[str, list[str]]]:
    """Each layer's query for QGIS (geometry ``geom``, key ``fid``; the county's rows, as
    :func:`hazards.db.store.inventory_layers` reads them) and its attribute columns;
    ``hazard_extents`` only when the database has the column, ``crashes`` always (a layer
    with no feature yet is still worth having in a project)."""
    from sqlalchemy import text

    from hazards.db.store import reports
    from hazards.settings import county
    from hazards.vocabulary import OPEN_STATUSES

    queries = dict(reports._LAYER_SQL)
    open_list = "ARRAY[" + ", ".join(f"'{s}'" for s in OPEN_STATUSES) + "]"
    admin = "'" + county().replace("'", "''") + "'"  # a literal: QGIS runs the query as it is
    queries["cells"] = reports._CELLS_SQL.replace(":open", open_list).replace(
        ":m", repr(reports.CELL_M)
    )
    queries["crashes"] = reports._CRASHES_SQL
    sql = (
        "SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() "
        "AND table_name = 'hazards' AND column_name = 'extent'"
    )
    with engine.connect() as conn:
        if conn.execute(text(sql)).first() is not None:
            queries["hazard_extents"] = reports._EXTENTS_SQL
        out = {}
        for name, q in queries.items():
            q = q.replace(":admin", admin)  # the county's layers, as the GeoPackage's
            q = q.replace("ST_AsBinary(", "(").replace(" AS wkb", " AS geom")
            q = re.sub(r"\s+", " ", q).strip()
            wrapped = f"SELECT row_number() OVER () AS fid, q.* FROM ({q}) q"
            cols = list(conn.execute(text(wrapped + " LIMIT 0")).keys())
            out[name] = (wrapped, [c for c in cols if c not in ("fid", "geom")])
    return out


def _datasource(url: Any, query: str, kind: str, *, password: bool) -> str:
    """A QGIS PostgreSQL data source (``QgsDataSourceUri`` syntax) for a query layer."""

    def quoted(v: Any) -> str:
        return "'" + str(v).replace("\\", "\\\\").replace("'", "\\'") + "'"

    parts = [f"dbname={quoted(url.database)}"]
    if url.host:
        parts.append(f"host={url.host}")
    if url.port:
        parts.append(f"port={url.port}")
    if url.username:
        parts.append(f"user={quoted(url.username)}")
    if password and url.password:
        parts.append(f"password={quoted(url.password)}")
    sql = query.replace("\\", "\\\\").replace('"', '\\"')
    parts += [
        "sslmode=disable" if url.host in ("localhost", "127.0.0.1") else "sslmode=prefer",
        "key='fid'",
        "srid=4326",
        f"type={kind}",
        "checkPrimaryKeyUnicity='0'",
        f'table="({sql})" (geom)',
    ]
    return " ".join(parts)


_SRS_4326 = (
    "<spatialrefsys><wkt>"
    + escape(
        'GEOGCRS["WGS 84",DATUM["World Geodetic System 1984",ELLIPSOID["WGS 84",6378137,'
        '298.257223563,LENGTHUNIT["metre",1]]],PRIMEM["Greenwich",0,ANGLEUNIT["degree",'
        '0.0174532925199433]],CS[ellipsoidal,2],AXIS["geodetic latitude (Lat)",north,ORDER[1],'
        'ANGLEUNIT["degree",0.0174532925199433]],AXIS["geodetic longitude (Lon)",east,ORDER[2],'
        'ANGLEUNIT["degree",0.0174532925199433]],ID["EPSG",4326]]'
    )
    + "</wkt><proj4>+proj=longlat +datum=WGS84 +no_defs</proj4><srsid>3452</srsid>"
    "<srid>4326</srid><authid>EPSG:4326</authid><description>WGS 84</description>"
    "<projectionacronym>longlat</projectionacronym><ellipsoidacronym>EPSG:7030</ellipsoidacronym>"
    "<geographicflag>true</geographicflag></spatialrefsys>"
)


def _srs(crs: CRS) -> str:
    """A CRS as a QGIS project writes it (``<spatialrefsys>``), from its EPSG code and WKT."""
    auth = crs.to_authority() or (("EPSG", str(crs.to_epsg())) if crs.to_epsg() else None)
    ellipsoid = (crs.ellipsoid.to_json_dict().get("id") or {}) if crs.ellipsoid else {}
    with warnings.catch_warnings():  # "you will likely lose ... information": QGIS reads the WKT
        warnings.simplefilter("ignore", UserWarning)
        proj4 = crs.to_proj4() or ""
    acronym = next((w[6:] for w in proj4.split() if w.startswith("+proj=")), "")
    return (
        f"<spatialrefsys><wkt>{escape(crs.to_wkt())}</wkt><proj4>{escape(proj4)}</proj4>"
        # a CRS of no authority (a PROJ string): its WKT alone, no id
        + (f"<srid>{auth[1]}</srid><authid>{auth[0]}:{auth[1]}</authid>" if auth else "")
        + f"<description>{escape(crs.name)}</description>"
        f"<projectionacronym>{escape(acronym)}</projectionacronym>"
        "<ellipsoidacronym>"
        + (f"{ellipsoid['authority']}:{ellipsoid['code']}" if ellipsoid else "")
        + "</ellipsoidacronym>"
        f"<geographicflag>{'true' if crs.is_geographic else 'false'}</geographicflag>"
        "</spatialrefsys>"
    )


def _without_doctype(qml: str) -> str:
    return qml.split(">", 1)[1] if qml.startswith("<!DOCTYPE") else qml


def _children(qml: str) -> str:
    """The children of a QML document's ``<qgis>`` element (a map layer's style in a project)."""
    return _without_doctype(qml).split(">", 1)[1].rsplit("</qgis>", 1)[0]


def project_xml(
    *, lang: str = "zh", password: bool = False, engine: Engine | None = None
) -> tuple[str, dict[str, str]]:
    """The ``.qgs`` text and each layer's data source (by layer name)."""
    from sqlalchemy.engine import make_url

    from hazards import gpkg
    from hazards.db import store
    from hazards.db.session import get_engine

    if lang not in ("zh", "en"):
        raise InputError(f"The language {lang!r} is not one of: zh, en.", param="lang")
    engine = engine or get_engine()
    url = make_url(engine.url.render_as_string(hide_password=False))
    names = gpkg.LAYER_NAMES[lang]
    tree, layers, sources = [], [], {}
    order = ["crashes", "hazards", "hazard_extents", "batches", "cells", "roads"]
    queries = layer_queries(engine)
    for name in [n for n in order if n in queries]:
        query, columns = queries[name]
        kind = gpkg.LAYERS[name]
        lid = f"{name}_{uuid.uuid4().hex[:12]}"
        source = _datasource(url, query, kind, password=password)
        sources[name] = source
        title = escape(names[name])
        checked = "Qt::Unchecked" if name == "cells" else "Qt::Checked"
        tree.append(
            f'<layer-tree-layer id="{lid}" name="{title}" providerKey="postgres" '
            f'checked="{checked}" expanded="1" source="{escape(source)}"><customproperties/>'
            "</layer-tree-layer>"
        )
        styles = gpkg.styles(name, lang=lang, columns=columns)
        inner = _children(styles[0]["qml"])
        manager = "".join(  # the road modes: further named styles (Layer > Styles)
            f'<map-layer-style name="{escape(st["name"])}">'
            + ("" if st["default"] else _without_doctype(st["qml"]))
            + "</map-layer-style>"
            for st in styles
        )
        inner += (
            f'<map-layer-style-manager current="{escape(styles[0]["name"])}">{manager}'
            "</map-layer-style-manager>"
        )
        labels = 'labelsEnabled="1"' if name == "roads" else 'labelsEnabled="0"'
        layers.append(
            f'<maplayer type="vector" geometry="{"Point" if "Point" in kind else "Line"}" '
            f'wkbType="{kind}" {labels} styleCategories="AllStyleCategories" '
            'refreshOnNotifyEnabled="0" autoRefreshEnabled="0">'
            f"<id>{lid}</id><datasource>{escape(source)}</datasource>"
            f"<layername>{title}</layername><srs>{_SRS_4326}</srs>"
            '<provider encoding="UTF-8">postgres</provider>'
            f"{inner}</maplayer>"
        )
    title = "道路安全隐患台账" if lang == "zh" else "Road hazards inventory"
    # the map in the working (metric) CRS: QGIS measures in metres and draws as the county's
    # maps do; the layers stay in lon/lat, as stored, reprojected on the fly
    working = store.working_crs(engine)
    project_srs = _srs(working) if working is not None else _SRS_4326
    text = (
        "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
        f'<qgis projectname="{escape(title)}" version="3.22.0">'
        f"<title>{escape(title)}</title><projectCrs>{project_srs}</projectCrs>"
        f"<layer-tree-group><customproperties/>{''.join(tree)}</layer-tree-group>"
        f"<projectlayers>{''.join(layers)}</projectlayers></qgis>\n"
    )
    return text, sources


def write_project(
    path: str | Path, *, lang: str = "zh", password: bool = False, engine: Engine | None = None
) -> dict[str, Any]:
    """Write the project to ``path`` (``.qgs``); ``{"file", "layers", "password"}``."""
    from hazards.outfiles import writable_file

    p = Path(path)
    if p.suffix.lower() != ".qgs":
        raise InputError(
            f"{p}: a QGIS project is written as .qgs; give a file name ending in .qgs.",
            param="path",
        )
    text, sources = project_xml(lang=lang, password=password, engine=engine)
    writable_file(p, param="path", what="QGIS project")
    p.write_text(text, encoding="utf-8")
    return {"file": str(p), "layers": list(sources), "password": password}
