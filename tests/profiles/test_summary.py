"""The one-line gist of timeline items and traits."""

from __future__ import annotations

from cherish.events.summary import COMMENT, timeline_line, trait_text


def test_timeline_lines_name_what_matters_for_each_kind():
    kind_staff = {"score_type": "csat", "score": 4, "comment": "  Kind\n staff "}
    assert timeline_line("track", "Feedback Submitted", kind_staff) == "CSAT 4 · “Kind staff”"
    assert timeline_line("track", "Feedback Submitted", {"score_type": "nps", "score": 0}) == "NPS 0"
    long = timeline_line("track", "Feedback Submitted", {"score_type": "ces", "score": 5, "comment": "x" * 500})
    assert len(long) < COMMENT + 20 and long.endswith("…”")
    assert timeline_line("order", "Order Completed", {"order_id": "A-1", "total": 1234.5, "currency": "EUR",
                                                      "products": [{}, {}]}) == "A-1 · 2 items · 1,234.50 EUR"
    assert timeline_line("order", "Order Refunded", {"order_id": "A-1"}) == "A-1"
    assert timeline_line("track", "Product Viewed", {"sku": "S-9", "price": 5}) == "S-9 · 5.00"
    assert timeline_line("page", None, {"title": "Pricing", "path": "/pricing"}) == "Pricing"
    assert timeline_line("identify", None, {"email": "a@b.c", "name": "A"}) == "traits: email, name"
    assert timeline_line("track", "Support Contact", {"channel": "chat", "topic": "refund", "nested": {"a": 1},
                                                      "minutes": 12, "agent": "Bo", "more": 1}) \
        == "topic: refund · minutes: 12 · agent: Bo"
    assert timeline_line("track", "Clicked", {}) == ""


def test_traits_read_as_a_person_writes_them():
    assert trait_text({"street": "1 Elm St", "city": "Salem", "state": "OR", "postalCode": "97301"}) \
        == "1 Elm St, Salem, OR, 97301"
    assert trait_text({"plan": "gold", "since": 2020}) == "plan: gold, since: 2020"
    assert trait_text(["a", "b"]) == "a, b"
    assert trait_text(None) == "" and trait_text(3) == "3"
