"""Incidents on a real store: the customers an incident touched found from orders (a channel, a product, two
dates) or from late deliveries, reviewed, and apologised to once each with a gesture code while codes last,
through the contact policy; cases opened when asked; the dashboard's form and page."""

from __future__ import annotations

from sqlalchemy import select

from cherish.cases import flows
from cherish.contact.models import Contact
from cherish.domain_events.models import DomainEvent
from cherish.events.flows import ingest
from tests.conftest import bearer
from tests.helpers import identify, login, person, track

APOLOGY = {"subject": "We are sorry about your order", "text": "Our van broke down.\nWe are <b>sorry</b>."}


def _world(store, settings):  # type: ignore[no-untyped-def]
    def order(user: str, order_id: str, channel: str, day: str, sku: str, promised: str | None = None) -> dict:
        return track("Order Completed", user_id=user, timestamp=f"2026-11-{day}T12:00:00Z", context={
            "channel": channel}, properties={"order_id": order_id, "total": 30, "currency": "USD",
                                             "products": [{"sku": sku, "price": 30, "quantity": 1}],
                                             **({"promised_delivery_date": promised} if promised else {})})

    with store.write() as session:
        result = ingest(session, [
            *(identify(user_id=u, traits={"email": f"{u}@example.com"}) for u in ("ann", "bob", "cy", "dee")),
            order("ann", "A-1", "web", "10", "SKU-1"), order("ann", "A-2", "web", "11", "SKU-2"),
            order("bob", "B-1", "web", "12", "SKU-1"), order("cy", "C-1", "store", "11", "SKU-1"),
            order("dee", "D-1", "web", "20", "SKU-1"),  # after the incident
            order("cy", "C-2", "store", "12", "SKU-3", promised="2026-11-14"),  # never delivered: late
        ], settings=settings)
    assert not result.rejected, result.rejected
    return dict(zip(("ann", "bob", "cy", "dee"), result.customers, strict=False))


def test_an_incident_finds_whom_it_touched_and_apologises_once_each(store, settings, client, keys):
    settings = settings.model_copy(update={"quiet_hours": ""})
    client.app.state.settings = settings
    people = _world(store, settings)
    declared = client.post("/api/incidents", headers=bearer(keys["manager"]), json={
        "title": "Web checkout charged twice", "started_at": "2026-11-09T00:00:00Z",
        "affected": {"kind": "orders", "channel": "web", "from": "2026-11-09T00:00:00Z",
                     "until": "2026-11-15T00:00:00Z"},
        "apology": APOLOGY, "gesture_codes": ["SORRY-1"]})
    assert declared.status_code == 201, declared.text
    incident = declared.json()
    assert incident["customers"] == 2 and incident["apologies_sent"] == 0 and incident["codes_left"] == 1
    detail = client.get(f"/api/incidents/{incident['id']}", headers=bearer(keys["viewer"])).json()
    assert {r["customer_id"] for r in detail["items"]} == {people["ann"], people["bob"]}
    with store.read() as session:  # reviewed first: nobody has heard from us yet
        assert not list(session.scalars(select(Contact)))

    assert client.post(f"/api/incidents/{incident['id']}/apologies",
                       headers=bearer(keys["agent"])).status_code == 403
    sent = client.post(f"/api/incidents/{incident['id']}/apologies", headers=bearer(keys["manager"]))
    assert sent.json() == {"decided": 2, "sent": 2, "waiting": 0}
    again = client.post(f"/api/incidents/{incident['id']}/apologies", headers=bearer(keys["manager"]))
    assert again.json() == {"decided": 0, "sent": 0, "waiting": 0}  # never twice
    detail = client.get(f"/api/incidents/{incident['id']}", headers=bearer(keys["viewer"])).json()
    assert detail["status"] == "apologised" and sorted(str(r["code"]) for r in detail["items"]) == ["None", "SORRY-1"]
    with store.read() as session:
        contacts = list(session.scalars(select(Contact).where(Contact.topic == f"incident {incident['id']}: apology")))
        announced = list(session.scalars(select(DomainEvent).where(DomainEvent.type == "incident.apology_sent")))
    assert sorted(c.customer_id for c in contacts) == sorted([people["ann"], people["bob"]])
    assert all(c.purpose == "recovery" and c.outcome == "sent" for c in contacts)
    assert len(announced) == 2 and all(e.data["incident_id"] == incident["id"] for e in announced)
    page = client.get(f"/api/customers/{people['ann']}/contacts", headers=bearer(keys["viewer"])).json()
    assert any(c["topic"] == f"incident {incident['id']}: apology" for c in page["items"])
    timeline = client.get(f"/api/customers/{people['ann']}/timeline", headers=bearer(keys["viewer"])).json()
    [apology] = [i for i in timeline["items"] if i["kind"] == "message"]
    assert apology["event"] == f"incident {incident['id']}: apology" and timeline["items"][0] == apology
    assert [i["kind"] for i in timeline["items"]].count("order") == 2  # her two orders, older than our apology
    older = client.get(f"/api/customers/{people['ann']}/timeline?limit=1", headers=bearer(keys["viewer"])).json()
    rest = client.get(f"/api/customers/{people['ann']}/timeline?limit=50&before={older['next']}",
                      headers=bearer(keys["viewer"])).json()
    assert [i["kind"] for i in older["items"] + rest["items"]].count("message") == 1  # on one page only

    by_product = client.post("/api/incidents", headers=bearer(keys["manager"]), json={
        "title": "Bad batch", "started_at": "2026-11-09T00:00:00Z", "apology": APOLOGY,
        "affected": {"kind": "orders", "product": "SKU-1", "from": "2026-11-09T00:00:00Z",
                     "until": "2026-11-15T00:00:00Z"}}).json()
    assert by_product["customers"] == 3  # ann, bob and cy bought SKU-1 then, on any channel


