"""MRC documents (upload, re-index with progress, delete, kept across restarts) and rule files
(list, check) in the console."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from assistant.admin.console import Console

from .conftest import ConsoleClient, open_console

WASH = "# 세차\n\n서비스센터의 실내 세차 요금은 5,000원입니다.\n"
QUESTION = "실내 세차 요금은 얼마예요?"


async def finished(console: ConsoleClient, started: dict[str, Any]) -> dict[str, Any]:
    state: Console = console.app.state.console
    await state.jobs.wait(started["job"]["id"])
    job = await console.api("GET", f"/admin/api/jobs/{started['job']['id']}")
    body: dict[str, Any] = job.json()
    return body


async def mrc_answer(console: ConsoleClient) -> tuple[str, str] | None:
    """The MRC skill's candidate for the question, if it read one out of the upload."""
    preview = (await console.api("POST", "/admin/api/preview", json={"text": QUESTION})).json()
    for candidate in preview["candidates"]:
        if candidate["skill"] == "mrc" and candidate["route"].startswith("mrc:wash"):
            return candidate["route"], candidate["details"]["answer"]
    return None


async def test_upload_reindex_answer_and_delete(console: ConsoleClient) -> None:
    listed = (await console.api("GET", "/admin/api/documents")).json()
    assert [(d["id"], d["origin"]) for d in listed["documents"]] == [("docs-manual.ko", "bot")]
    assert await mrc_answer(console) is None

    r = await console.api(
        "POST", "/admin/api/documents", json={"filename": "wash.ko.md", "content": WASH}
    )
    assert r.status_code == 202, r.text
    assert r.json()["document"] == "wash.ko"
    job = await finished(console, r.json())
    assert job["state"] == "done" and job["phase"] == "indexing" and job["done"] == job["total"]
    assert job["result"] == {"documents": 2, "passages": 3}
    listed = (await console.api("GET", "/admin/api/documents")).json()
    upload = next(d for d in listed["documents"] if d["id"] == "wash.ko")
    assert (upload["origin"], upload["locale"], upload["passages"]) == ("upload", "ko", 1)
    assert await mrc_answer(console) == ("mrc:wash.ko#0", "5,000원")
    r = await console.api("DELETE", "/admin/api/documents/wash.ko")
    assert r.status_code == 202 and (await finished(console, r.json()))["state"] == "done"
    assert await mrc_answer(console) is None
    assert (await console.api("DELETE", "/admin/api/documents/wash.ko")).status_code == 404


async def test_bad_uploads_are_refused_and_change_nothing(console: ConsoleClient) -> None:
    for filename, content in [
        ("wash.pdf", WASH),  # unknown format
        ("empty.md", "   \n"),  # nothing to read
        ("docs-manual.ko.md", WASH),  # the bot's own document has that id
    ]:
        r = await console.api(
            "POST", "/admin/api/documents", json={"filename": filename, "content": content}
        )
        assert r.status_code == 422, (filename, r.text)
        assert r.json()["error"]["fields"][0]["field"] == "content"
    listed = (await console.api("GET", "/admin/api/documents")).json()
    assert len(listed["documents"]) == 1


async def test_uploads_survive_a_restart(tmp_path: Path, fusion_cache: Path) -> None:
    for round_ in (1, 2):
        assistant, app = await open_console(tmp_path, fusion_cache, name=f"bot{round_}")
        try:
            async with app.router.lifespan_context(app):
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                    console = ConsoleClient(client, app, assistant)
                    await console.login()
                    if round_ == 1:
                        r = await console.api(
                            "POST",
                            "/admin/api/documents",
                            json={"filename": "wash.ko.md", "content": WASH},
                        )
                        await finished(console, r.json())
                    # the second server indexed the stored upload when it started
                    assert await mrc_answer(console) == ("mrc:wash.ko#0", "5,000원")
        finally:
            await assistant.close()


async def test_rule_files_are_listed_and_checked(console: ConsoleClient) -> None:
    files = (await console.api("GET", "/admin/api/rules")).json()["files"]
    assert [(f["skill"], f["file"], f["origin"], f["rules"]) for f in files] == [
        ("smalltalk", "rules/greet.yaml", "bot", 2)
    ]
    checked = (await console.api("POST", "/admin/api/rules/check", json={})).json()
    assert checked == {"checked": 1, "problems": []}
    bad = "rules:\n  - id: a\n    patterns: ['(unclosed']\n    responses: [hi]\n  - id: a\n    patterns: [x]\n    responses: []\n"
    r = (
        await console.api(
            "POST", "/admin/api/rules/check", json={"filename": "new.yaml", "content": bad}
        )
    ).json()
    assert r["ok"] is False and r["file"] == "new.yaml"
    assert {p["rule"] for p in r["problems"]} == {"a"} and len(r["problems"]) >= 2
    good = "<aiml><category><pattern>HELLO</pattern><template>Hi!</template></category></aiml>"
    r = (
        await console.api(
            "POST", "/admin/api/rules/check", json={"filename": "hello.aiml", "content": good}
        )
    ).json()
    assert r["ok"] is True and r["rules"] == 1
    wrong = await console.api(
        "POST", "/admin/api/rules/check", json={"filename": "x.txt", "content": "x"}
    )
    assert wrong.status_code == 422 and wrong.json()["error"]["fields"][0]["field"] == "filename"


async def test_uploads_may_be_larger_than_the_api_body_limit(console: ConsoleClient) -> None:
    big = "# 세차\n\n" + "서비스센터의 실내 세차 요금은 5,000원입니다.\n\n" * 4000  # ~300 KB
    r = await console.api(
        "POST", "/admin/api/documents", json={"filename": "big.ko.md", "content": big}
    )
    assert r.status_code == 202, r.text
    await finished(console, r.json())
    chat = await console.client.post(
        "/v1/chat", json={"session_id": "s", "text": big[:100], "x": big}
    )
    assert chat.status_code == 413  # everywhere else the 64 KiB limit holds
