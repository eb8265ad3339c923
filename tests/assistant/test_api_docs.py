"""The API docs at /docs work on a closed network: Swagger UI's script and styles come from the
server itself (fastapi-offline), not from a CDN."""

from __future__ import annotations

from pathlib import Path

import httpx

from assistant.dialogue import Assistant
from assistant.settings import Settings
from tests.live import chromium, serving_app


def light_bot(directory: Path) -> str:
    directory.mkdir()
    (directory / "bot.yaml").write_text("name: docs\nskills: []\n", encoding="utf-8")
    return str(directory)


def test_docs_render_with_the_network_off(tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    bot = light_bot(tmp_path / "bot")
    database = f"sqlite:///{tmp_path / 'docs.db'}"

    async def build() -> Assistant:
        return await Assistant.create(bot_dir=bot, database_url=database)

    with (
        serving_app(build, Settings(database_url=database)) as base,
        chromium(window="1200,900", offline=True) as browser,
    ):
        page = httpx.get(f"{base}/docs").text
        assert "cdn." not in page and "https://" not in page  # nothing fetched from elsewhere

        browser.get(f"{base}/docs")
        wait = WebDriverWait(browser, 30)
        title = wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, ".info .title")))
        assert title.text.startswith("Assistant API")
        wait.until(
            ec.visibility_of_element_located((By.CSS_SELECTOR, "[id^='operations-'][id*='chat']"))
        )
        resources = browser.execute_script(
            "return performance.getEntriesByType('resource').map(r => r.name)"
        )
        assert any(r.endswith(".js") for r in resources)
        assert all(r.startswith(base) for r in resources), resources
