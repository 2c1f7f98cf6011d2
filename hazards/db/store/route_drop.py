"""Routes taken out of the network (``hazards roads drop``): a road loaded by mistake, or a
road without a route code loaded twice by an earlier version, whose second copy inflated the
network's length. Under the road load lock, in one transaction."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import text

from hazards.db.sql import CODES, codes_param
from hazards.db.store.locks import writer_lock
from hazards.errors import InputError, NotFound
from hazards.settings import county

if TYPE_CHECKING:
    from sqlalchemy import Engine


def drop_routes(
    engine: Engine, codes: list[str], *, admin_code: str | None = None
) -> dict[str, Any]:
    """Delete the routes ``codes`` (their segments and aliases with them). A route that hazards
    are attached to is refused, naming them (nothing is dropped): a hazard is never left
    without its road (a rejected one is: it keeps its place and history, its road is none). The crashes placed on them are kept, unattached (as an import leaves a
    crash far from every road). ``{"dropped": codes, "km": ..., "segments": n, "crashes_unattached": m}``."""
    admin_code = county(admin_code)
    with engine.begin() as conn:
        writer_lock(conn, "road load", what=f"dropping route(s) {', '.join(codes[:5])}")
        these = {"a": admin_code, "codes": codes_param(codes)}
        found: dict[str, int] = dict(
            conn.execute(
                text(
                    f"SELECT route_code, id FROM roads WHERE admin_code = :a AND route_code = ANY({CODES})"
                ),
                these,
            ).all()
        )
        missing = [c for c in codes if c not in found]
        if missing:
            raise NotFound(
                f"No route {', '.join(missing)} is loaded (`hazards roads list` lists the "
                "routes; a road without a route code is named U-…). Nothing was dropped."
            )
        ids = list(found.values())
        # the routes locked before the check: a hazard attached meanwhile (a survey import
        # holds another lock) waits for the drop, and finds no route
        conn.execute(text("SELECT 1 FROM roads WHERE id = ANY(:ids) FOR UPDATE"), {"ids": ids})
        held = conn.execute(
            text(
                "SELECT r.route_code, count(*), array_agg(h.public_id ORDER BY h.public_id) "
                "FROM hazards h JOIN roads r ON r.id = h.road_id WHERE h.road_id = ANY(:ids) "
                "AND h.status <> 'rejected' GROUP BY r.route_code ORDER BY 1"
            ),
            {"ids": ids},
        ).all()
        if held:
            said = "; ".join(
                f"{code}: {n} ({', '.join(pids[:5])}{', ...' if n > 5 else ''})"
                for code, n, pids in held
            )
            raise InputError(
                f"Hazards are attached to the route(s) to drop ({said}); nothing was dropped. "
                "A hazard is not left without its road: load the route again with the right "
                "lines (`hazards roads load FILE --replace`), or reject the hazards first.",
                param="codes",
            )
        km, segs = conn.execute(
            text("SELECT coalesce(sum(length_m), 0) / 1000, count(*) FROM road_segments "
                 "WHERE road_id = ANY(:ids)"),
            {"ids": ids},
        ).one()  # fmt: skip
        loose = conn.execute(
            text("UPDATE crashes SET route_code = NULL, road_id = NULL, segment_id = NULL, "
                 "part = NULL, chainage_m = NULL, snap_distance_m = NULL, "
                 "match_method = 'unattached' WHERE road_id = ANY(:ids)"),
            {"ids": ids},
        ).rowcount  # fmt: skip
        conn.execute(
            text(f"DELETE FROM route_aliases WHERE admin_code = :a AND route_code = ANY({CODES})"),
            these,
        )
        conn.execute(text("DELETE FROM roads WHERE id = ANY(:ids)"), {"ids": ids})
    return {
        "dropped": sorted(found),
        "km": round(float(km), 3),
        "segments": int(segs),
        "crashes_unattached": int(loose or 0),
    }
