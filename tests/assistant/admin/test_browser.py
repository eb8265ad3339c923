"""The console in a real browser: headless Chromium (Debian's `chromium` and
`chromium-driver`, driven by Selenium; nothing is downloaded at run time) against a real
server. Log in, create an FAQ entry and see the bot answer with it in the preview; turn a
cluster of unanswered questions into alternative questions and see them answered; visit every
main screen. Screenshots of each screen are kept in `test-artifacts/admin_*.png`.

Skipped with the reason when Chromium is not installed; ASSISTANT_REQUIRE_SERVICES=1 (CI)
makes that a failure.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from assistant.dialogue import Assistant
from assistant.settings import Settings
from tests.live import chromium, serving_app

from .conftest import KEY, copy_bot

ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"
FOG = ["성에 제거 방법", "성에 제거하는 방법"]  # words the FAQ does not use: unanswered


@pytest.fixture
def browser() -> Iterator[Any]:
    with chromium(window="1280,1000", language="ko-KR") as driver:
        yield driver


@contextmanager
def serving(tmp_path: Path, cache: Path) -> Iterator[str]:
    """The server around the console bot, on 127.0.0.1 in a thread of its own."""
    bot = copy_bot(tmp_path / "bot", cache)

    async def build() -> Assistant:
        return await Assistant.create(
            bot_dir=str(bot), database_url=f"sqlite:///{tmp_path / 'console.db'}"
        )

    with serving_app(build, Settings(admin_api_key=KEY)) as base:
        yield base


@contextmanager
def screenshot_on_failure(browser: Any, name: str) -> Iterator[None]:
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        yield
    except BaseException:
        browser.save_screenshot(str(ARTIFACTS / f"{name}_failure.png"))
        raise


def shot(browser: Any, name: str) -> None:
    browser.save_screenshot(str(ARTIFACTS / f"admin_{name}.png"))


def log_in(browser: Any, base: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(f"{base}/admin")
    WebDriverWait(browser, 15).until(ec.presence_of_element_located((By.ID, "key")))
    assert browser.current_url.startswith(f"{base}/admin/login")
    shot(browser, "login")
    browser.find_element(By.ID, "key").send_keys("wrong-key")
    browser.find_element(By.ID, "login").click()
    error = WebDriverWait(browser, 15).until(
        ec.visibility_of_element_located((By.ID, "login-error"))
    )
    assert error.text == "키가 맞지 않아요."
    browser.find_element(By.ID, "key").send_keys(KEY)
    browser.find_element(By.ID, "login").click()
    WebDriverWait(browser, 15).until(ec.presence_of_element_located((By.ID, "logout")))
    assert browser.current_url == f"{base}/admin"


def preview(browser: Any, text: str) -> tuple[str, str, str]:
    """Ask the preview on the current page; (outcome, route, reply)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    box = browser.find_element(By.ID, "preview-text")
    box.clear()
    box.send_keys(text)
    result = browser.find_element(By.ID, "preview-result")
    browser.execute_script("arguments[0].removeAttribute('data-route')", result)
    browser.find_element(By.ID, "preview-run").click()
    WebDriverWait(browser, 15).until(lambda d: result.get_attribute("data-route"))
    browser.execute_script("arguments[0].scrollIntoView()", result)
    return (
        str(result.get_attribute("data-outcome")),
        str(result.get_attribute("data-route")),
        browser.find_element(By.ID, "preview-reply").text,
    )


def severe_errors(browser: Any) -> list[Any]:
    """Errors in the browser's console, but for the 401 of the wrong key tried on purpose."""
    return [
        e
        for e in browser.get_log("browser")
        if e.get("level") == "SEVERE"
        and "/admin/login - Failed to load resource" not in e["message"]
    ]


