"""The console's JSON API under `/admin/api/`: every action of the console's pages, usable
with an admin key too (`Authorization: Bearer <key>`). Changes made with the console's session
cookie need its CSRF token (`X-CSRF-Token`); see `assistant.admin.security`.

| route | what |
|---|---|
| `GET/POST /faq/entries`, `GET/PUT/DELETE /faq/entries/{id}` | FAQ entries |
| `POST /faq/import`, `GET /faq/export?format=` | bulk import (all or nothing), export |
| `POST /preview` | how a question would be answered now (route, confidence, candidates) |
| `GET /rules`, `POST /rules/check` | rule files; check them all, or a file before deploying it |
| `GET/POST /documents`, `DELETE /documents/{id}`, `POST /documents/reindex` | MRC documents |
| `GET /jobs/{id}` | progress of a re-index or an evaluation run |
| `GET /conversations`, `GET /conversations/{session id}` | filtered sessions; every turn |
| `GET /learning`, `POST /learning/alternatives`, `/learning/entry`, `/learning/dismiss` | active learning |
| `GET /quality/rates` | answer, fallback and hand-off rates by day |
| `GET/POST /eval/runs`, `GET/DELETE /eval/runs/{id}`, `GET /eval/runs/{id}/cell`, `GET /eval/compare` | evaluation runs |
"""

# No `from __future__ import annotations`: FastAPI reads the annotations of these routes.

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import asdict
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import PlainTextResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field
from starlette.responses import Response

from assistant.admin import views
from assistant.admin.console import ConsoleError, api_guard, console_of
from assistant.api.faq_admin import ImportResult, apply_import, import_refusal
from assistant.faq_evaluation import QueryFileError, evaluate_faq, read_queries
from assistant.mrc.errors import DocumentError
from assistant.store.eval_runs import EvalRun, EvalRunStore
from faq_index.entry import FaqEntry
from faq_index.errors import EntryImportError
from faq_index.formats import FORMATS, Format, detect_format, dump_entries, parse_entries

__all__ = ["ConsoleApiRoute", "admin_api_router"]


