"""The HTTP server: the native REST API (`/v1/...`), health probes and OpenAPI docs.

    app = create_app(Settings.from_env())        # uvicorn assistant.server:app works too

Every refusal is JSON naming the field and the problem:

    {"error": {"code": "invalid_request", "message": "text: must not be empty",
               "fields": [{"field": "text", "problem": "must not be empty"}]}}
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, cast

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from assistant import __version__
from assistant.dialogue import Assistant
from assistant.errors import InputError
from assistant.settings import Settings
from assistant.types import DeviceContext, ReplyPart, Utterance

log = logging.getLogger("assistant.server")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


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


class FieldProblem(BaseModel):
    field: str
    problem: str


class ErrorBody(BaseModel):
    code: str
    message: str
    fields: list[FieldProblem] = Field(default_factory=list)


class ErrorResponse(BaseModel):
    error: ErrorBody


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
}


def error_response(
    status: int, code: str, problems: list[FieldProblem], message: str | None = None
) -> JSONResponse:
    text = message or "; ".join(f"{p.field}: {p.problem}" for p in problems)
    body = ErrorResponse(error=ErrorBody(code=code, message=text, fields=problems))
    return JSONResponse(body.model_dump(), status_code=status)


# --- body size limit ---------------------------------------------------------------------------


class BodyLimit:
    """Refuse request bodies over `max_bytes` with 413, whether or not Content-Length is sent.

    The body is read here first (it is small by definition) and replayed to the app.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        problem = FieldProblem(field="body", problem=f"is larger than {self.max_bytes} bytes")
        await error_response(413, "body_too_large", [problem])(scope, receive, send)


# --- the app -----------------------------------------------------------------------------------


def create_app(settings: Settings | None = None, *, assistant: Assistant | None = None) -> FastAPI:
    """The server app. Given an `assistant`, the app uses it and leaves closing it to the caller;
    otherwise it builds one from `settings` at start-up and closes it at shutdown."""
    settings = settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if assistant is not None:
            app.state.assistant = assistant
            yield
            return
        owned = await Assistant.create(
            bot_dir=settings.bot_dir,
            database_url=settings.database_url,
            session_locks=settings.session_locks,
        )
        app.state.assistant = owned
        log.info("server.started", extra={"bot": owned.bot.config.name})
        try:
            yield
        finally:
            await owned.close()

    app = FastAPI(
        title="Assistant API",
        version=__version__,
        description="Korean-first conversational assistant: one turn in, one reply out.",
        lifespan=lifespan,
    )
    if assistant is not None:
        app.state.assistant = assistant
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)

    def current(request: Request) -> Assistant:
        return cast(Assistant, request.app.state.assistant)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for item in exc.errors():
            loc = [str(p) for p in item.get("loc", ()) if p != "body"]
            if item.get("type") == "json_invalid":
                problem = FieldProblem(field="body", problem=f"is not valid JSON: {item['msg']}")
                return error_response(400, "malformed_json", [problem])
            problems.append(FieldProblem(field=".".join(loc) or "body", problem=item["msg"]))
        return error_response(422, "invalid_request", problems)

    @app.exception_handler(InputError)
    async def input_error(_: Request, exc: InputError) -> JSONResponse:
        return error_response(
            422, "invalid_request", [FieldProblem(field=exc.field, problem=exc.problem)]
        )

    @app.post("/v1/chat", response_model=ChatResponse, responses=ERRORS, tags=["chat"])
    async def chat(body: ChatRequest, request: Request) -> ChatResponse:
        """Run one turn of a conversation and return the assistant's reply."""
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
        "/v1/sessions/{session_id}",
        response_model=SessionResponse,
        responses={404: {"model": ErrorResponse}},
        tags=["sessions"],
    )
    async def get_session(session_id: str, request: Request) -> SessionResponse | JSONResponse:
        """A session's dialogue context and its recent turns."""
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
        "/v1/sessions/{session_id}",
        status_code=204,
        responses={404: {"model": ErrorResponse}},
        tags=["sessions"],
    )
    async def delete_session(session_id: str, request: Request) -> Response:
        """Forget a session: its context and its turns."""
        assistant_ = current(request)
        async with assistant_.locks.hold(session_id):
            deleted = await assistant_.store.delete_session(session_id)
        return Response(status_code=204) if deleted else _no_session(session_id)

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

    return app


def _no_session(session_id: str) -> JSONResponse:
    problem = FieldProblem(field="session_id", problem=f"no session {session_id!r}")
    return error_response(404, "not_found", [problem])
