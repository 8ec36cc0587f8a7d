"""Where a dashboard list is cut it says so and pages: search, reviews, a customer's orders; amounts and counts
are written with separators and their currency."""

from __future__ import annotations

from cherish.identity.models import IdentityReview
from tests.conftest import basic
from tests.helpers import identify, login, track

EVIL = "<script>alert(1)</script>"


def test_formats_are_locale_neutral():
    from cherish.web.formatting import money, number

    assert money(1234.5, "USD") == "1,234.50 USD"
    assert money(None, "EUR") == "–" and money(3, None) == "3.00"
    assert number(2397) == "2,397" and number(None) == "–" and number(1.5, 1) == "1.5"


def test_search_says_how_many_match_and_pages(client, keys, admin_user):
    batch = [identify(user_id=f"smith-{i}", traits={"name": f"Pat Smith {i:02d}"}) for i in range(30)]
    assert client.post("/v1/batch", headers=basic(keys["write"]), json={"batch": batch}).status_code == 200
    login(client, *admin_user)
    first = client.get("/customers", params={"q": "smith"}).text
    assert "1–25 of 30" in first and first.count('<a href="/customers/cus_') == 25
    assert 'href="/customers?q=smith&amp;offset=25"' in first
    second = client.get("/customers", params={"q": "smith", "offset": 25}).text
    assert "26–30 of 30" in second and second.count('<a href="/customers/cus_') == 5
    assert "Pat Smith 29" in second and "Pat Smith 00" not in second
    assert 'rel="next"' not in second and 'href="/customers?q=smith"' in second  # back to the first page
    assert client.get("/customers", params={"q": "smith", "offset": "-1"}).status_code == 400


def test_reviews_say_how_many_wait_and_page(client, store, admin_user):
    with store.write() as session:
        for i in range(55):
            session.add(IdentityReview(customer_a=f"cus_a{i}", customer_b=f"cus_b{i}", reason="guardrail:email",
                                       evidence={"identifiers": [f"email:{EVIL}"]}))
    login(client, *admin_user)
    first = client.get("/identity/reviews").text
    assert "1–50 of 55" in first and first.count('<article class="card review"') == 50
    assert EVIL not in first and "&lt;script&gt;" in first
    second = client.get("/identity/reviews", params={"status": "pending", "offset": 50}).text
    assert "51–55 of 55" in second and second.count('<article class="card review"') == 5


def test_orders_say_how_many_page_and_show_their_lines_and_currency(client, keys, admin_user):
    orders = [track("Order Completed", user_id="olga", timestamp=f"2026-01-{1 + i % 28:02d}T10:{i:02d}:00Z",
                    properties={"order_id": f"O-{i:03d}", "total": 10 + i, "currency": "EUR"}) for i in range(54)]
    orders.append(track("Order Completed", user_id="olga", timestamp="2026-03-01T09:00:00Z", properties={
        "order_id": "BIG-1", "total": 1234.5, "currency": "USD",
        "products": [{"name": f"Lamp {EVIL}", "sku": "L-1", "price": 1200, "quantity": 1},
                     {"name": "Bulb", "sku": "B-2", "price": 11.5, "quantity": 3}]}))
    assert client.post("/v1/batch", headers=basic(keys["write"]), json={"batch": orders}).status_code == 200
    login(client, *admin_user)
    customer = client.get("/customers", params={"q": "BIG-1"}).text.split('<a href="/customers/', 1)[1].split('"')[0]
    page = client.get(f"/customers/{customer}").text
    assert "1–50 of 55" in page and page.count("<tr><td>O-") + page.count("<tr><td>BIG-1") == 50
    assert "1,234.50 USD" in page  # the amount with its currency and separators
    revenue = page.split('<div id="revenue">', 1)[1].split("</div>", 1)[0]
    assert "1,971.00 EUR" in revenue and "1,234.50 USD" in revenue  # each currency summed apart, never mixed
    lines = page.split('<table class="list lines">', 1)[1].split("</table>", 1)[0]
    assert "L-1" in lines and "1,200.00 USD" in lines and "Bulb" in lines and "34.50 USD" in lines
    assert EVIL not in page and "Lamp &lt;script&gt;" in lines
    assert '<td class="date"><span class="date">2026-03-01</span></td>' in page
    second = client.get(f"/customers/{customer}", params={"orders_offset": 50}).text
    assert "51–55 of 55" in second and second.count("<tr><td>O-") == 5
