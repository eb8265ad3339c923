from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI, Request

from assistant.api.faq_admin import faq_admin_router
from faq_index.faq import FaqIndex
from faq_index.formats import load_entries

DATA = Path(__file__).parents[1] / "faq_index" / "data"
KEY = "s3cret-key"
AUTH = {"Authorization": f"Bearer {KEY}"}


@pytest.fixture
def faq() -> FaqIndex:
    return FaqIndex(load_entries(DATA / "mini.yaml"))


def client_of(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://admin")


def client_for(faq: FaqIndex, key: str | None = KEY) -> httpx.AsyncClient:
    def resolve(_: Request, skill: str) -> FaqIndex | None:
        return faq if skill == "faq" else None

    app = FastAPI()
    app.include_router(faq_admin_router(resolve, api_key=key or ""))
    return client_of(app)


async def test_disabled_without_a_key(faq: FaqIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ASSISTANT_ADMIN_API_KEY", raising=False)
    client = client_for(faq, key=None)
    response = await client.get("/v1/admin/faq/entries", headers={"Authorization": "Bearer "})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "admin_disabled"


async def test_key_from_the_environment(faq: FaqIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_ADMIN_API_KEY", "from-env")
    app = FastAPI()
    app.include_router(faq_admin_router(lambda _r, _s: faq))
    client = client_of(app)
    ok = await client.get("/v1/admin/faq/entries", headers={"Authorization": "Bearer from-env"})
    assert ok.status_code == 200


@pytest.mark.parametrize("header", [None, "Bearer wrong", f"Basic {KEY}", KEY])
async def test_wrong_or_missing_key_is_refused(faq: FaqIndex, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    response = await client_for(faq).delete("/v1/admin/faq/entries/hours", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert "hours" in faq


async def test_list_filter_and_export(faq: FaqIndex) -> None:
    client = client_for(faq)
    listed = (await client.get("/v1/admin/faq/entries", headers=AUTH, params={"limit": 2})).json()
    assert listed["total"] == 8 and len(listed["entries"]) == 2
    charging = await client.get("/v1/admin/faq/entries", headers=AUTH, params={"category": "충전"})
    assert [e["id"] for e in charging.json()["entries"]] == ["charging"]
    exported = await client.get("/v1/admin/faq/entries", headers=AUTH, params={"format": "csv"})
    assert exported.text.startswith("id,question,answer")


async def test_create_get_update_delete(faq: FaqIndex) -> None:
    client = client_for(faq)
    entry = {"id": "wash", "question": "세차는 어디서 하나요?", "answer": "지점에서 합니다."}
    assert (await client.post("/v1/admin/faq/entries", json=entry, headers=AUTH)).status_code == 201
    assert (await client.post("/v1/admin/faq/entries", json=entry, headers=AUTH)).status_code == 409
    assert faq.search("세차 어디서 해요")[0].entry.id == "wash"
    got = (await client.get("/v1/admin/faq/entries/wash", headers=AUTH)).json()
    assert got["answer"] == "지점에서 합니다."
    changed = {**entry, "answer": "모든 서비스센터에서 합니다."}
    assert (
        await client.put("/v1/admin/faq/entries/wash", json=changed, headers=AUTH)
    ).status_code == 200
    assert faq.get("wash").answer == "모든 서비스센터에서 합니다."
    mismatch = await client.put("/v1/admin/faq/entries/other", json=changed, headers=AUTH)
    assert mismatch.status_code == 422
    assert (await client.delete("/v1/admin/faq/entries/wash", headers=AUTH)).status_code == 204
    assert (await client.get("/v1/admin/faq/entries/wash", headers=AUTH)).status_code == 404
    assert "wash" not in faq


async def test_invalid_entry_body_is_422(faq: FaqIndex) -> None:
    bad = {"id": "x y", "question": "", "answer": "a"}
    assert (
        await client_for(faq).post("/v1/admin/faq/entries", json=bad, headers=AUTH)
    ).status_code == 422


async def test_bulk_import_merges_and_reports_bad_lines(faq: FaqIndex) -> None:
    client = client_for(faq)
    content = "id,question,answer\nhours,영업시간?,9시부터\nnew,새 질문,새 답\n"
    result = (
        await client.post(
            "/v1/admin/faq/import", json={"format": "csv", "content": content}, headers=AUTH
        )
    ).json()
    assert result == {"imported": 2, "created": 1, "updated": 1, "deleted": 0, "total": 9}
    assert faq.get("hours").answer == "9시부터"
    bad = await client.post(
        "/v1/admin/faq/import",
        json={"format": "csv", "content": "id,question,answer\na,q,\n"},
        headers=AUTH,
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["fields"][0]["field"] == "content.line 2"
    assert len(faq) == 9


async def test_bulk_import_can_replace_everything(faq: FaqIndex) -> None:
    content = '{"id": "only", "question": "q", "answer": "a"}\n'
    result = await client_for(faq).post(
        "/v1/admin/faq/import",
        json={"format": "jsonl", "content": content, "replace": True},
        headers=AUTH,
    )
    assert result.json()["deleted"] == 8
    assert [e.id for e in faq.entries] == ["only"]


async def test_search_shows_confidences(faq: FaqIndex) -> None:
    hits = await client_for(faq).get(
        "/v1/admin/faq/search", params={"text": "블루투스 연결", "locale": "ko"}, headers=AUTH
    )
    assert hits.json()[0]["id"] == "bluetooth"


async def test_unknown_skill_is_404(faq: FaqIndex) -> None:
    response = await client_for(faq).get(
        "/v1/admin/faq/entries", params={"skill": "nope"}, headers=AUTH
    )
    assert response.status_code == 404
