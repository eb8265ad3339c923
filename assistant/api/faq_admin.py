"""FAQ management over HTTP: list, get, create, update, delete and bulk-import entries.

Every endpoint needs an admin API key (`Authorization: Bearer <key>`). In the server that is the
server's admin key or a stored key with the admin scope (`assistant.api.auth`); a router used
on its own reads `ASSISTANT_ADMIN_API_KEY` when it is made and compares it in constant time,
and with no key configured answers 403 `admin_disabled`: never open.

Changes go into the live index of the bot's FAQ skill: the index is rebuilt in a worker thread
and swapped in whole, so turns in flight keep searching the previous version and are never
blocked. Changes are kept in memory (they last until the bot is reloaded); export them with
`GET /entries?format=yaml` to keep them in the bot's files.

    from assistant.api.faq_admin import faq_admin_router, faq_of_assistant
    app.include_router(faq_admin_router(faq_of_assistant))   # /v1/admin/faq/...
"""

# No `from __future__ import annotations`: FastAPI reads the annotations of the routes made
# inside `faq_admin_router`, whose dependencies are local names.

import asyncio
import hmac
import os
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import PlainTextResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field
from starlette.responses import JSONResponse, Response

from assistant.api.auth import Auth, AuthError
from assistant.api.errors import FieldProblem, error_response
from assistant.skills.faq import FaqSkill
from faq_index.entry import FaqEntry
from faq_index.errors import DuplicateEntryError, EntryImportError, UnknownEntryError
from faq_index.faq import FaqIndex
from faq_index.formats import Format, dump_entries, parse_entries

__all__ = [
    "ADMIN_KEY_ENV",
    "ImportResult",
    "apply_import",
    "faq_admin_router",
    "faq_of_assistant",
    "import_refusal",
]

ADMIN_KEY_ENV = "ASSISTANT_ADMIN_API_KEY"
FaqResolver = Callable[[Request, str], FaqIndex | None]


def faq_of_assistant(request: Request, skill: str) -> FaqIndex | None:
    """The index of the FAQ skill named `skill` of the app's `Assistant` (app.state.assistant)."""
    assistant = getattr(request.app.state, "assistant", None)
    for spec, built in getattr(assistant, "skills", []):
        if spec.name == skill and isinstance(built, FaqSkill):
            return built.faq
    return None


class EntryList(BaseModel):
    total: int
    entries: list[FaqEntry]


class ImportRequest(BaseModel):
    format: Format
    content: str = Field(min_length=1, description="the file's text")
    replace: bool = Field(default=False, description="drop entries not in the file")


class ImportResult(BaseModel):
    imported: int
    created: int
    updated: int
    deleted: int
    total: int


class SearchHit(BaseModel):
    id: str
    question: str
    confidence: float
    score: float


def import_refusal(error: EntryImportError) -> JSONResponse:
    """422 naming every bad line of an imported file (`content.line N`)."""
    problems = [
        FieldProblem(field=f"content.line {p.line}" if p.line else "content", problem=p.message)
        for p in error.problems
    ]
    return error_response(422, "invalid_entries", problems, str(error))


async def apply_import(faq: FaqIndex, entries: list[FaqEntry], *, replace: bool) -> ImportResult:
    """Add or update `entries` (and, with `replace`, drop the others) in one change."""
    before = {e.id for e in faq.entries}
    given = {e.id for e in entries}
    if replace:
        await asyncio.to_thread(faq.reset, entries)
        deleted = len(before - given)
    else:
        merged = {e.id: e for e in faq.entries} | {e.id: e for e in entries}
        await asyncio.to_thread(faq.reset, merged.values())
        deleted = 0
    return ImportResult(
        imported=len(entries),
        created=len(given - before),
        updated=len(given & before),
        deleted=deleted,
        total=len(faq),
    )


def _refuse(status: int, code: str, field: str, problem: str, **headers: str) -> JSONResponse:
    return error_response(status, code, [FieldProblem(field=field, problem=problem)], None, headers)


class _Refusal(Exception):
    """Raised by the router's dependencies; its route class answers with `response`."""

    def __init__(self, response: JSONResponse) -> None:
        self.response = response


