"""The console's FAQ actions: search, create, edit, delete, import, export, preview."""

from __future__ import annotations

import yaml

from .conftest import ConsoleClient

WASH = {
    "id": "wash",
    "question": "세차는 어디서 할 수 있나요?",
    "alternatives": ["세차장 위치 알려주세요"],
    "answer": "전국 서비스센터에서 무료 세차를 해 드립니다.",
    "category": "서비스센터",
    "locale": "ko",
    "link_url": "https://example.com/wash",
    "link_label": "세차 안내",
}


async def test_search_by_text_category_and_locale(console: ConsoleClient) -> None:
    listed = (await console.api("GET", "/admin/api/faq/entries")).json()
    assert listed["total"] == 10 and "충전" in listed["categories"]
    assert listed["locales"] == ["en", "ko"]
    found = await console.api("GET", "/admin/api/faq/entries", params={"q": "충전"})
    assert [e["id"] for e in found.json()["entries"]] == ["charging", "charging-fee"]
    by_category = await console.api("GET", "/admin/api/faq/entries", params={"category": "보증"})
    assert [e["id"] for e in by_category.json()["entries"]] == ["warranty"]
    english = await console.api("GET", "/admin/api/faq/entries", params={"locale": "en"})
    assert [e["id"] for e in english.json()["entries"]] == ["en-hours", "en-warranty"]


async def test_create_preview_edit_delete(console: ConsoleClient) -> None:
    before = (
        await console.api("POST", "/admin/api/preview", json={"text": WASH["question"]})
    ).json()
    assert before["route"] != "faq:wash"

    created = await console.api("POST", "/admin/api/faq/entries", json=WASH)
    assert created.status_code == 201, created.text
    assert created.json()["link"] == {"url": "https://example.com/wash", "label": "세차 안내"}
    again = await console.api("POST", "/admin/api/faq/entries", json=WASH)
    assert again.status_code == 409 and again.json()["error"]["fields"][0]["field"] == "id"

    preview = (
        await console.api("POST", "/admin/api/preview", json={"text": WASH["question"]})
    ).json()
    assert (preview["outcome"], preview["route"]) == ("answer", "faq:wash")
    assert preview["reply_text"].startswith("전국 서비스센터에서 무료 세차를")
    chosen = [c for c in preview["candidates"] if c["chosen"]]
    assert [c["route"] for c in chosen] == ["faq:wash"] and chosen[0]["passes"]
    assert preview["faq_hits"][0]["id"] == "wash"
    # the real turn answers with it too, and the preview stored nothing
    assert (await console.chat(WASH["question"], "s1"))["route"] == "faq:wash"
    assert await console.assistant.store.get_session("admin-console-preview") is None

    changed = {**WASH, "answer": "가까운 서비스센터에서 세차해 드려요.", "alternatives": []}
    put = await console.api("PUT", "/admin/api/faq/entries/wash", json=changed)
    assert put.status_code == 200 and put.json()["alternatives"] == []
    got = (await console.api("GET", "/admin/api/faq/entries/wash")).json()
    assert got["answer"] == "가까운 서비스센터에서 세차해 드려요."
    mismatch = await console.api("PUT", "/admin/api/faq/entries/other", json=changed)
    assert mismatch.status_code == 422

    assert (await console.api("DELETE", "/admin/api/faq/entries/wash")).status_code == 204
    assert (await console.api("GET", "/admin/api/faq/entries/wash")).status_code == 404
    assert (await console.api("DELETE", "/admin/api/faq/entries/wash")).status_code == 404


async def test_a_bad_entry_is_refused_naming_the_field(console: ConsoleClient) -> None:
    r = await console.api("POST", "/admin/api/faq/entries", json={**WASH, "id": "세차!"})
    assert r.status_code == 422
    assert r.json()["error"]["fields"][0]["field"] == "id"
    r = await console.api("POST", "/admin/api/faq/entries", json={**WASH, "answer": ""})
    assert r.status_code == 422
    assert [f["field"] for f in r.json()["error"]["fields"]] == ["answer"]
    assert (await console.api("GET", "/admin/api/faq/entries/wash")).status_code == 404


async def test_import_all_or_nothing_and_export(console: ConsoleClient) -> None:
    csv = "id,question,answer,locale\nwash,세차는 어디서 하나요?,서비스센터에서 합니다.,ko\nhours,영업시간?,9시부터,ko\n"
    r = await console.api(
        "POST", "/admin/api/faq/import", json={"filename": "new.csv", "content": csv}
    )
    assert r.status_code == 200, r.text
    assert r.json() == {"imported": 2, "created": 1, "updated": 1, "deleted": 0, "total": 11}
    bad = "id,question,answer\nx1,질문,답\n,빈 아이디,답\n"
    r = await console.api(
        "POST", "/admin/api/faq/import", json={"filename": "bad.csv", "content": bad}
    )
    assert r.status_code == 422
    assert [f["field"] for f in r.json()["error"]["fields"]] == ["content.line 3"]
    assert (await console.api("GET", "/admin/api/faq/entries/x1")).status_code == 404
    unknown = await console.api(
        "POST", "/admin/api/faq/import", json={"filename": "a.txt", "content": "x"}
    )
    assert (
        unknown.status_code == 422 and unknown.json()["error"]["fields"][0]["field"] == "filename"
    )

    exported = await console.api("GET", "/admin/api/faq/export", params={"format": "yaml"})
    assert exported.status_code == 200
    assert 'filename="faq.yaml"' in exported.headers["content-disposition"]
    ids = [e["id"] for e in yaml.safe_load(exported.text)["entries"]]
    assert "wash" in ids and len(ids) == 11
    replaced = await console.api(
        "POST",
        "/admin/api/faq/import",
        json={
            "format": "yaml",
            "content": exported.text.replace("id: wash", "id: wash2"),
            "replace": True,
        },
    )
    assert replaced.json()["deleted"] == 1 and replaced.json()["created"] == 1


async def test_preview_of_a_fallback_and_of_bad_input(console: ConsoleClient) -> None:
    preview = (
        await console.api("POST", "/admin/api/preview", json={"text": "오늘 점심 뭐 먹지"})
    ).json()
    assert (preview["outcome"], preview["route"]) == ("fallback", "fallback")
    assert [s["status"] for s in preview["skills"]] == ["ok", "ok", "ok"]
    r = await console.api("POST", "/admin/api/preview", json={"text": "  "})
    assert r.status_code == 422 and r.json()["error"]["fields"][0]["field"] == "text"
    r = await console.api("POST", "/admin/api/preview", json={"text": "hi", "locale": "fr"})
    assert r.status_code == 422 and r.json()["error"]["fields"][0]["field"] == "locale"
