"""Listing the inventory: hazards by route, tier, status and survey; the review queue; surveys."""

from __future__ import annotations

from hazards import inventory, remediation


def test_list_hazards_filters_and_orders_along_routes(tracked) -> None:  # type: ignore[no-untyped-def]
    everything = inventory.list_hazards(engine=tracked)
    assert len(everything) == 8
    assert [h["route_code"] for h in everything] == ["X001"] * 4 + ["Y002"] * 4
    # ordered by chainage within a route: 200, 600, 1000, 1400 m (the fixture's placement)
    assert [round(h["chainage_m"]) for h in everything[:4]] == [200, 600, 1000, 1400]
    # a route code as people type it
    on_y002 = inventory.list_hazards(route=" y 002", engine=tracked)
    assert {h["route_code"] for h in on_y002} == {"Y002"} and len(on_y002) == 4
    assert {h["status"] for h in everything} == {"planned"}
    tier_i = inventory.list_hazards(tier="I", engine=tracked)
    assert {h["id"] for h in tier_i} == {h["id"] for h in everything if h["tier"] == "I"}
    assert len(inventory.list_hazards(survey=1, engine=tracked)) == 8
    assert inventory.list_hazards(survey=2, engine=tracked) == []


def test_status_filter_follows_changes(tracked) -> None:  # type: ignore[no-untyped-def]
    first = inventory.list_hazards(engine=tracked)[0]["id"]
    remediation.set_status([first], to="in_progress", engine=tracked)
    assert [h["id"] for h in inventory.list_hazards(status="in_progress", engine=tracked)] == [
        first
    ]
    assert len(inventory.list_hazards(status="planned", engine=tracked)) == 7


def test_review_queue_and_surveys(tracked) -> None:  # type: ignore[no-untyped-def]
    assert inventory.review_queue(engine=tracked) == []
    surveys = inventory.list_surveys(engine=tracked)
    assert len(surveys) == 1
    s = surveys[0]
    assert (
        s["provider"],
        s["rows_total"],
        s["rows_accepted"],
        s["rows_review"],
        s["rows_rejected"],
    ) == ("p", 8, 8, 0, 0)
