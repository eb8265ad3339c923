"""Every console page renders in Korean and in English, and every word it uses is in both."""

from __future__ import annotations

import json
import re
import string
from pathlib import Path

import pytest

from assistant.admin.console import Console
from assistant.admin.i18n import MESSAGES, translator
from assistant.admin.pages import TEMPLATES

from .conftest import ConsoleClient

ADMIN = Path(__file__).resolve().parents[3] / "assistant" / "admin"


async def busy(console: ConsoleClient) -> list[str]:
    """Enough activity for every part of every page: turns of each outcome, feedback, an
    upload, two evaluation runs; the paths of the pages."""
    for n, text in enumerate(
        [
            "서비스센터 몇 시까지 해요?",
            "오늘 점심 뭐 먹지",
            "앞유리 김서림 제거 방법",
            "앞유리 김서림 없애는 방법",
        ]
    ):
        await console.chat(text, "s1" if n < 2 else f"s{n}")
    await console.client.post(
        "/v1/feedback", json={"session_id": "s1", "turn": 1, "rating": "down", "comment": "틀려요"}
    )
    state: Console = console.app.state.console
    upload = await console.api(
        "POST",
        "/admin/api/documents",
        json={"filename": "wash.ko.md", "content": "# 세차\n\n요금은 5,000원입니다.\n"},
    )
    await state.jobs.wait(upload.json()["job"]["id"])
    runs = []
    queries = '{"text": "서비스센터 몇 시까지 해요?", "expected_id": "hours"}\n{"text": "오늘 점심 뭐 먹지", "expected_id": "warranty"}\n'
    for name in ("a", "b"):
        r = await console.api(
            "POST", "/admin/api/eval/runs", json={"name": name, "content": queries}
        )
        job = await state.jobs.wait(r.json()["job"]["id"])
        assert job is not None
        runs.append(job.result["run"])
    a, b = runs
    return [
        "/admin",
        "/admin/faq",
        "/admin/faq?q=충전&category=충전&page=1",
        "/admin/faq/new?question=세차는 어디서 해요",
        "/admin/faq/entries/hours",
        "/admin/faq/entries/hours?saved=1",
        "/admin/rules",
        "/admin/documents",
        "/admin/conversations",
        "/admin/conversations?fallback=1&negative=1&below=0.5&route=faq:*",
        "/admin/conversations/s1",
        "/admin/learning",
        "/admin/quality",
        f"/admin/quality/runs/{a}",
        f"/admin/quality/runs/{a}/cell?expected=warranty&predicted=-",
        f"/admin/quality/compare?a={a}&b={b}",
    ]


@pytest.mark.parametrize("locale", ["ko", "en"])
async def test_every_page_in_both_languages(console: ConsoleClient, locale: str) -> None:
    t = translator(locale)
    for path in await busy(console):
        page = await console.client.get(path + ("&" if "?" in path else "?") + f"lang={locale}")
        assert page.status_code == 200, (path, page.text[-2000:])
        assert f'<html lang="{locale}">' in page.text
        assert t("console.logout") in page.text
        messages = re.search(
            r'<script type="application/json" id="messages">(.*?)</script>', page.text, re.S
        )
        assert messages and json.loads(messages.group(1))["js.saved"] == t("js.saved")
    learning = await console.client.get("/admin/learning")
    assert t("learning.add") in learning.text and "오늘 점심 뭐 먹지" in learning.text
    dashboard = await console.client.get("/admin")
    assert t("dashboard.open_questions") in dashboard.text
    missing = await console.client.get("/admin/faq/entries/nope")
    assert missing.status_code == 404 and t("error.title") in missing.text


async def test_the_language_is_remembered_and_read_from_the_browser(console: ConsoleClient) -> None:
    english = await console.client.get("/admin/faq", params={"lang": "en"})
    assert "assistant_admin_lang=en" in english.headers["set-cookie"]
    assert 'lang="en"' in (await console.client.get("/admin/faq")).text
    console.client.cookies.delete("assistant_admin_lang", path="/admin")
    assert (
        'lang="en"'
        in (await console.client.get("/admin", headers={"Accept-Language": "en-US,en"})).text
    )
    assert (
        'lang="ko"'
        in (await console.client.get("/admin", headers={"Accept-Language": "ko-KR"})).text
    )
    assert (
        'lang="ko"' in (await console.client.get("/admin", headers={"Accept-Language": "fr"})).text
    )


def used_keys() -> set[str]:
    keys: set[str] = set()
    for template in TEMPLATES.glob("*.html"):
        keys.update(re.findall(r"\bt\('([a-z0-9_.]+)'", template.read_text(encoding="utf-8")))
    for module in ADMIN.glob("*.py"):
        keys.update(re.findall(r'\bt\("([a-z0-9_.]+)"', module.read_text(encoding="utf-8")))
        keys.update(re.findall(r'title="([a-z]+\.[a-z0-9_]+)"', module.read_text(encoding="utf-8")))
    script = (ADMIN / "static" / "console.js").read_text(encoding="utf-8")
    keys.update(re.findall(r'fmt\("([a-z0-9_.]+)"', script))
    keys.update(re.findall(r'T\["([a-z0-9_.]+)"\]', script))
    return keys


def test_every_word_is_there_in_both_languages() -> None:
    keys = used_keys()
    prefixes = {k for k in keys if k.endswith((".", "_"))}  # t('outcome.' ~ x): pages test them
    assert len(keys) > 150
    assert keys - prefixes - set(MESSAGES) == set()
    assert all(any(m.startswith(p) for m in MESSAGES) for p in prefixes)
    fields = string.Formatter()
    for key, (korean, english) in MESSAGES.items():
        assert korean.strip() and english.strip(), key
        named = [{f for _, f, _, _ in fields.parse(text) if f} for text in (korean, english)]
        assert named[0] == named[1], key