class ConsoleApiRoute(APIRoute):
    """Answers a `ConsoleError` raised by a route or its guard in the JSON error format."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await original(request)
            except ConsoleError as e:
                return e.json()

        return handler


Skill = Annotated[str | None, Query(max_length=64, description="skill name (default: the first)")]


class ImportBody(BaseModel):
    content: str = Field(min_length=1, description="the file's text")
    format: Format | None = Field(default=None, description="default: from the file name")
    filename: str = Field(default="", max_length=300)
    replace: bool = Field(default=False, description="drop the entries not in the file")


class PreviewBody(BaseModel):
    text: str = Field(max_length=100_000)
    locale: str | None = Field(default=None, max_length=16)
    skill: str | None = Field(default=None, max_length=64)


class RuleCheckBody(BaseModel):
    filename: str = Field(default="", max_length=300)
    content: str | None = Field(default=None, description="a rule file to check; none: all")


class UploadBody(BaseModel):
    filename: str = Field(min_length=1, max_length=300)
    content: str = Field(description="the document's text (Markdown, text or HTML)")
    skill: str | None = Field(default=None, max_length=64)


class SkillBody(BaseModel):
    skill: str | None = Field(default=None, max_length=64)


class QuestionsBody(BaseModel):
    questions: list[str] = Field(min_length=1, max_length=500)
    skill: str | None = Field(default=None, max_length=64)


class AlternativesBody(QuestionsBody):
    entry_id: str = Field(min_length=1, max_length=128)


class NewEntryBody(BaseModel):
    entry: views.EntryForm
    questions: list[str] = Field(default_factory=list, max_length=500)
    skill: str | None = Field(default=None, max_length=64)


class EvalBody(BaseModel):
    content: str = Field(min_length=1, description='JSON Lines of {"text", "expected_id"}')
    name: str = Field(default="", max_length=200)
    filename: str = Field(default="", max_length=300)
    skill: str | None = Field(default=None, max_length=64)


class JobStarted(BaseModel):
    job: dict[str, Any]
    document: str | None = None


def _format_of(body: ImportBody) -> Format:
    if body.format is not None:
        return body.format
    if not body.filename:
        raise ConsoleError(422, "invalid_request", "format", f"name one of {list(FORMATS)}")
    try:
        return detect_format(Path(Path(body.filename).name or "x"), body.content)
    except EntryImportError as e:
        raise ConsoleError(422, "invalid_request", "filename", e.problems[0].message) from e


async def _run(request: Request, run_id: str) -> EvalRun:
    run = await EvalRunStore(console_of(request).assistant(request).store.engine).get(run_id)
    if run is None:
        raise ConsoleError(404, "not_found", "run", f"no evaluation run {run_id!r}")
    return run


def admin_api_router() -> APIRouter:
    router = APIRouter(
        prefix="/admin/api",
        tags=["admin console"],
        dependencies=[Depends(api_guard)],
        route_class=ConsoleApiRoute,
    )

    # --- FAQ ---------------------------------------------------------------------------------

    @router.get("/faq/entries")
    async def list_entries(
        request: Request,
        skill: Skill = None,
        q: Annotated[str, Query(max_length=200)] = "",
        category: Annotated[str, Query(max_length=200)] = "",
        locale: Annotated[str, Query(max_length=16)] = "",
        offset: Annotated[int, Query(ge=0)] = 0,
        limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    ) -> dict[str, Any]:
        """Entries filtered by text (question, alternatives, answer or id), category, locale."""
        handle = console_of(request).faq(request, skill)
        return views.faq_listing(
            handle, q=q, category=category, locale=locale, offset=offset, limit=limit
        )

    @router.get("/faq/entries/{entry_id:path}", response_model=FaqEntry)
    async def get_entry(request: Request, entry_id: str, skill: Skill = None) -> FaqEntry:
        return views.get_entry(console_of(request).faq(request, skill), entry_id)

    @router.post("/faq/entries", response_model=FaqEntry, status_code=201)
    async def create_entry(request: Request, form: views.EntryForm, skill: Skill = None) -> Any:
        """A new entry; the index answers with it at once."""
        handle = console_of(request).faq(request, skill)
        return await views.create_entry(handle, form.entry())

    @router.put("/faq/entries/{entry_id:path}", response_model=FaqEntry)
    async def put_entry(
        request: Request,
        entry_id: str,
        form: views.EntryForm,
        response: Response,
        skill: Skill = None,
    ) -> Any:
        """Replace an entry (or create it)."""
        handle = console_of(request).faq(request, skill)
        entry = form.entry()
        response.status_code = 201 if await views.save_entry(handle, entry_id, entry) else 200
        return entry

    @router.delete("/faq/entries/{entry_id:path}", status_code=204)
    async def delete_entry(request: Request, entry_id: str, skill: Skill = None) -> Response:
        await views.delete_entry(console_of(request).faq(request, skill), entry_id)
        return Response(status_code=204)

    @router.post("/faq/import", response_model=ImportResult)
    async def import_entries(request: Request, body: ImportBody, skill: Skill = None) -> Any:
        """Add or update every entry of a file (JSON Lines, CSV, YAML or Rasa), all or
        nothing; a bad file is refused with every bad line."""
        handle = console_of(request).faq(request, skill)
        try:
            entries = parse_entries(body.content, _format_of(body), body.filename or "content")
        except EntryImportError as e:
            return import_refusal(e)
        return await apply_import(handle.writer, entries, replace=body.replace)

    @router.get("/faq/export", response_class=PlainTextResponse)
    async def export_entries(
        request: Request, format: Format = "yaml", skill: Skill = None
    ) -> Response:
        """Every entry as a file in the given format."""
        handle = console_of(request).faq(request, skill)
        suffix = {"jsonl": "jsonl", "csv": "csv", "yaml": "yaml", "rasa": "rasa.yml"}[format]
        return PlainTextResponse(
            dump_entries(handle.faq.entries, format),
            headers={"Content-Disposition": f'attachment; filename="{handle.name}.{suffix}"'},
        )

    @router.post("/preview")
    async def preview(request: Request, body: PreviewBody) -> dict[str, Any]:
        """How the assistant would answer a question now: the decision (route, confidence,
        reply) and every skill's candidates with their scores; nothing is stored."""
        console = console_of(request)
        handle = console.faq(request, body.skill) if console.faq_names(request) else None
        return await views.preview(console.assistant(request), handle, body.text, body.locale)

    # --- rules and documents -----------------------------------------------------------------

    @router.get("/rules")
    async def rules(request: Request) -> dict[str, Any]:
        return {"files": views.rule_files(console_of(request).assistant(request))}

    @router.post("/rules/check")
    async def check_rules(request: Request, body: RuleCheckBody) -> dict[str, Any]:
        """Every problem of the bot's rule files (file, rule id, problem), or of one file
        given in `content` before it is deployed."""
        if body.content is not None:
            return await asyncio.to_thread(
                views.check_rule_text, body.filename or "rules.yaml", body.content
            )
        assistant = console_of(request).assistant(request)
        return await asyncio.to_thread(views.check_rule_files, assistant)

    @router.get("/documents")
    async def documents(request: Request, skill: Skill = None) -> dict[str, Any]:
        library = console_of(request).library(request, skill)
        rows = await library.listing()
        return {"skill": library.name, "documents": [asdict(r) for r in rows]}

    @router.post("/documents", status_code=202, response_model=JobStarted)
    async def upload_document(request: Request, body: UploadBody) -> Any:
        """Store a document for the MRC skill and re-index (poll the job for progress)."""
        library = console_of(request).library(request, body.skill)
        try:
            stored = await library.upload(body.filename, body.content)
        except (DocumentError, UnicodeError, ValueError, OSError) as e:
            raise ConsoleError(422, "invalid_request", "content", str(e)) from e
        job = await _reindex(request, library.name)
        return {"job": job, "document": stored.id}

    @router.delete("/documents/{document_id}", status_code=202, response_model=JobStarted)
    async def delete_document(request: Request, document_id: str, skill: Skill = None) -> Any:
        """Remove an uploaded document and re-index."""
        library = console_of(request).library(request, skill)
        if not await library.delete(document_id):
            raise ConsoleError(
                404, "not_found", "document", f"no uploaded document {document_id!r}"
            )
        return {"job": await _reindex(request, library.name)}

    @router.post("/documents/reindex", status_code=202, response_model=JobStarted)
    async def reindex_documents(request: Request, body: SkillBody) -> Any:
        """Read, split and embed every document again; poll the job for progress."""
        return {"job": await _reindex(request, body.skill)}

    async def _reindex(request: Request, skill: str | None) -> dict[str, Any]:
        console = console_of(request)
        library = console.library(request, skill)
        uploads = await library.uploads()
        job = console.jobs.start(
            "reindex", lambda progress: library.reindex(uploads, progress), key=library.name
        )
        return job.view()

    @router.get("/jobs/{job_id}")
    async def job(request: Request, job_id: str) -> dict[str, Any]:
        found = console_of(request).jobs.get(job_id)
        if found is None:
            raise ConsoleError(404, "not_found", "job", f"no job {job_id!r} in this process")
        return found.view()

    # --- conversations -----------------------------------------------------------------------

    @router.get("/conversations")
    async def conversations(
        request: Request, query: Annotated[views.ConversationQuery, Query()]
    ) -> dict[str, Any]:
        """Sessions with a turn matching every filter, the most recently active first."""
        return await views.conversations(console_of(request).assistant(request), query)

    @router.get("/conversations/{session_id:path}")
    async def conversation(request: Request, session_id: str) -> dict[str, Any]:
        """Every turn of a session with all candidates and scores, and the feedback on it."""
        return await views.session_detail(console_of(request).assistant(request), session_id)

    # --- active learning ---------------------------------------------------------------------

    @router.get("/learning")
    async def learning(
        request: Request, skill: Skill = None, days: Annotated[int, Query(ge=1, le=365)] = 30
    ) -> dict[str, Any]:
        """Clusters of the questions that fell back, were clarified or got a thumbs-down,
        each with the entries it most likely belongs to."""
        console = console_of(request)
        handle = console.faq(request, skill)
        return await views.learning(console.assistant(request), handle, days=days)

    @router.post("/learning/alternatives")
    async def add_alternatives(request: Request, body: AlternativesBody) -> dict[str, Any]:
        """Add the questions to an entry as alternative questions; the index updates."""
        console = console_of(request)
        handle = console.faq(request, body.skill)
        return await views.add_alternatives(
            console.assistant(request), handle, body.entry_id, body.questions
        )

    @router.post("/learning/entry", status_code=201)
    async def new_entry(request: Request, body: NewEntryBody) -> dict[str, Any]:
        """A new entry whose alternative questions are the given questions."""
        console = console_of(request)
        handle = console.faq(request, body.skill)
        return await views.new_entry_from(
            console.assistant(request), handle, body.entry, body.questions
        )

    @router.post("/learning/dismiss")
    async def dismiss(request: Request, body: QuestionsBody) -> dict[str, Any]:
        """Stop offering these questions."""
        return await views.dismiss(console_of(request).assistant(request), body.questions)

    # --- quality -----------------------------------------------------------------------------

    @router.get("/quality/rates")
    async def rates(
        request: Request,
        since: date | None = None,
        until: date | None = None,
        channel: Annotated[str, Query(max_length=64)] = "",
    ) -> dict[str, Any]:
        """Answer, clarification, fallback and hand-off rates by day (the bot's timezone)."""
        assistant = console_of(request).assistant(request)
        until = until or datetime.now(ZoneInfo(assistant.bot.config.timezone)).date()
        since = since or until - timedelta(days=13)
        if since > until or (until - since).days > 366:
            raise ConsoleError(
                422, "invalid_request", "since", "must be before until, within a year"
            )
        return await views.rates(assistant, since=since, until=until, channel=channel)

    @router.get("/eval/runs")
    async def runs(request: Request) -> dict[str, Any]:
        listed = await EvalRunStore(console_of(request).assistant(request).store.engine).list()
        return {"runs": [views.run_summary(r) for r in listed]}

    @router.post("/eval/runs", status_code=202, response_model=JobStarted)
    async def run_evaluation(request: Request, body: EvalBody) -> Any:
        """Evaluate the live FAQ on labelled queries and store the run (poll the job; its
        result is the run's id)."""
        console = console_of(request)
        handle = console.faq(request, body.skill)
        try:
            queries = read_queries(body.content, body.filename or "content")
        except QueryFileError as e:
            raise ConsoleError(422, "invalid_request", "content", str(e)) from e
        if not queries:
            raise ConsoleError(422, "invalid_request", "content", "holds no queries")
        skill = handle.skill
        store = EvalRunStore(console.assistant(request).store.engine)
        name = body.name or f"{handle.name} {datetime.now():%Y-%m-%d %H:%M}"

        def work(progress: Any) -> Any:
            return evaluate_faq(
                handle.faq,
                queries,
                answer_threshold=skill.answer_threshold,
                suggest_threshold=skill.suggest_threshold,
                margin_answer_threshold=skill.rule.margin_answer_at,
                margin=skill.rule.margin,
                progress=lambda done, total: progress("evaluating", done, total),
            )

        async def save(result: Any) -> dict[str, Any]:
            metrics = {**result.metrics, "entries": len(handle.faq)}
            run = await store.save(
                name,
                source=body.filename or "console",
                settings={
                    "skill": handle.name,
                    "answer_threshold": skill.answer_threshold,
                    "suggest_threshold": skill.suggest_threshold,
                    "encoder": getattr(handle.faq.index.encoder, "name", "none"),
                },
                metrics=metrics,
                rows=result.rows,
            )
            return {"run": run.id}

        job = console.jobs.start("eval", work, key=handle.name, then=save)
        return {"job": job.view()}

    @router.get("/eval/runs/{run_id}")
    async def run(request: Request, run_id: str) -> dict[str, Any]:
        """A run's metrics and its confusion view."""
        found = await _run(request, run_id)
        return {**views.run_summary(found), "confusion": views.confusion(found)}

    @router.get("/eval/runs/{run_id}/cell")
    async def run_cell(
        request: Request,
        run_id: str,
        expected: Annotated[str, Query(max_length=128)],
        predicted: Annotated[str, Query(max_length=128)],
    ) -> dict[str, Any]:
        """The queries behind one cell of the confusion view (`-`: no entry)."""
        found = await _run(request, run_id)
        return {
            "expected": expected,
            "predicted": predicted,
            "rows": views.cell(found, expected, predicted),
        }

    @router.delete("/eval/runs/{run_id}", status_code=204)
    async def delete_run(request: Request, run_id: str) -> Response:
        store = EvalRunStore(console_of(request).assistant(request).store.engine)
        if not await store.delete(run_id):
            raise ConsoleError(404, "not_found", "run", f"no evaluation run {run_id!r}")
        return Response(status_code=204)

    @router.get("/eval/compare")
    async def compare(
        request: Request,
        a: Annotated[str, Query(max_length=32)],
        b: Annotated[str, Query(max_length=32)],
    ) -> dict[str, Any]:
        """Two runs side by side: metrics and their change, and the queries fixed or broken."""
        return views.compare(await _run(request, a), await _run(request, b))

    return router
