"""Any JSON message is either stored or rejected with a reason, and whatever was kept can be read back."""

from __future__ import annotations

import json

import orjson
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import select

from cherish.events import rejected as rejected_service
from cherish.events.flows import ingest
from cherish.events.models import Event

# Values at the edges that once made a whole batch fail: year 1 and 9999, long text, numbers beyond 64 bits.
TEXT = st.one_of(st.text(max_size=5), st.text(min_size=190, max_size=320), st.just("x" * 1200),
                 st.sampled_from(["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-05:00", "2026-01-01", "",
                                  "1970-01-01T00:00:00Z", "2099-01-01", "nan", "1e400"]))
NUMBER = st.one_of(st.integers(min_value=-(2**63), max_value=2**64 - 1), st.just(2**64 + 1),
                   st.floats(allow_nan=False, allow_infinity=False))
ANY = st.recursive(st.one_of(st.none(), st.booleans(), NUMBER, TEXT),
                   lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(TEXT, inner, max_size=3)),
                   max_leaves=8)
PRODUCT = st.dictionaries(st.sampled_from(["price", "quantity", "sku", "name", "product_id"]), st.one_of(NUMBER, TEXT))
ORDER = st.fixed_dictionaries({"order_id": st.one_of(TEXT, NUMBER)}, optional={
    "total": NUMBER, "revenue": st.one_of(NUMBER, TEXT), "currency": TEXT, "discount": NUMBER, "coupon": TEXT,
    "products": st.lists(PRODUCT, max_size=2), "promised_delivery_date": TEXT, "branch": TEXT, "channel": TEXT,
    "score_type": st.sampled_from(["nps", "csat", "ces"]), "score": st.one_of(NUMBER, TEXT), "comment": TEXT})
IDENTIFIER = st.one_of(TEXT, NUMBER)
MESSAGE = st.fixed_dictionaries({}, optional={
    "type": st.sampled_from(["track", "identify", "alias", "page", "screen", "group", "x" * 300]),
    "event": st.one_of(st.sampled_from(["Order Completed", "Order Refunded", "Feedback Submitted"]), TEXT),
    "userId": IDENTIFIER, "anonymousId": IDENTIFIER, "previousId": IDENTIFIER, "groupId": IDENTIFIER,
    "messageId": IDENTIFIER, "timestamp": TEXT, "originalTimestamp": TEXT, "sentAt": TEXT, "name": TEXT,
    "properties": st.one_of(ANY, ORDER),
    "traits": st.one_of(ANY, st.dictionaries(st.sampled_from(["email", "phone", "loyalty_id", "name", "consent"]),
                                             st.one_of(IDENTIFIER, ANY))),
    "context": st.fixed_dictionaries({}, optional={"traits": ANY, "channel": TEXT}),
})


def test_no_message_fails_its_batch(store, settings):  # type: ignore[no-untyped-def]
    @hypothesis_settings(max_examples=150, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(MESSAGE, min_size=1, max_size=4))
    @example([{"type": "track", "userId": "u", "event": "E", "timestamp": "0001-01-01T00:00:00+01:00"}])
    @example([{"type": "group", "userId": "u", "groupId": "g" * 250}, {"type": "x" * 2000}])
    def one_batch(batch: list[dict]) -> None:  # type: ignore[type-arg]
        raws = orjson.loads(json.dumps(batch))  # as intake reads it: integers beyond 64 bits become floats
        with store.write() as session:
            result = ingest(session, raws, settings=settings)
        assert result.stored + result.duplicates + len(result.rejected) == len(raws)
        assert all(r["message"] for r in result.rejected)

    one_batch()
    with store.read() as session:  # everything kept reads back
        rejected_service.listing(session, status=None, limit=1000)
        list(session.scalars(select(Event.payload)))