def test_create_an_entry_and_see_it_answer_in_the_preview(
    browser: Any, tmp_path: Path, fusion_cache: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 20)
    with serving(tmp_path, fusion_cache) as base, screenshot_on_failure(browser, "admin_faq"):
        log_in(browser, base)
        shot(browser, "dashboard")
        browser.find_element(By.ID, "nav-faq").click()
        wait.until(ec.presence_of_element_located((By.ID, "faq-table")))
        assert preview(browser, "세차는 어디서 할 수 있나요?")[1] != "faq:wash"
        browser.execute_script("window.scrollTo(0, 0)")
        shot(browser, "faq")

        browser.find_element(By.ID, "faq-new").click()
        wait.until(ec.presence_of_element_located((By.ID, "entry-form")))
        browser.find_element(By.ID, "entry-id").send_keys("wash")
        browser.find_element(By.ID, "entry-question").send_keys("세차는 어디서 할 수 있나요?")
        browser.find_element(By.ID, "entry-alternatives").send_keys(
            "세차장 위치 알려주세요\n세차 어디서 해요"
        )
        browser.find_element(By.ID, "entry-answer").send_keys(
            "전국 서비스센터에서 점검 고객께 무료 세차를 해 드립니다."
        )
        browser.find_element(By.ID, "entry-category").send_keys("서비스센터")
        browser.find_element(By.ID, "entry-save").click()
        wait.until(ec.visibility_of_element_located((By.ID, "saved")))
        assert "/admin/faq/entries/wash" in browser.current_url
        assert browser.find_element(By.ID, "entry-alternatives").get_attribute("value") == (
            "세차장 위치 알려주세요\n세차 어디서 해요"
        )

        # the preview is filled with the entry's question: the bot answers with it now
        outcome, route, reply = preview(browser, "세차는 어디서 할 수 있나요?")
        assert (outcome, route) == ("answer", "faq:wash")
        assert reply == "전국 서비스센터에서 점검 고객께 무료 세차를 해 드립니다."
        chosen = browser.find_elements(By.CSS_SELECTOR, "#preview-candidates tr.chosen td")
        assert [c.text for c in chosen][:2] == ["faq", "faq:wash"]
        shot(browser, "faq_entry_preview")
        assert preview(browser, "세차장 위치 알려주세요")[1] == "faq:wash"
        # and a real turn too
        r = httpx.post(
            f"{base}/v1/chat", json={"session_id": "b1", "text": "세차 어디서 해요"}, timeout=30
        )
        assert r.json()["route"] == "faq:wash"
        assert severe_errors(browser) == []


