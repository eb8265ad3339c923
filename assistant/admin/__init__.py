"""The admin console at `/admin`: manage FAQ answers, rules and documents, read conversations,
learn from what users asked, and watch quality over time.

    app = create_app(settings)        # calls mount_admin(app, settings)

Server-rendered pages (`pages`) over a JSON API (`api`) that does every action, behind the
admin API key (`security`: login, signed session cookie, CSRF token). What each screen shows
is computed once, in `views`; active learning's clustering is `learning`, MRC document uploads
and re-indexing `documents`, long work with progress `jobs`, charts `charts`, the words in
Korean and English `i18n`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from assistant.admin.api import admin_api_router
from assistant.admin.console import Console
from assistant.admin.documents import libraries_of
from assistant.admin.pages import admin_pages_router
from assistant.settings import Settings
from assistant.store.content import ContentStore, ContentWatcher

__all__ = ["Console", "attach_console", "mount_admin"]

STATIC = Path(__file__).resolve().parent / "static"


def mount_admin(app: FastAPI, settings: Settings) -> None:
    """The console's pages, API and static files on the server's app."""
    app.state.console = Console(settings)
    app.include_router(admin_api_router())
    app.include_router(admin_pages_router())
    app.mount("/admin/static", StaticFiles(directory=STATIC), name="admin-static")


async def attach_console(
    app: FastAPI, assistant: Any, content: ContentStore, watcher: ContentWatcher
) -> None:
    """At start-up: documents uploaded through the console (by any process) are indexed, and
    changes made by other processes are followed."""
    console: Console | None = getattr(app.state, "console", None)
    if console is None:
        return
    libraries = libraries_of(assistant.skills, assistant.bot, content)
    for library in libraries.values():
        await library.watch(watcher)
    console.adopt_libraries(libraries)
