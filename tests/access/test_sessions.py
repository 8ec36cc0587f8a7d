"""Dashboard sessions and logins: throttled guesses, sessions that end, cookies marked Secure over HTTPS, CSRF
checked unless a key authenticated the call, and no instance left without an admin."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from cherish.access.models import LoginFailure
from cherish.access.service import set_password
from cherish.api.app import create_app
from cherish.db.base import utcnow
from tests.conftest import bearer


def _token(client: TestClient, path: str = "/login") -> str:
    return client.get(path).text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def _login(client: TestClient, username: str, password: str, token: str | None = None):  # type: ignore[no-untyped-def]
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": token or _token(client)}, follow_redirects=False)


def _wait_is_over(store) -> None:  # type: ignore[no-untyped-def]
    with store.write() as session:
        session.execute(update(LoginFailure).where(LoginFailure.blocked_until.is_not(None))
                        .values(blocked_until=utcnow() - timedelta(seconds=1)))


def test_wrong_passwords_are_throttled_with_growing_delays(client, store, admin_user):
    token = _token(client)
    for _ in range(5):  # a few mistakes cost nothing
        assert _login(client, "ada", "wrong password", token).status_code == 401
    assert _login(client, "ada", "wrong password", token).status_code == 401  # the sixth starts a wait
    blocked = _login(client, "ada", admin_user[1], token)  # even the right password waits
    # 2 seconds from the failure, rounded up: 1 or 2 left by now
    assert blocked.status_code == 429 and blocked.headers["retry-after"] in ("1", "2")
    assert f"try again in {blocked.headers['retry-after']} seconds" in blocked.text
    _wait_is_over(store)
    assert _login(client, "ada", "wrong password", token).status_code == 401
    second = _login(client, "ada", admin_user[1], token)
    assert second.status_code == 429 and second.headers["retry-after"] in ("3", "4")  # each failure doubles it
    _wait_is_over(store)
    assert _login(client, "ada", admin_user[1], token).status_code == 303
    assert _login(client, "ada", "wrong password", _token(client)).status_code == 401  # a success starts afresh


def test_one_address_guessing_many_accounts_is_throttled(client, store):
    token = _token(client)
    statuses = [_login(client, f"user{i}", "wrong password", token).status_code for i in range(25)]
    # the 21st failure sets a 2 s wait, then 4 s, 8 s…: on a loaded machine one wait may pass before the next try
    assert statuses[:21] == [401] * 21 and 429 in statuses[21:]


def test_throttling_is_shared_by_server_processes(settings, store, admin_user):
    """Two apps on one store (as `cherish serve --workers 2` runs) count the same failures."""
    with TestClient(create_app(settings, store)) as first, TestClient(create_app(settings, store)) as second:
        for i in range(6):
            client = first if i % 2 else second
            assert _login(client, "ada", "wrong password").status_code == 401
        assert _login(first, "ada", admin_user[1]).status_code == 429


def test_logout_ends_the_session_even_for_a_copied_cookie(client, admin_user):
    assert _login(client, *admin_user).status_code == 303
    copied = client.cookies.get("cherish_session")
    token = _token(client, "/customers")
    assert client.post("/logout", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    client.cookies.set("cherish_session", copied)
    assert client.get("/api/keys").status_code == 401


def test_a_new_password_ends_sessions(client, store, admin_user):
    assert _login(client, *admin_user).status_code == 303
    assert client.get("/api/keys").status_code == 200
    with store.write() as session:  # what `cherish users set-password` does
        set_password(session, username="ada", password="a brand new password")
    assert client.get("/api/keys").status_code == 401
    assert _login(client, "ada", "a brand new password").status_code == 303
    assert client.get("/api/keys").status_code == 200


def _session_cookie(response) -> str:  # type: ignore[no-untyped-def]
    return next(v for k, v in response.headers.multi_items() if k == "set-cookie" and "cherish_session" in v)


def test_the_cookie_is_secure_over_https_behind_a_trusted_proxy(settings, store, admin_user):
    trusting = settings.model_copy(update={"forwarded_allow_ips": "testclient"})
    with TestClient(create_app(trusting, store)) as client:
        plain = _session_cookie(client.get("/login"))
        assert "secure" not in plain.lower()
        client.cookies.clear()
        secure = _session_cookie(client.get("/login", headers={"X-Forwarded-Proto": "https"}))
        assert "; secure" in secure.lower() and "httponly" in secure.lower()
    with TestClient(create_app(settings, store)) as client:  # the test client is no trusted proxy by default
        assert "secure" not in _session_cookie(client.get("/login", headers={"X-Forwarded-Proto": "https"})).lower()
    with TestClient(create_app(settings, store), base_url="https://testserver") as client:
        assert "; secure" in _session_cookie(client.get("/login")).lower()


def test_csrf_is_checked_whatever_authorization_header_comes_with_the_cookie(client, admin_user, keys):
    assert _login(client, *admin_user).status_code == 303
    for header in ("Digest whatever", "Token abc", "Bearer"):
        response = client.post("/api/keys", json={"role": "viewer"}, headers={"Authorization": header})
        assert response.status_code == 403 and "CSRF" in response.json()["error"]["message"], header
    # a key authenticates the call: no cookie involved, no CSRF token needed
    assert client.post("/api/keys", json={"role": "viewer"}, headers=bearer(keys["admin"])).status_code == 201


def test_the_last_admin_credential_cannot_be_revoked(client, store):
    from cherish.access.service import create_key

    with store.write() as session:
        key, secret = create_key(session, role="admin", name="only admin")
    response = client.delete(f"/api/keys/{key.id}", headers=bearer(secret))
    assert response.status_code == 409 and "last admin" in response.json()["error"]["message"]
    other = client.post("/api/keys", json={"role": "admin"}, headers=bearer(secret)).json()
    assert client.delete(f"/api/keys/{key.id}", headers=bearer(secret)).status_code == 200
    assert client.delete(f"/api/keys/{other['id']}", headers=bearer(other["key"])).status_code == 409


@pytest.mark.parametrize("failures", [1, 5, 6, 7, 30])
def test_delays_grow_and_stop_at_a_quarter_hour(failures):
    from cherish.access.throttle import delay_after

    expected = {1: 0, 5: 0, 6: 2, 7: 4, 30: 900}[failures]
    assert delay_after(failures, "account") == timedelta(seconds=expected)
