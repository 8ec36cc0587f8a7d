"""The customer page shows what the customer said and their whole health, and after a merge its heading is the
name the traits hold."""

from __future__ import annotations

from cherish.events.flows import ingest
from tests.conftest import bearer
from tests.helpers import answer, order


def _ids(store) -> dict[str, str]:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from cherish.identity.models import Identifier

    with store.read() as session:
        return dict(session.execute(select(Identifier.value, Identifier.customer_id)
                                    .where(Identifier.type == "user_id")).all())


def test_customer_page_shows_answers_detractor_mark_and_every_health_reason(client, store, settings, keys):
    from cherish.analytics.service import analyze_store

    messages = [
        order("ann", "a1", "2026-01-05T10:00:00Z", 30), order("ann", "a2", "2026-02-05T10:00:00Z", 20),
        answer("ann", 1, "nps", 3, "2026-02-06T10:00:00Z", comment="The parcel came <b>late</b> and broken"),
        answer("ann", 2, "csat", 5, "2026-01-06T10:00:00Z", comment="Lovely shop", branch="North"),
    ]
    from tests.helpers import AS_OF, lifetime_history

    with store.write() as session:  # among sixty other buyers: enough for a purchase model, so P(alive) is known
        assert ingest(session, lifetime_history() + messages, settings=settings).rejected == []
    analyze_store(store, settings, AS_OF)
    from cherish.worker.consumers import consume_all

    consume_all(store)  # the worker reads the comments
    page = client.get(f"/customers/{_ids(store)['ann']}", headers=bearer(keys["viewer"]))
    assert page.status_code == 200
    answers = page.text.split('id="answers"', 1)[1].split("</table>", 1)[0]
    # newest first, score on its scale, the comment escaped, the detractor marked
    assert answers.index("NPS 3") < answers.index("CSAT 5")
    assert "The parcel came &lt;b&gt;late&lt;/b&gt; and broken" in answers and "Lovely shop" in answers
    assert 'class="detractor"' in answers and ">detractor</span>" in answers
    assert "negative · delivery (negative)" in answers and "positive · store (positive)" in answers
    reasons = page.text.split('id="health-reasons"', 1)[1].split("</ul>", 1)[0]
    for part in ("chance they are still a customer (P(alive))", "recent compared with their usual rhythm",
                 "repeat purchases", "spend compared with other customers"):
        assert part in reasons, part
    assert reasons.count("<li>") == 4 and " of 40" in reasons
    assert 'id="p-alive"' in page.text


def test_after_a_merge_the_heading_is_the_name_the_traits_hold(client, store, settings, keys):
    from cherish.identity.service import merge_by_hand

    messages = [
        {"type": "identify", "userId": "old", "messageId": "i1", "timestamp": "2026-01-01T10:00:00Z",
         "traits": {"name": "Ann Smith"}},
        {"type": "identify", "userId": "new", "messageId": "i2", "timestamp": "2026-03-01T10:00:00Z",
         "traits": {"name": "Ann Jones"}},
    ]
    with store.write() as session:
        assert ingest(session, messages, settings=settings).rejected == []
    ids = _ids(store)
    with store.write() as session:
        merge_by_hand(session, settings, survivor_id=ids["old"], merged_id=ids["new"], actor="test")
    page = client.get(f"/customers/{ids['old']}", headers=bearer(keys["viewer"])).text
    heading = page.split('id="customer-name">', 1)[1].split("</h1>", 1)[0]
    traits = page.split('id="traits"', 1)[1].split("</dl>", 1)[0]
    assert "Ann Jones" in traits  # the later name wins the merge of traits
    assert heading == "Ann Jones"