def test_late_deliveries_can_open_a_case_each_and_bad_incidents_are_refused(store, settings, client, keys):
    people = _world(store, settings)
    flows.watch(store, settings)  # C-2's promised date has passed: a broken promise
    declared = client.post("/api/incidents", headers=bearer(keys["manager"]), json={
        "title": "Depot closed", "started_at": "2026-11-13T00:00:00Z", "open_cases": True, "apology": APOLOGY,
        "affected": {"kind": "late deliveries", "from": "2026-11-13T00:00:00Z", "until": "2026-11-16T00:00:00Z"}})
    assert declared.status_code == 201, declared.text
    assert declared.json()["customers"] == 1
    opened = client.get("/api/cases?reason=incident", headers=bearer(keys["viewer"])).json()["items"]
    assert [c["customer_id"] for c in opened] == [people["cy"]]

    for body, status, words in [
        ({"kind": "customers", "customer_ids": ["cus_nobody"]}, 404, "no customer"),
        ({"kind": "orders", "from": "2026-11-15T00:00:00Z", "until": "2026-11-09T00:00:00Z"}, 409, "after"),
        ({"kind": "orders", "from": "2026-11-15T00:00:00", "until": "2026-11-19T00:00:00Z"}, 400, "from")]:
        refused = client.post("/api/incidents", headers=bearer(keys["manager"]), json={
            "title": "x", "started_at": "2026-11-09T00:00:00Z", "apology": APOLOGY, "affected": body})
        assert refused.status_code == status and words in refused.text, refused.text
    assert len(client.get("/api/incidents", headers=bearer(keys["viewer"])).json()["items"]) == 1


def test_a_manager_declares_an_incident_on_the_dashboard(store, settings, client):
    _world(store, settings)
    login(client, *person(store, "manager"))
    token = client.get("/incidents").text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    made = client.post("/incidents", follow_redirects=False, data={
        "csrf_token": token, "title": "Web <script>outage</script>", "kind": "orders", "from": "2026-11-09",
        "until": "2026-11-14", "channel": "web", "apology_subject": "Sorry", "apology_text": "We were down.",
        "codes": "A1 A2"})
    assert made.status_code == 303, made.text
    page = client.get(made.headers["location"])
    assert "Web &lt;script&gt;outage&lt;/script&gt;" in page.text and "<script>outage" not in page.text
    assert "2</strong> customers touched" in page.text
    refused = client.post("/incidents", data={"csrf_token": token, "title": "x", "kind": "orders",
                                              "from": "someday", "until": "2026-11-14"})
    assert refused.status_code == 400 and "from is a date" in refused.text
