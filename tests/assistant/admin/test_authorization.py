"""Every console action and page refuses a request without the admin key, with a wrong one,
or (with the session cookie) without the session's CSRF token; with no admin key configured
the console is disabled, never open."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from assistant.admin.security import SESSION_COOKIE, ConsoleSessions, Session
from assistant.store.console_sessions import ConsoleSessionStore, new_token
from assistant.store.keys import ApiKeyStore

from .conftest import KEY, ConsoleClient, open_console

HOURS = {"id": "hours", "question": "서비스센터 영업시간이 어떻게 되나요?", "answer": "9시부터요."}
NEW = {"id": "wash", "question": "세차는 어디서 하나요?", "answer": "서비스센터에서 합니다."}

#: (method, path, body) of every action of the console's API
ACTIONS: list[tuple[str, str, Any]] = [
    ("GET", "/admin/api/faq/entries", None),
    ("GET", "/admin/api/faq/entries/hours", None),
    ("POST", "/admin/api/faq/entries", NEW),
    ("PUT", "/admin/api/faq/entries/hours", HOURS),
    ("DELETE", "/admin/api/faq/entries/hours", None),
    (
        "POST",
        "/admin/api/faq/import",
        {"format": "csv", "content": "id,question,answer\nx,질문,답\n"},
    ),
    ("GET", "/admin/api/faq/export?format=csv", None),
    ("POST", "/admin/api/preview", {"text": "서비스센터 몇 시까지 해요?"}),
    ("GET", "/admin/api/rules", None),
    ("POST", "/admin/api/rules/check", {}),
    ("GET", "/admin/api/documents", None),
    (
        "POST",
        "/admin/api/documents",
        {"filename": "wash.ko.md", "content": "# 세차\n\n무료입니다.\n"},
    ),
    ("DELETE", "/admin/api/documents/manual", None),
    ("POST", "/admin/api/documents/reindex", {}),
    ("GET", "/admin/api/jobs/0123456789abcdef", None),
    ("GET", "/admin/api/conversations", None),
    ("GET", "/admin/api/conversations/s1", None),
    ("GET", "/admin/api/learning", None),
    (
        "POST",
        "/admin/api/learning/alternatives",
        {"entry_id": "hours", "questions": ["몇 시에 열어요?"]},
    ),
    ("POST", "/admin/api/learning/entry", {"entry": NEW, "questions": ["세차 어디서 해요"]}),
    ("POST", "/admin/api/learning/dismiss", {"questions": ["아무 말"]}),
    ("GET", "/admin/api/quality/rates", None),
    ("GET", "/admin/api/eval/runs", None),
    ("POST", "/admin/api/eval/runs", {"content": '{"text": "영업시간", "expected_id": "hours"}\n'}),
    ("GET", "/admin/api/eval/runs/abc", None),
    ("GET", "/admin/api/eval/runs/abc/cell?expected=hours&predicted=-", None),
    ("DELETE", "/admin/api/eval/runs/abc", None),
    ("GET", "/admin/api/eval/compare?a=abc&b=def", None),
]
PAGES = [
    "/admin",
    "/admin/faq",
    "/admin/faq/new",
    "/admin/faq/entries/hours",
    "/admin/rules",
    "/admin/documents",
    "/admin/conversations",
    "/admin/conversations/s1",
    "/admin/learning",
    "/admin/quality",
    "/admin/quality/runs/abc",
    "/admin/quality/runs/abc/cell",
    "/admin/quality/compare?a=abc&b=def",
]
CHANGES = {"POST", "PUT", "DELETE"}


async def call(
    client: httpx.AsyncClient, method: str, path: str, body: Any, **kw: Any
) -> httpx.Response:
    return await client.request(method, path, json=body, **kw)


def test_the_list_names_every_action_of_the_api(anonymous: ConsoleClient) -> None:
    """A new action of the API must be added to ACTIONS, so its authorization is tested."""
    values = {"entry_id": "hours", "document_id": "manual", "job_id": "0123456789abcdef",
              "session_id": "s1", "run_id": "abc"}  # fmt: skip
    documented = {
        (method.upper(), path.format(**values))
        for path, operations in anonymous.app.openapi()["paths"].items()
        if path.startswith("/admin/api/")
        for method in operations
    }
    assert documented == {(m, p.split("?")[0]) for m, p, _ in ACTIONS}


async def test_without_a_key_nothing_is_read_or_changed(anonymous: ConsoleClient) -> None:
    for method, path, body in ACTIONS:
        r = await call(anonymous.client, method, path, body)
        assert r.status_code == 401, (method, path, r.text)
        assert r.json()["error"]["code"] == "unauthorized"
    assert len(anonymous.assistant.skills[1][1].faq) == 10  # type: ignore[attr-defined]
    assert "hours" in anonymous.assistant.skills[1][1].faq  # type: ignore[attr-defined]


@pytest.mark.parametrize("header", ["Bearer wrong-key", f"Basic {KEY}", "Bearer ", KEY])
async def test_a_wrong_key_is_refused(anonymous: ConsoleClient, header: str) -> None:
    for method, path, body in ACTIONS:
        r = await call(anonymous.client, method, path, body, headers={"Authorization": header})
        assert r.status_code == 401, (method, path, r.text)
    assert "hours" in anonymous.assistant.skills[1][1].faq  # type: ignore[attr-defined]


async def test_the_admin_key_or_a_stored_admin_key_is_let_in(anonymous: ConsoleClient) -> None:
    keys = ApiKeyStore(anonymous.assistant.store.engine)
    stored = (await keys.create("ops", scopes=["admin"])).token
    chat_only = (await keys.create("kakao", scopes=["chat"])).token
    for token in (KEY, stored):
        for method, path, body in ACTIONS:
            if method in CHANGES:
                continue  # the changes are exercised by each screen's own tests
            r = await call(
                anonymous.client, method, path, body, headers={"Authorization": f"Bearer {token}"}
            )
            assert r.status_code in (200, 404), (method, path, r.text)
    r = await anonymous.client.get(
        "/admin/api/faq/entries", headers={"Authorization": f"Bearer {chat_only}"}
    )
    assert r.status_code == 401


async def test_a_session_without_its_csrf_token_cannot_change_anything(
    console: ConsoleClient,
) -> None:
    someone_elses = ConsoleSessions.csrf_token(Session(token=new_token(), key_id=None))
    for token in (None, "", "forged", someone_elses):
        headers = {} if token is None else {"X-CSRF-Token": token}
        for method, path, body in ACTIONS:
            r = await call(console.client, method, path, body, headers=headers)
            if method in CHANGES:
                assert r.status_code == 403, (method, path, r.text)
                assert r.json()["error"]["code"] == "csrf_failed"
            else:
                assert r.status_code in (200, 404), (method, path, r.text)
    assert "hours" in console.assistant.skills[1][1].faq  # type: ignore[attr-defined]
    assert "wash" not in console.assistant.skills[1][1].faq  # type: ignore[attr-defined]
    # with the token the same session may change things
    r = await console.api("POST", "/admin/api/faq/entries", json=NEW)
    assert r.status_code == 201


async def test_forged_or_expired_session_cookies_are_refused(anonymous: ConsoleClient) -> None:
    store = ConsoleSessionStore(anonymous.assistant.store.engine)
    expired = ConsoleSessions(store, admin_key=KEY, lifetime_s=-60)
    another_server = ConsoleSessions(store, admin_key="another-key")  # same store, other key
    sessions = ConsoleSessions(store, admin_key=KEY, lifetime_s=60)
    valid = await sessions.issue(key_id=None)
    refused = [
        await expired.issue(key_id=None),
        await another_server.issue(key_id=None),
        f"v2.{new_token()}",  # a well-formed cookie the store never issued
        valid[:-2] + "xx",
        "v1.9999999999.abc.def",  # the old signed format
    ]
    for cookie in refused:
        anonymous.client.cookies.set(SESSION_COOKIE, cookie)
        assert (await anonymous.client.get("/admin/api/faq/entries")).status_code == 401
        page = await anonymous.client.get("/admin/faq")
        assert page.status_code == 303
    anonymous.client.cookies.set(SESSION_COOKIE, valid)
    assert (await anonymous.client.get("/admin/api/faq/entries")).status_code == 200


async def test_pages_ask_for_a_login(anonymous: ConsoleClient) -> None:
    for path in PAGES:
        r = await anonymous.client.get(path)
        assert r.status_code == 303, path
        assert r.headers["location"].startswith("/admin/login?next=%2Fadmin")


async def test_without_an_admin_key_the_console_is_disabled(
    tmp_path: Path, fusion_cache: Path
) -> None:
    assistant, app = await open_console(tmp_path, fusion_cache, admin_key=None)
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            for method, path, body in ACTIONS:
                for headers in (
                    {},
                    {"Authorization": f"Bearer {KEY}"},
                    {"Authorization": "Bearer "},
                ):
                    r = await call(client, method, path, body, headers=headers)
                    assert r.status_code == 403, (method, path)
                    assert r.json()["error"]["code"] == "admin_disabled"
            for path in [*PAGES, "/admin/login"]:
                r = await client.get(path)
                assert r.status_code == 403 and "ASSISTANT_ADMIN_API_KEY" in r.text, path
            client.cookies.set("assistant_admin_login", "x")
            r = await client.post(
                "/admin/login",
                content=f"key={KEY}&csrf_token=x",
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
            assert r.status_code == 403 and f"{SESSION_COOKIE}=" not in r.headers.get(
                "set-cookie", ""
            )
    finally:
        await assistant.close()
