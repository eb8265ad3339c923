"""The web chat page end to end, in headless Chromium (Debian's `chromium` and
`chromium-driver`, driven by Selenium; nothing is downloaded at run time): open `/chat`, send
a message, see the answer and its quick replies, press one, get a card. Screenshots are kept in
`test-artifacts/`.

Skipped with the reason when Chromium is not installed; ASSISTANT_REQUIRE_SERVICES=1 (CI)
makes that a failure.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.live import chromium

from .helpers import serving

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture
def browser() -> Iterator[Any]:
    with chromium() as driver:
        yield driver


@contextmanager
def _screenshot_on_failure(browser: Any) -> Iterator[None]:
    try:
        yield
    except BaseException:
        browser.save_screenshot(str(ARTIFACTS / "web_chat_failure.png"))
        raise


def test_chat_page_shows_the_answer_quick_replies_and_cards(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 15)
    ARTIFACTS.mkdir(exist_ok=True)
    with serving(tmp_path) as base, _screenshot_on_failure(browser):
        browser.get(f"{base}/chat")
        wait.until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-session"))
        assert browser.find_element(By.ID, "status").text == "ready"

        box = browser.find_element(By.ID, "text")
        box.send_keys("영업시간 알려주세요")
        browser.find_element(By.ID, "send").click()

        answer = wait.until(
            ec.visibility_of_element_located(
                (By.XPATH, "//li[contains(@class,'bot')][contains(., '평일 오전 9시')]")
            )
        )
        assert answer.text == "평일 오전 9시부터 오후 6시까지 운영합니다."
        buttons = wait.until(
            ec.visibility_of_all_elements_located((By.CSS_SELECTOR, "#quick .quick-reply"))
        )
        assert [b.text for b in buttons] == ["상담원 연결", "주말 영업"]
        browser.save_screenshot(str(ARTIFACTS / "web_chat_quick_replies.png"))

        box.send_keys("매장 어디예요?")
        browser.find_element(By.ID, "send").click()
        card = wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, "li.card")))
        assert card.find_element(By.TAG_NAME, "h2").text == "강남점"
        links = card.find_elements(By.CSS_SELECTOR, ".card-buttons a, .card-buttons button")
        assert [b.text for b in links] == ["길찾기", "전화하기"]
        assert not browser.find_elements(By.CSS_SELECTOR, "#quick .quick-reply")

        # a pressed quick reply sends its text and shows its label
        box.send_keys("영업시간")
        browser.find_element(By.ID, "send").click()
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#quick .quick-reply")) == 2)
        browser.find_elements(By.CSS_SELECTOR, "#quick .quick-reply")[1].click()
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "li.user")[-1].text == "주말 영업")
        bots = lambda d: d.find_elements(By.CSS_SELECTOR, "li.bot")  # noqa: E731
        wait.until(lambda d: len(bots(d)) >= 3)  # the fallback answers "주말에도 해요?"
        browser.save_screenshot(str(ARTIFACTS / "web_chat.png"))
        errors = [
            entry
            for entry in browser.get_log("browser")
            if entry.get("level") == "SEVERE" and "favicon" not in entry.get("message", "")
        ]
        assert errors == []