def test_a_cluster_of_unanswered_questions_becomes_alternatives(
    browser: Any, tmp_path: Path, fusion_cache: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import Select, WebDriverWait

    wait = WebDriverWait(browser, 20)
    with serving(tmp_path, fusion_cache) as base, screenshot_on_failure(browser, "admin_learning"):
        for n, text in enumerate([*FOG, FOG[0], "오늘 점심 뭐 먹지"]):
            r = httpx.post(
                f"{base}/v1/chat", json={"session_id": f"u{n}", "text": text}, timeout=30
            )
            assert r.json()["route"] in ("clarify", "fallback")
        httpx.post(
            f"{base}/v1/feedback",
            json={"session_id": "u3", "turn": 1, "rating": "down"},
            timeout=30,
        )
        log_in(browser, base)
        browser.find_element(By.ID, "nav-learning").click()
        cluster = wait.until(
            ec.presence_of_element_located(
                (By.XPATH, f"//section[contains(@class,'cluster')][.//input[@value='{FOG[0]}']]")
            )
        )
        questions = [q.get_attribute("value") for q in cluster.find_elements(By.NAME, "questions")]
        assert sorted(questions) == sorted(FOG)
        entry = Select(cluster.find_element(By.NAME, "entry_id"))
        assert len(entry.options) >= 3  # the suggestions first, then the other entries
        entry.select_by_value("defog")
        shot(browser, "learning")

        cluster.find_element(By.CSS_SELECTOR, "button.add-alternatives").click()
        wait.until(lambda d: cluster.get_attribute("data-done") == "defog")
        assert "유사 질문 2개를 추가했어요" in cluster.find_element(By.CSS_SELECTOR, ".status").text
        shot(browser, "learning_done")

        # answered afterwards, in the preview of the entry the link opens
        cluster.find_element(By.CSS_SELECTOR, "a.check-link").click()
        wait.until(ec.presence_of_element_located((By.ID, "entry-form")))
        alternatives = (
            browser.find_element(By.ID, "entry-alternatives").get_attribute("value") or ""
        )
        assert all(q in alternatives.splitlines() for q in FOG)
        for question in FOG:
            outcome, route, _ = preview(browser, question)
            assert (outcome, route) == ("answer", "faq:defog"), question
        browser.refresh()
        browser.get(f"{base}/admin/learning")
        wait.until(ec.presence_of_element_located((By.ID, "learning-filters")))
        assert not browser.find_elements(By.XPATH, f"//input[@value='{FOG[0]}']")
        assert severe_errors(browser) == []


def test_every_main_screen(browser: Any, tmp_path: Path, fusion_cache: Path) -> None:
    """Upload a document and follow its re-index, run an evaluation and open its confusion
    view, read a conversation: a screenshot of each screen."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 30)
    files = tmp_path / "files"
    files.mkdir()
    document = files / "wash.ko.md"
    document.write_text(
        "# 세차\n\n서비스센터의 실내 세차 요금은 5,000원입니다.\n", encoding="utf-8"
    )
    queries = files / "queries.jsonl"
    queries.write_text(
        "".join(
            json.dumps(q, ensure_ascii=False) + "\n"
            for q in [
                {"text": "서비스센터 몇 시까지 해요?", "expected_id": "hours"},
                {"text": "무상 보증 몇 년이에요?", "expected_id": "warranty"},
                {"text": "세차는 어디서 할 수 있나요?", "expected_id": None},
                {"text": "앞유리 김서림 제거 방법", "expected_id": "defog"},
            ]
        ),
        encoding="utf-8",
    )
    with serving(tmp_path, fusion_cache) as base, screenshot_on_failure(browser, "admin_tour"):
        for n, text in enumerate(
            [
                "서비스센터 몇 시까지 해요?",
                "오늘 점심 뭐 먹지",
                "앞유리 김서림 제거 방법",
                "안녕하세요",
            ]
        ):
            httpx.post(
                f"{base}/v1/chat",
                json={"session_id": "tour" if n < 3 else "hi", "text": text},
                timeout=30,
            )
        httpx.post(
            f"{base}/v1/feedback",
            json={"session_id": "tour", "turn": 2, "rating": "down", "comment": "엉뚱한 답"},
            timeout=30,
        )
        log_in(browser, base)

        browser.get(f"{base}/admin/documents")
        browser.find_element(By.ID, "upload-file").send_keys(str(document))
        browser.find_element(By.ID, "upload").click()
        wait.until(lambda d: d.find_element(By.ID, "job").get_attribute("data-state") == "done")
        wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "tr[data-document='wash.ko']")))
        shot(browser, "documents")

        browser.get(f"{base}/admin/rules")
        browser.find_element(By.ID, "rules-check").click()
        wait.until(
            lambda d: d.find_element(By.ID, "rules-result").get_attribute("data-problems") == "0"
        )
        shot(browser, "rules")

        browser.get(f"{base}/admin/conversations?negative=1")
        rows = browser.find_elements(By.CSS_SELECTOR, "#sessions-table tr[data-session]")
        assert [r.get_attribute("data-session") for r in rows] == ["tour"]
        shot(browser, "conversations")
        rows[0].find_element(By.TAG_NAME, "a").click()
        wait.until(ec.presence_of_element_located((By.ID, "turns")))
        turns = browser.find_elements(By.CSS_SELECTOR, "#turns li.turn")
        assert [t.get_attribute("data-seq") for t in turns] == ["1", "2", "3"]
        assert "엉뚱한 답" in turns[1].text
        shot(browser, "session")

        browser.get(f"{base}/admin/quality")
        for name in ("before", "after"):
            form = browser.find_element(By.ID, "eval-form")
            form.find_element(By.NAME, "name").send_keys(name)
            form.find_element(By.NAME, "content").send_keys(str(queries))
            form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
            wait.until(lambda d: "/admin/quality/runs/" in d.current_url)
            wait.until(ec.presence_of_element_located((By.ID, "run-metrics")))
            if name == "before":
                cells = browser.find_elements(By.CSS_SELECTOR, "#confusion a[data-cell]")
                assert cells, "a confusion view with cells to open"
                shot(browser, "run_confusion")
                cells[0].click()
                wait.until(ec.presence_of_element_located((By.ID, "cell-rows")))
                assert browser.find_elements(By.CSS_SELECTOR, "#cell-rows tbody tr")
                shot(browser, "run_cell")
                browser.get(f"{base}/admin/quality")
        browser.get(f"{base}/admin/quality")
        assert len(browser.find_elements(By.CSS_SELECTOR, "#runs-table tr[data-run]")) == 2
        assert len(browser.find_elements(By.CSS_SELECTOR, "#rates svg polyline")) == 4
        shot(browser, "quality")
        browser.find_element(By.ID, "compare").click()
        wait.until(ec.presence_of_element_located((By.ID, "compare-metrics")))
        shot(browser, "compare")

        browser.get(f"{base}/admin/faq?lang=en")
        wait.until(ec.presence_of_element_located((By.ID, "faq-table")))
        assert browser.find_element(By.ID, "nav-faq").text == "FAQ"
        assert browser.find_element(By.ID, "logout").text == "Log out"
        shot(browser, "faq_english")
        assert severe_errors(browser) == []
