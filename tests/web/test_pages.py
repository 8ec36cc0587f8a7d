"""Dashboard pages through the ASGI app: rejected events, escaping of customer text, roles."""

from __future__ import annotations

from tests.conftest import basic
from tests.helpers import login


def test_rejected_events_page_escapes_and_replays(client, store, keys, admin_user):
    evil = "<script>alert(1)</script>"
    client.post("/v1/batch", headers=basic(keys["write"]),
                json={"batch": [{"type": "track", "event": evil, "messageId": "bad-1"}]})
    token = login(client, *admin_user)
    page = client.get("/intake/rejected")
    assert page.status_code == 200
    assert evil not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "a message needs a userId or an anonymousId" in page.text
    replay = client.post("/intake/rejected/replay", data={"csrf_token": token}, follow_redirects=False)
    assert replay.status_code == 303
    assert "bad-1" in client.get("/intake/rejected").text  # still invalid: kept, with its reason
    forged = client.post("/intake/rejected/replay", data={"csrf_token": "nope"})
    assert forged.status_code == 403


def test_viewer_cannot_open_manager_pages(client, store, keys):
    from cherish.access.service import create_user

    with store.write() as session:
        create_user(session, username="vic", password="viewer password", role="viewer")
    login(client, "vic", "viewer password")
    assert client.get("/customers").status_code == 200
    assert client.get("/identity/reviews").status_code == 403
    assert client.get("/intake/rejected").status_code == 403


def test_unknown_customer_page_and_login_redirect(client, admin_user):
    response = client.get("/customers/cus_x", headers={"Accept": "text/html"}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    login(client, *admin_user)
    assert client.get("/customers/cus_x").status_code == 404
    assert client.get("/customers", params={"q": "<b>x</b>"}).text.count("<b>x</b>") == 0


def test_search_page_lists_the_recently_active_and_the_timeline_gives_the_gist(client, keys, admin_user):
    evil = "<script>alert(1)</script>"
    client.post("/v1/batch", headers=basic(keys["write"]), json={"batch": [
        {"type": "identify", "userId": "gus", "traits": {"name": "Gus Orr", "address": {
            "street": "1 Elm St", "city": "Salem", "postalCode": "97301"}}, "messageId": "g-1"},
        {"type": "track", "userId": "gus", "event": "Feedback Submitted", "messageId": "g-2",
         "properties": {"score_type": "nps", "score": 3, "comment": f"Late again {evil}"}},
        {"type": "track", "userId": "ida", "event": "Clicked", "messageId": "i-1",
         "context": {"traits": {"email": "ida@example.com"}}}]})
    login(client, *admin_user)
    listing = client.get("/customers").text
    assert "Recently active" in listing and listing.index("(no name)") < listing.index("Gus Orr")  # newest first
    ida, customer = (part.split('"', 1)[0] for part in listing.split('<a href="/customers/')[1:3])
    assert '<h1 id="customer-name">ida@example.com</h1>' in client.get(f"/customers/{ida}").text  # no name: email
    page = client.get(f"/customers/{customer}").text
    assert "NPS 3 · “Late again &lt;script&gt;alert(1)&lt;/script&gt;”" in page and evil not in page
    assert "1 Elm St, Salem, 97301" in page  # an address trait on one line, not as JSON
    feedback = client.get(f"/customers/{customer}", params={"show": "feedback"}).text
    assert "NPS 3" in feedback and "traits: name, address" not in feedback
    assert '<option value="feedback" selected>' in feedback
    searched = client.get("/customers", params={"q": "gus orr"}, headers={"HX-Request": "true"}).text
    assert "Gus Orr" in searched and "Recently active" not in searched
