"""The admin console's sessions live on the server: a copied cookie dies with logout, with the
revocation of the key that opened it, and with a change of the server's key; stored admin keys
work everywhere the admin key does; its filters and the login refuse cleanly."""

from __future__ import annotations

from pathlib import Path

import httpx

from assistant.admin.security import SESSION_COOKIE
from assistant.server import create_app
from assistant.settings import Settings
from assistant.store.keys import ApiKeyStore
from tests.assistant.admin.conftest import (
    KEY,
    ConsoleClient,
    form_token,
    open_console,
    page_csrf,
)

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


async def test_a_copied_cookie_is_worthless_after_logout(console: ConsoleClient) -> None:
    cookie = console.client.cookies.get(SESSION_COOKIE)
    assert cookie is not None
    r = await console.client.post(
        "/admin/logout", content=f"csrf_token={console.csrf}", headers=FORM
    )
    assert r.status_code == 303
    console.client.cookies.set(SESSION_COOKIE, cookie, path="/admin")  # replayed by an attacker
    assert (await console.client.get("/admin/api/faq/entries")).status_code == 401
    assert (await console.client.get("/admin")).status_code == 303


async def test_revoking_the_key_ends_its_console_sessions_at_once(
    anonymous: ConsoleClient,
) -> None:
    keys = ApiKeyStore(anonymous.assistant.store.engine)
    made = await keys.create("ops", ["admin"])
    assert (await anonymous.login(made.token)).status_code == 303
    assert (await anonymous.client.get("/admin/api/faq/entries")).status_code == 200
    assert await keys.revoke(made.key.id)
    assert (await anonymous.client.get("/admin/api/faq/entries")).status_code == 401
    assert (await anonymous.client.get("/admin")).status_code == 303


async def test_changing_the_servers_key_ends_its_sessions(console: ConsoleClient) -> None:
    cookie = console.client.cookies.get(SESSION_COOKIE)
    assert cookie is not None
    rotated = create_app(Settings(admin_api_key="a-new-admin-key"), assistant=console.assistant)
    transport = httpx.ASGITransport(app=rotated)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as other:
        other.cookies.set(SESSION_COOKIE, cookie, path="/admin")
        assert (await other.get("/admin/api/faq/entries")).status_code == 401


async def test_a_stored_admin_key_opens_the_console_without_the_servers_key(
    tmp_path: Path, fusion_cache: Path
) -> None:
    assistant, app = await open_console(tmp_path, fusion_cache, admin_key=None)
    try:
        token = (await ApiKeyStore(assistant.store.engine).create("ops", ["admin"])).token
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            console = ConsoleClient(client, app, assistant)
            assert (await console.login(token)).status_code == 303
            assert page_csrf((await client.get("/admin")).text)
            bearer = {"Authorization": f"Bearer {token}"}
            assert (await client.get("/admin/api/rules", headers=bearer)).status_code == 200
            # the HTTP FAQ API takes the same key (it took only the environment's before)
            assert (await client.get("/v1/admin/faq/entries", headers=bearer)).status_code == 200
    finally:
        await app.state.connectors.aclose()
        await assistant.close()


async def test_date_and_page_filters_at_the_calendars_ends_are_refused_not_500(
    console: ConsoleClient,
) -> None:
    for params in (
        {"until": "9999-12-31"},
        {"since": "0001-01-01"},
        {"page": str(10**20)},
        {"page": str(2**62)},
        {"since": "1900-01-01"},
    ):
        api = await console.api("GET", "/admin/api/conversations", params=params)
        assert api.status_code == 422, (params, api.text)
        page = await console.client.get("/admin/conversations", params=params)
        assert page.status_code == 422, (params, page.status_code)
    faq_page = await console.client.get("/admin/faq", params={"page": str(10**20)})
    assert faq_page.status_code == 422


async def test_the_login_limit_says_when_to_retry(anonymous: ConsoleClient) -> None:
    last = None
    for _ in range(12):
        page = await anonymous.client.get("/admin/login")
        last = await anonymous.client.post(
            "/admin/login", content=f"key=guess&csrf_token={form_token(page.text)}", headers=FORM
        )
    assert last is not None and last.status_code == 429
    assert int(last.headers["retry-after"]) >= 1


async def test_entries_whose_id_holds_a_slash_can_be_reached_and_deleted(
    console: ConsoleClient,
) -> None:
    entry = {"id": "billing/refund", "question": "환불은 어떻게 하나요?", "answer": "앱에서요."}
    admin = {"Authorization": f"Bearer {KEY}"}
    created = await console.client.post("/v1/admin/faq/entries", json=entry, headers=admin)
    assert created.status_code == 201
    got = await console.client.get("/v1/admin/faq/entries/billing/refund", headers=admin)
    assert got.status_code == 200 and got.json()["id"] == "billing/refund"
    via_console = await console.api("GET", "/admin/api/faq/entries/billing%2Frefund")
    assert via_console.status_code == 200
    page = await console.client.get("/admin/faq/entries/billing/refund")
    assert page.status_code == 200
    deleted = await console.api("DELETE", "/admin/api/faq/entries/billing/refund")
    assert deleted.status_code == 204
    gone = await console.client.get("/v1/admin/faq/entries/billing/refund", headers=admin)
    assert gone.status_code == 404


async def test_faq_links_and_images_must_not_be_script(console: ConsoleClient) -> None:
    admin = {"Authorization": f"Bearer {KEY}"}
    for link, image in (
        ({"url": "javascript:alert(document.cookie)"}, None),
        ({"url": " JaVa\tScRiPt:alert(1)"}, None),
        ({"url": "data:text/html,<script>alert(1)</script>"}, None),
        (None, {"url": "javascript:alert(1)"}),
        (None, {"url": "hanbit://img/1.png"}),
    ):
        entry = {"id": "x", "question": "질문", "answer": "답", "link": link, "image": image}
        r = await console.client.post("/v1/admin/faq/entries", json=entry, headers=admin)
        assert r.status_code == 422, (link, image, r.text)
        field = r.json()["error"]["fields"][0]["field"]
        assert field in ("link.url", "image.url"), field
        r = await console.api("POST", "/admin/api/faq/entries", json=entry)
        assert r.status_code == 422, (link, image, r.text)
    deep_link = {"id": "x", "question": "질문", "answer": "답", "link": {"url": "tel:15880000"}}
    r = await console.client.post("/v1/admin/faq/entries", json=deep_link, headers=admin)
    assert r.status_code == 201
