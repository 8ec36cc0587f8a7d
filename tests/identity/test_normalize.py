"""Identifier normalisation, by property: whatever text arrives, what is kept is canonical and stable."""

from __future__ import annotations

import string

from hypothesis import given, settings
from hypothesis import strategies as st

from cherish.identity.normalize import normalize_email, normalize_phone, normalize_plain

LOCAL = st.text(string.ascii_letters + string.digits + "._%+-", min_size=1, max_size=30)
DOMAIN = st.builds(lambda a, b: f"{a}.{b}", st.text(string.ascii_lowercase + string.digits + "-", min_size=1,
                                                     max_size=20), st.sampled_from(["com", "org", "co.uk", "de"]))
EMAILS = st.builds(lambda local, domain: f"{local}@{domain}", LOCAL, DOMAIN)
PADDING = st.text(" \t\n", max_size=3)


@given(st.text(max_size=80))
@settings(max_examples=400)
def test_an_email_kept_is_canonical_whatever_arrives(text):
    kept = normalize_email(text)
    if kept is None:
        return
    assert kept == kept.strip().lower()
    assert normalize_email(kept) == kept  # idempotent
    assert not any(c.isspace() for c in kept), repr(kept)
    assert kept.count("@") == 1, repr(kept)
    local, _, domain = kept.partition("@")
    assert local and "." in domain and len(kept) <= 254


@given(EMAILS, PADDING, PADDING)
def test_an_email_is_found_however_it_is_cased_or_padded(email, before, after):
    assert normalize_email(email) == email.lower()
    assert normalize_email(before + email.upper() + after) == email.lower()


@given(st.one_of(st.text(max_size=30), st.integers(), st.booleans(), st.none()))
@settings(max_examples=300)
def test_a_phone_kept_is_e164_and_stable(value):
    kept = normalize_phone(value, "US")
    if kept is None:
        return
    assert kept.startswith("+") and kept[1:].isdigit() and len(kept) <= 16
    assert normalize_phone(kept, "US") == kept
    assert normalize_phone(kept, "DE") == kept  # an E.164 number needs no region


@given(st.sampled_from(["(415) 555-0123", "415.555.0123", "+1 415 555 0123", "4155550123", "1-415-555-0123"]))
def test_one_number_written_many_ways_is_one_identifier(written):
    assert normalize_phone(written, "US") == "+14155550123"


@given(st.one_of(st.text(max_size=400), st.integers(), st.floats(allow_nan=False), st.booleans(), st.none()))
@settings(max_examples=300)
def test_a_plain_identifier_is_stripped_and_stable(value):
    kept = normalize_plain(value)
    if kept is None:
        return
    assert kept == kept.strip() and kept
    assert normalize_plain(kept) == kept


@given(EMAILS, st.integers(min_value=0, max_value=60), st.characters())
@settings(max_examples=400)
def test_an_email_with_any_character_inserted_is_kept_canonical_or_refused(email, at, char):
    test_an_email_kept_is_canonical_whatever_arrives.hypothesis.inner_test(email[:at] + char + email[at:])
