"""Logging in and out of the console."""

from __future__ import annotations

from assistant.admin.security import LOGIN_CSRF_COOKIE, SESSION_COOKIE
from assistant.store.keys import ApiKeyStore

from .conftest import KEY, ConsoleClient, form_token

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


async def post_login(anonymous: ConsoleClient, body: str) -> object:
    return await anonymous.client.post("/admin/login", content=body, headers=FORM)


async def test_login_sets_a_strict_session_cookie_and_goes_where_asked(
    anonymous: ConsoleClient,
) -> None:
    page = await anonymous.client.get("/admin/login?next=/admin/learning")
    assert page.status_code == 200 and 'name="key"' in page.text
    assert "samesite=strict" in page.headers["set-cookie"].lower()
    token = form_token(page.text)
    r = await anonymous.client.post(
        "/admin/login", content=f"key={KEY}&csrf_token={token}&next=/admin/learning", headers=FORM
    )
    assert r.status_code == 303 and r.headers["location"] == "/admin/learning"
    cookie = next(c for c in r.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE))
    assert {"httponly", "samesite=strict", "path=/admin"} <= {
        part.strip().lower() for part in cookie.split(";")
    }
    assert (await anonymous.client.get("/admin")).status_code == 200


async def test_a_wrong_key_or_a_chat_key_does_not_log_in(anonymous: ConsoleClient) -> None:
    chat = (await ApiKeyStore(anonymous.assistant.store.engine).create("kakao", ["chat"])).token
    for key in ("wrong", "", chat):
        page = await anonymous.client.get("/admin/login")
        r = await anonymous.client.post(
            "/admin/login", content=f"key={key}&csrf_token={form_token(page.text)}", headers=FORM
        )
        assert r.status_code == 401
        assert 'id="login-error"' in r.text
        assert f"{SESSION_COOKIE}=" not in r.headers.get("set-cookie", "")
    assert (await anonymous.client.get("/admin")).status_code == 303


async def test_a_stored_admin_key_logs_in(anonymous: ConsoleClient) -> None:
    stored = (await ApiKeyStore(anonymous.assistant.store.engine).create("ops", ["admin"])).token
    assert (await anonymous.login(stored)).status_code == 303
    assert (await anonymous.client.get("/admin/faq")).status_code == 200


async def test_the_login_form_needs_its_own_token(anonymous: ConsoleClient) -> None:
    await anonymous.client.get("/admin/login")
    r = await anonymous.client.post(
        "/admin/login", content=f"key={KEY}&csrf_token=forged", headers=FORM
    )
    assert r.status_code == 403 and f"{SESSION_COOKIE}=" not in r.headers.get("set-cookie", "")
    anonymous.client.cookies.delete(LOGIN_CSRF_COOKIE, path="/admin")
    r = await anonymous.client.post("/admin/login", content=f"key={KEY}&csrf_token=", headers=FORM)
    assert r.status_code == 403


async def test_never_redirects_to_another_site(anonymous: ConsoleClient) -> None:
    for target in ("https://evil.example/", "//evil.example/admin", "/adminx/../x", "/\\evil"):
        page = await anonymous.client.get("/admin/login")
        r = await anonymous.client.post(
            "/admin/login",
            content=f"key={KEY}&csrf_token={form_token(page.text)}&next={target}",
            headers=FORM,
        )
        assert r.status_code == 303
        location = r.headers["location"]
        assert location.startswith("/admin") and not location.startswith("//"), location
        anonymous.client.cookies.delete(SESSION_COOKIE, path="/admin")


async def test_failed_logins_are_rate_limited(anonymous: ConsoleClient) -> None:
    statuses = []
    for _ in range(12):
        page = await anonymous.client.get("/admin/login")
        r = await anonymous.client.post(
            "/admin/login", content=f"key=guess&csrf_token={form_token(page.text)}", headers=FORM
        )
        statuses.append(r.status_code)
    assert statuses[:10] == [401] * 10 and statuses[-1] == 429


async def test_logout_needs_the_csrf_token_and_ends_the_session(console: ConsoleClient) -> None:
    refused = await console.client.post("/admin/logout", content="csrf_token=forged", headers=FORM)
    assert refused.status_code == 403
    assert (await console.client.get("/admin")).status_code == 200
    r = await console.client.post(
        "/admin/logout", content=f"csrf_token={console.csrf}", headers=FORM
    )
    assert r.status_code == 303 and r.headers["location"] == "/admin/login"
    assert (await console.client.get("/admin")).status_code == 303


async def test_pages_carry_a_strict_content_security_policy(console: ConsoleClient) -> None:
    page = await console.client.get("/admin/faq")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert page.headers["x-frame-options"] == "DENY"
    assert "<script>" not in page.text  # no inline script: the CSP would refuse it
