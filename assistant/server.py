"""The HTTP server: the native REST API (`/v1/...`), health probes and OpenAPI docs.

    app = create_app(Settings.from_env())        # uvicorn assistant.server:app works too

Every refusal is JSON naming the field and the problem:

    {"error": {"code": "invalid_request", "message": "text: must not be empty",
               "fields": [{"field": "text", "problem": "must not be empty"}]}}
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, cast

from fastapi import FastAPI, Request, Response
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException

from assistant import __version__, logs, metrics
from assistant.admin import attach_console, mount_admin
from assistant.api.auth import Auth, AuthError, may_read, own_session, requires
from assistant.api.errors import ErrorBody, ErrorResponse, FieldProblem, error_response
from assistant.api.faq_admin import faq_admin_router, faq_of_assistant
from assistant.api.faq_sync import FaqSync
from assistant.api.feedback import feedback_router
from assistant.api.middleware import (
    BodyLimit,
    ClientRateLimit,
    RateLimited,
    RequestId,
    RequestTimeout,
    StrictJson,
    TurnLimits,
)
from assistant.dialogue import Assistant
from assistant.errors import InputError, StoreError
from assistant.settings import Settings
from assistant.store.content import ContentStore, ContentWatcher
from assistant.store.keys import ApiKeyStore
from assistant.store.sql import describe_db_error
from assistant.types import DeviceContext, ReplyPart, Utterance
from connectors.routes import mount_connectors
from faq_index.faq import FaqIndex

log = logging.getLogger("assistant.server")

# --- API models --------------------------------------------------------------------------------


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    session_id: str = Field(min_length=1, max_length=128, description="Conversation id.")
    text: str = Field(description="What the user said or typed.")
    locale: str | None = Field(default=None, description="`ko` or `en`; detected when absent.")
    channel: str = Field(default="rest", min_length=1, max_length=64)
    device: DeviceContext | None = None
    message_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        description="Idempotency key: a repeated id returns the stored reply.",
    )


class ChatResponse(BaseModel):
    session_id: str
    messages: list[ReplyPart]
    route: str
    confidence: float
    expects_reply: bool


class TurnView(BaseModel):
    seq: int
    text: str
    messages: list[ReplyPart]
    route: str
    confidence: float
    outcome: str
    candidates: list[dict[str, Any]]
    latency_ms: float
    message_id: str | None
    at: datetime


class SessionResponse(BaseModel):
    session_id: str
    channel: str
    turn_count: int
    created_at: datetime
    updated_at: datetime
    context: dict[str, Any]
    turns: list[TurnView]


ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse, "description": "Malformed JSON."},
    413: {"model": ErrorResponse, "description": "Body too large."},
    422: {"model": ErrorResponse, "description": "A field is missing or wrong."},
    429: {"model": ErrorResponse, "description": "Too many requests."},
    504: {"model": ErrorResponse, "description": "The request took too long."},
}

__all__ = ["ErrorBody", "ErrorResponse", "FieldProblem", "create_app", "error_response"]


# --- the app -----------------------------------------------------------------------------------


def create_app(settings: Settings | None = None, *, assistant: Assistant | None = None) -> FastAPI:
    """The server app. Given an `assistant`, the app uses it and leaves closing it to the caller;
    otherwise it builds one from `settings` at start-up and closes it at shutdown."""
    if settings is None and assistant is None and os.environ.get("ASSISTANT_LOG_FORMAT"):
        # a worker process started by `assistant serve --workers N`
        logs.configure(
            os.environ.get("ASSISTANT_LOG_LEVEL", "info"), os.environ["ASSISTANT_LOG_FORMAT"]
        )
    settings = settings or Settings.from_env()

    def attach(app: FastAPI, assistant_: Assistant) -> None:
        app.state.assistant = assistant_
        app.state.auth = Auth(
            ApiKeyStore(assistant_.store.engine),
            require_chat_key=settings.require_api_key,
            admin_key=settings.admin_api_key,
        )

    @asynccontextmanager
    async def shared_content(app: FastAPI, assistant_: Assistant) -> AsyncIterator[None]:
        """FAQ changes through the admin API go through the store and reach every process."""
        content = ContentStore(assistant_.store.engine)
        watcher = ContentWatcher(content, interval=settings.content_poll_s)
        app.state.faq_sync = await FaqSync.attach(assistant_, content, watcher)
        await attach_console(app, assistant_, content, watcher)  # uploaded MRC documents
        watcher.start()
        try:
            yield
        finally:
            await watcher.stop()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if assistant is not None:
            attach(app, assistant)
            async with shared_content(app, assistant):
                yield
            return
        owned = await Assistant.create(
            bot_dir=settings.bot_dir,
            database_url=settings.database_url,
            session_locks=settings.session_locks,
        )
        attach(app, owned)
        log.info("server.started", extra={"bot": owned.bot.config.name})
        try:
            async with shared_content(app, owned):
                yield
        finally:
            await owned.close()

    app = FastAPIOffline(  # /docs with Swagger UI's files served here, not from a CDN
        title="Assistant API",
        version=__version__,
        description="Korean-first conversational assistant: one turn in, one reply out.",
        lifespan=lifespan,
    )
    if assistant is not None:
        attach(app, assistant)
    # Added last runs first: request id, then CORS, rate, time and size limits, JSON checks.
    app.add_middleware(StrictJson)
    app.add_middleware(
        BodyLimit,
        max_bytes=settings.max_body_bytes,
        per_prefix={"/admin/api/": settings.admin_max_body_bytes},  # console uploads
    )
    app.add_middleware(RequestTimeout, seconds=settings.request_timeout_s)
    app.add_middleware(ClientRateLimit, per_minute=settings.rate_per_client)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST", "PUT", "DELETE", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
        )
    app.add_middleware(RequestId)
    turn_limits = TurnLimits(
        per_session=settings.rate_per_session, per_client=settings.rate_per_client
    )
    app.state.turn_limits = turn_limits  # the channels' turns count against the same limits

    def current(request: Request) -> Assistant:
        return cast(Assistant, request.app.state.assistant)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for item in exc.errors():
            loc = [str(p) for p in item.get("loc", ()) if p != "body"]
            if item.get("type") == "json_invalid":
                reason = (item.get("ctx") or {}).get("error") or item["msg"]
                problem = FieldProblem(field="body", problem=f"is not valid JSON: {reason}")
                return error_response(400, "malformed_json", [problem])
            if not loc and isinstance(item.get("input"), bytes | str):
                # a body that was not parsed as JSON: FastAPI reads JSON only when told so
                given = request.headers.get("content-type") or "none"
                problem = FieldProblem(
                    field="content-type", problem=f"is {given!r}; send application/json"
                )
                return error_response(415, "unsupported_media_type", [problem])
            problems.append(FieldProblem(field=".".join(loc) or "body", problem=item["msg"]))
        return error_response(422, "invalid_request", problems)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        """Starlette's and FastAPI's own refusals (no such route, wrong method, a body that
        could not be read) in the documented error format."""
        if exc.status_code < 400:
            return await http_exception_handler(request, exc)
        field, problem = _HTTP_PROBLEMS.get(exc.status_code, ("request", str(exc.detail)))
        if exc.status_code == 404:
            problem = f"no such route: {request.method} {request.url.path}"
        return error_response(
            exc.status_code,
            _HTTP_CODES.get(exc.status_code, "invalid_request"),
            [FieldProblem(field=field, problem=problem)],
            headers=dict(exc.headers or {}),
        )

    @app.exception_handler(RateLimited)
    async def too_many(_: Request, exc: RateLimited) -> JSONResponse:
        return cast(JSONResponse, exc.response())

    @app.exception_handler(AuthError)
    async def auth_error(_: Request, exc: AuthError) -> JSONResponse:
        return cast(JSONResponse, exc.response())

    @app.exception_handler(StoreError)
    async def store_unavailable(_: Request, exc: StoreError) -> JSONResponse:
        log.error("store.unavailable", extra={"error": str(exc)})
        problem = FieldProblem(field="store", problem="unavailable; try again shortly")
        return error_response(503, "unavailable", [problem], headers={"Retry-After": "2"})

    @app.exception_handler(SQLAlchemyError)
    async def database_error(request: Request, exc: SQLAlchemyError) -> JSONResponse:
        return await store_unavailable(request, StoreError(describe_db_error(exc)))

    @app.exception_handler(InputError)
    async def input_error(_: Request, exc: InputError) -> JSONResponse:
        return error_response(
            422, "invalid_request", [FieldProblem(field=exc.field, problem=exc.problem)]
        )

    chat_scope = [requires("chat")]

    @app.post(
        "/v1/chat",
        response_model=ChatResponse,
        responses=ERRORS,
        tags=["chat"],
        dependencies=chat_scope,
    )
    async def chat(body: ChatRequest, request: Request) -> ChatResponse | JSONResponse:
        """Run one turn of a conversation and return the assistant's reply."""
        own_session(body.session_id, turn=True)
        turn_limits.take(body.session_id, request.state.caller.bucket)
        utterance = Utterance(
            text=body.text,
            session_id=body.session_id,
            channel=body.channel,
            locale=body.locale,
            device=body.device or DeviceContext(),
            message_id=body.message_id,
        )
        reply = await current(request).handle(utterance)
        return ChatResponse(
            session_id=body.session_id,
            messages=list(reply.parts),
            route=reply.route,
            confidence=reply.confidence,
            expects_reply=reply.expects_reply,
        )

    @app.get(
        "/v1/sessions/{session_id:path}",
        response_model=SessionResponse,
        responses={404: {"model": ErrorResponse}, 401: {"model": ErrorResponse}},
        tags=["sessions"],
        dependencies=chat_scope,
    )
    async def get_session(session_id: str, request: Request) -> SessionResponse | JSONResponse:
        """A session's dialogue context and its recent turns (a channel's session, such as
        `kakao:...`, with an admin key)."""
        may_read(request.state.caller, session_id)
        view = await current(request).store.get_session(session_id)
        if view is None:
            return _no_session(session_id)
        return SessionResponse(
            session_id=view.session_id,
            channel=view.channel,
            turn_count=view.turn_count,
            created_at=view.created_at,
            updated_at=view.updated_at,
            context=view.context.model_dump(mode="json"),
            turns=[
                TurnView(
                    seq=t.seq,
                    text=t.text,
                    messages=list(t.reply.parts),
                    route=t.reply.route,
                    confidence=t.reply.confidence,
                    outcome=t.outcome,
                    candidates=t.candidates,
                    latency_ms=t.latency_ms,
                    message_id=t.message_id,
                    at=t.at,
                )
                for t in view.turns
            ],
        )

    @app.delete(
        "/v1/sessions/{session_id:path}",
        status_code=204,
        responses={404: {"model": ErrorResponse}, 401: {"model": ErrorResponse}},
        tags=["sessions"],
        dependencies=chat_scope,
    )
    async def delete_session(session_id: str, request: Request) -> Response:
        """Forget a session: its context and its turns (a channel's, with an admin key)."""
        may_read(request.state.caller, session_id)
        assistant_ = current(request)
        async with assistant_.locks.hold(session_id):
            deleted = await assistant_.store.delete_session(session_id)
        return Response(status_code=204) if deleted else _no_session(session_id)

    @app.get("/metrics", tags=["health"], response_class=Response)
    async def metrics_endpoint(request: Request) -> Response:
        """Prometheus metrics."""
        assistant_ = getattr(request.app.state, "assistant", None)
        if assistant_ is not None:
            metrics.record_index_sizes((spec.name, skill) for spec, skill in assistant_.skills)
        body, content_type = metrics.exposition()
        return Response(content=body, media_type=content_type)

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"], responses={503: {"description": "Not ready."}})
    async def readyz(request: Request) -> JSONResponse:
        """Readiness: the store answers and the bot's skills are loaded."""
        assistant_ = getattr(request.app.state, "assistant", None)
        store_ok = assistant_ is not None and await assistant_.store.ping()
        body = {
            "status": "ready" if store_ok else "not ready",
            "store": "ok" if store_ok else "unreachable",
            "bot": assistant_.bot.config.name if assistant_ else None,
            "skills": assistant_.skill_names if assistant_ else [],
        }
        return JSONResponse(body, status_code=200 if store_ok else 503)

    def shared_faq(request: Request, skill: str) -> FaqIndex | None:
        sync: FaqSync | None = getattr(request.app.state, "faq_sync", None)
        return sync.resolve(request, skill) if sync else faq_of_assistant(request, skill)

    app.include_router(faq_admin_router(shared_faq), tags=["admin"])
    app.include_router(feedback_router(), tags=["chat"])  # POST /v1/feedback
    mount_connectors(app)  # chat channels, socket.io and /chat (connectors/routes.py)
    mount_admin(app, settings)  # the admin console at /admin (assistant/admin/)
    return app


_HTTP_CODES = {
    400: "malformed_body",
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
}
_HTTP_PROBLEMS = {
    400: ("body", "could not be read; send a JSON object"),
    405: ("method", "is not allowed on this route"),
}


def _no_session(session_id: str) -> JSONResponse:
    problem = FieldProblem(field="session_id", problem=f"no session {session_id!r}")
    return error_response(404, "not_found", [problem])