class _AdminRoute(APIRoute):
    """Turns a `_Refusal` (bad key, disabled API, unknown skill) into its JSON error, so the
    router needs no exception handler on the app."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await original(request)
            except _Refusal as refusal:
                return refusal.response

        return handler


def faq_admin_router(
    resolve: FaqResolver = faq_of_assistant,
    *,
    api_key: str | None = None,
    prefix: str = "/v1/admin/faq",
) -> APIRouter:
    """The admin router; `api_key` defaults to $ASSISTANT_ADMIN_API_KEY (empty: disabled)."""
    key = api_key if api_key is not None else os.environ.get(ADMIN_KEY_ENV, "")
    expected = key.encode()

    async def authorize(request: Request) -> None:
        auth: Auth | None = getattr(request.app.state, "auth", None)
        if auth is not None:  # in the server: its admin key or a stored key with the admin scope
            try:
                await auth.check(request.headers.get("authorization"), "admin")
            except AuthError as e:
                raise _Refusal(e.response()) from e
            return
        if not expected:
            raise _Refusal(
                _refuse(
                    403,
                    "admin_disabled",
                    "authorization",
                    f"the admin API is disabled: set {ADMIN_KEY_ENV} to enable it",
                )
            )
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), expected):
            raise _Refusal(
                _refuse(
                    401,
                    "unauthorized",
                    "authorization",
                    "send the admin API key as 'Authorization: Bearer <key>'",
                    **{"WWW-Authenticate": "Bearer"},
                )
            )

    def index_of(request: Request, skill: str) -> FaqIndex:
        found = resolve(request, skill)
        if found is None:
            raise _Refusal(
                _refuse(404, "not_found", "skill", f"the bot has no FAQ skill named {skill!r}")
            )
        return found

    Skill = Annotated[str, Query(description="name of the FAQ skill in bot.yaml")]

    async def guarded(
        request: Request, skill: Skill = "faq"
    ) -> FaqIndex:  # dependency: auth first, then the index
        await authorize(request)
        return index_of(request, skill)

    Faq = Annotated[FaqIndex, Depends(guarded)]
    router = APIRouter(prefix=prefix, tags=["faq admin"], route_class=_AdminRoute)

    def unknown(entry_id: str) -> JSONResponse:
        return _refuse(404, "not_found", "id", f"no FAQ entry has id {entry_id!r}")

    @router.get("/entries", response_model=EntryList)
    async def list_entries(
        faq: Faq,
        category: str | None = None,
        q: Annotated[str | None, Query(description="substring of question or answer")] = None,
        offset: Annotated[int, Query(ge=0)] = 0,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        format: Format | None = None,
    ) -> Any:
        """Entries in order, filtered by category or text; `format` exports them as a file."""
        entries = faq.entries
        if category is not None:
            entries = [e for e in entries if e.category == category]
        if q:
            needle = q.lower()
            entries = [
                e
                for e in entries
                if needle in e.answer.lower() or any(needle in t.lower() for t in e.questions)
            ]
        if format is not None:
            return PlainTextResponse(dump_entries(entries, format))
        return EntryList(total=len(entries), entries=entries[offset : offset + limit])

    @router.get("/entries/{entry_id:path}", response_model=FaqEntry)
    async def get_entry(entry_id: str, faq: Faq) -> Any:
        try:
            return faq.get(entry_id)
        except UnknownEntryError:
            return unknown(entry_id)

    @router.post("/entries", response_model=FaqEntry, status_code=201)
    async def create_entry(entry: FaqEntry, faq: Faq) -> Any:
        try:
            await asyncio.to_thread(faq.add, entry)
        except DuplicateEntryError as e:
            return _refuse(409, "conflict", "id", str(e))
        return entry

    @router.put("/entries/{entry_id:path}", response_model=FaqEntry)
    async def put_entry(entry_id: str, entry: FaqEntry, faq: Faq, response: Response) -> Any:
        """Replace an entry, or create it; the id in the path and in the body must agree."""
        if entry.id != entry_id:
            return _refuse(422, "invalid_request", "id", f"body id {entry.id!r} != {entry_id!r}")
        created = await asyncio.to_thread(faq.upsert, entry)
        response.status_code = 201 if created else 200
        return entry

    @router.delete("/entries/{entry_id:path}", status_code=204)
    async def delete_entry(entry_id: str, faq: Faq) -> Response:
        try:
            await asyncio.to_thread(faq.delete, entry_id)
        except UnknownEntryError:
            return unknown(entry_id)
        return Response(status_code=204)

    @router.post("/import", response_model=ImportResult)
    async def import_entries(body: ImportRequest, faq: Faq) -> Any:
        """Add or update every entry of a file (JSONL, CSV, YAML or Rasa); all or nothing."""
        try:
            entries = parse_entries(body.content, body.format, "content")
        except EntryImportError as e:
            return import_refusal(e)
        return await apply_import(faq, entries, replace=body.replace)

    @router.get("/search", response_model=list[SearchHit])
    async def search(
        faq: Faq, text: str, locale: str | None = None, k: Annotated[int, Query(ge=1, le=50)] = 5
    ) -> Any:
        """What the FAQ skill would find for a text, with calibrated confidences."""
        hits = await asyncio.to_thread(faq.search, text, k, locale=locale)
        return [
            SearchHit(
                id=h.entry.id, question=h.entry.question, confidence=h.confidence, score=h.score
            )
            for h in hits
        ]

    return router
