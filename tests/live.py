"""End-to-end helpers shared by the tests: the server app served by uvicorn in a thread of its
own, and headless Chromium (Debian's `chromium` and `chromium-driver`, driven by Selenium;
nothing is downloaded at run time).

Without Chromium a browser test is skipped with the reason; ASSISTANT_REQUIRE_SERVICES=1 (CI)
makes that a failure.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from assistant.dialogue import Assistant
from assistant.server import create_app
from assistant.settings import Settings

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving_app(
    build: Callable[[], Awaitable[Assistant]], settings: Settings, *, start_s: float = 120
) -> Iterator[str]:
    """`create_app(settings)` around the assistant that `build` makes, served on 127.0.0.1 in a
    thread of its own; yields its base URL, and closes the assistant when the server stops."""
    import uvicorn

    port = free_port()
    holder: dict[str, Any] = {}
    failure: list[BaseException] = []

    async def main() -> None:
        assistant = await build()
        try:
            app = create_app(settings, assistant=assistant)
            config = uvicorn.Config(
                app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"
            )
            holder["server"] = server = uvicorn.Server(config)
            await server.serve()
        finally:
            await assistant.close()

    def run() -> None:
        try:
            asyncio.run(main())
        except BaseException as e:  # reported by the test, not lost in the thread
            failure.append(e)

    thread = threading.Thread(target=run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + start_s
    while not (holder.get("server") and holder["server"].started):
        if failure or not thread.is_alive():
            raise AssertionError(f"the server did not start: {failure!r}")
        if time.monotonic() > deadline:
            raise AssertionError(f"the server did not start within {start_s:g} s")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        holder["server"].should_exit = True
        thread.join(timeout=20)
        assert not thread.is_alive(), "the server did not stop within 20 s"
        assert not failure, f"the server failed: {failure!r}"


def _browser_missing(why: str) -> None:
    message = f"headless Chromium not available ({why})"
    if os.environ.get("ASSISTANT_REQUIRE_SERVICES") == "1":
        pytest.fail(message + "; ASSISTANT_REQUIRE_SERVICES=1 makes this a failure")
    pytest.skip(message + "; install Debian's chromium and chromium-driver")


@contextmanager
def chromium(
    *, window: str = "480,800", language: str | None = None, offline: bool = False
) -> Iterator[Any]:
    """A headless Chromium driven by Selenium, with a fresh profile. `offline`: nothing but
    this machine's loopback answers it (no name resolves, every other address goes to a
    proxy that is not there), as on a closed network."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.access(path, os.X_OK):
            _browser_missing(f"{path} not found")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM  # never let Selenium fetch a browser of its own
        for flag in (
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            f"--window-size={window}",
            f"--user-data-dir={profile}",
        ):
            options.add_argument(flag)
        if offline:
            options.add_argument("--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1")
            options.add_argument("--proxy-server=http://127.0.0.1:9")  # loopback goes direct
        if language:
            options.add_argument(f"--lang={language}")
            options.add_experimental_option("prefs", {"intl.accept_languages": language})
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        try:
            driver.set_page_load_timeout(30)
            yield driver
        finally:
            driver.quit()
