"""The one module that turns connectors into HTTP routes, on the server's FastAPI app.

    app = create_app(settings)        # calls mount_connectors(app)
    mount_connectors(app, ConnectorConfig(kakao_time_budget_s=2.0))   # or by hand

| route | channel | credential (`connectors.auth`) |
|---|---|---|
| `POST /connectors/kakao/skill` | KakaoTalk (Open Builder skill server v2.0) | the bot's secret, once any is set |
| `POST /connectors/car/turns`, WebSocket `/connectors/car/voice` | in-vehicle voice client | chat key when keys are required |
| `POST /connectors/mobile/devices`, `GET/DELETE .../devices/{id}`, `GET .../devices/{id}/messages` | mobile app devices | the device token; chat key when keys are required |
| `POST /connectors/mobile/messages`, `POST .../messages/stream` (SSE), WebSocket `/connectors/mobile/socket` | mobile app messages | the same |
| `GET /webhooks/rest/`, `POST /webhooks/rest/webhook` | Rasa REST | the channel token or a chat key, when set or required |
| `GET /webhooks/callback/`, `POST /webhooks/callback/webhook` | Rasa callback | the same |
| `/socket.io` | Rasa socket.io (python-socketio) | the same, on connect |
| `POST/GET /connectors/webhooks`, `DELETE /connectors/webhooks/{id}`, `GET .../{id}/deliveries`, `POST .../deliveries/{id}/retry` | outbound webhooks: register, list, remove, inspect, send a dead delivery again | admin key |
| `POST /connectors/webhooks/messages` | a turn whose reply goes to the webhooks only | chat key when keys are required |
| `GET /chat` | the web chat page (over socket.io) | none (its socket takes `?token=`) |

Every turn counts against the rate limits per session and per caller (`TurnLimits`), and
every channel keeps its sessions under its own namespace (`assistant.namespaces`).

A payload with a missing or wrong field is answered 400 naming the field, in the server's error
format (`{"error": {"code", "message", "fields": [{"field", "problem"}]}}`); a failure inside is
a logged event and a 500, never a 200 with nothing in it.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal, cast
from urllib.parse import urlsplit

import socketio  # type: ignore[import-untyped]  # python-socketio ships no type hints
from fastapi import (
    APIRouter,
    Depends,
    FastAPI,
    Query,
    Request,
    Response,
    WebSocket,
    WebSocketDisconnect,
)
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field, field_validator

from assistant.api.auth import Auth, AuthError, Caller, address_of, bearer, own_session
from assistant.api.feedback import MAX_TURN
from assistant.api.middleware import RateLimited
from assistant.errors import InputError
from assistant.types import Utterance
from connectors import car, kakao, kakao_skill, mobile, rasa
from connectors.auth import token_caller
from connectors.config import ConnectorConfig
from connectors.errors import DeliveryError, PayloadError, Unauthorized, error_body
from connectors.hub import Hub
from connectors.outbound import post_json
from connectors.payload import read_json, read_model
from connectors.rasa_socketio import build_socketio
from connectors.targets import TargetRefused

log = logging.getLogger("connector.routes")

WEB = Path(str(resources.files("connectors") / "web"))
#: How long each Rasa callback message is retried before it is given up (and logged).
_CALLBACK_WINDOW_S = 60.0


def error(status: int, code: str, field: str, problem: str) -> JSONResponse:
    """A refusal in the server's error format."""
    return JSONResponse({"error": error_body(code, field, problem)}, status_code=status)


Handler = Callable[[Any], Awaitable[Response]]


async def _guard(
    channel: str, request: Request, handler: Handler, fields: Mapping[str, str]
) -> Response:
    """Read the JSON body, run `handler` on it, and turn every failure into a proper answer."""
    try:
        payload = read_json(await request.body())
        return await handler(payload)
    except PayloadError as e:
        log.info(f"connector.{channel}.parse_failed", extra={"field": e.field})
        return error(400, "invalid_payload", e.field, e.problem)
    except Unauthorized as e:
        log.warning(f"connector.{channel}.unauthorized", extra={"header": e.field})
        return error(e.status, e.code, e.field, e.problem)
    except AuthError as e:
        log.warning(f"connector.{channel}.unauthorized", extra={"header": e.field})
        return cast(Response, e.response())
    except RateLimited as e:
        log.info(f"connector.{channel}.rate_limited", extra={"field": e.field})
        return cast(Response, e.response())
    except InputError as e:
        field = fields.get(e.field, e.field)
        log.info(f"connector.{channel}.input_refused", extra={"field": field})
        return error(400, "invalid_request", field, e.problem)
    except Exception:
        log.exception(f"connector.{channel}.turn_failed")
        return error(500, "internal_error", "body", "could not be answered; try again later")


async def _caller(connection: Request | WebSocket, scope: str) -> Caller:
    """Who is calling, checked against the server's API keys (`assistant.api.auth`) when the
    app has them; raises `AuthError` (the server's 401/403 answer)."""
    auth: Auth | None = getattr(connection.app.state, "auth", None)
    address = address_of(connection.scope)
    if auth is None:
        return Caller(address=address)
    authorization = connection.headers.get("authorization")
    return await auth.caller(authorization, scope, address=address)


async def socket_caller(websocket: WebSocket, scope: str) -> Caller | None:
    """The caller of a WebSocket, checked like a request's; a refused one is closed (1008) and
    None."""
    try:
        return await _caller(websocket, scope)
    except AuthError as e:
        log.warning("connector.websocket.unauthorized", extra={"path": websocket.url.path})
        await websocket.close(code=1008, reason=e.problem[:120])
        return None


async def requires_admin(request: Request) -> None:
    request.state.caller = await _caller(request, "admin")


async def requires_chat(request: Request) -> None:
    request.state.caller = await _caller(request, "chat")


def _caller_of(request: Request) -> str:
    """The rate-limit bucket of a request that passed `requires_chat`."""
    caller: Caller = request.state.caller
    return caller.bucket


async def _rasa_caller(hub: Hub, request: Request) -> str:
    """The Rasa channels' credential: `?token=` as Rasa takes it, or a Bearer header."""
    token = request.query_params.get("token") or bearer(request.headers.get("authorization"))
    return await token_caller(hub.auth, hub.config, token=token, address=address_of(request.scope))


# --- webhook registration API -----------------------------------------------------------------


class WebhookRegistration(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=2000, description="Where replies are POSTed (http or https).")
    channel: str | None = Field(default=None, min_length=1, max_length=64)
    session_id: str | None = Field(default=None, min_length=1, max_length=128)
    secret: str | None = Field(default=None, min_length=16, max_length=128)

    @field_validator("url")
    @classmethod
    def _absolute_http(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("must be an absolute http:// or https:// URL")
        return value


class WebhookMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    session_id: str = Field(min_length=1, max_length=128)
    text: str
    channel: str = Field(default="webhook", min_length=1, max_length=64)
    locale: str | None = None
    message_id: str | None = Field(default=None, min_length=1, max_length=128)
    metadata: dict[str, Any] = Field(default_factory=dict)


# --- mounting ---------------------------------------------------------------------------------


def mount_connectors(
    app: FastAPI,
    config: ConnectorConfig | None = None,
    *,
    hub: Hub | None = None,
) -> Hub:
    """Add the channels' routes, the socket.io server and `/chat` to `app`; returns their hub
    (also at `app.state.connectors`). The app's lifespan starts and stops the hub."""
    if hub is None:
        hub = Hub(
            assistant=lambda: app.state.assistant,
            config=config or ConnectorConfig.from_env(),
            auth=lambda: getattr(app.state, "auth", None),
            limits=lambda: getattr(app.state, "turn_limits", None),
        )
    app.state.connectors = hub
    app.include_router(_router(hub))
    sio = build_socketio(hub)
    app.state.socketio = sio
    app.mount("/socket.io", socketio.ASGIApp(sio, socketio_path="socket.io"))
    app.mount("/chat/static", StaticFiles(directory=WEB), name="chat-static")
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app_: Any) -> AsyncIterator[Any]:
        async with inner(app_) as state:
            hub.start()  # sends webhook deliveries left pending by an earlier run
            try:
                yield state
            finally:
                await hub.aclose()

    app.router.lifespan_context = lifespan
    return hub


def _router(hub: Hub) -> APIRouter:
    router = APIRouter()

    # --- KakaoTalk -------------------------------------------------------------------------

    @router.post("/connectors/kakao/skill", tags=["channels"])
    async def kakao_skill_request(request: Request) -> Response:
        """Kakao i Open Builder skill server (v2.0): a skill request in, a skill response out."""

        async def handle(payload: Any) -> Response:
            address = address_of(request.scope)
            response = await kakao_skill.answer(hub, payload, request.headers, address=address)
            return JSONResponse(response)

        return await _guard("kakao", request, handle, kakao.FIELDS)

    # --- in-vehicle voice ---------------------------------------------------------------------

    chat = [Depends(requires_chat)]

    @router.post("/connectors/car/turns", tags=["channels"], dependencies=chat)
    async def car_turn(request: Request) -> Response:
        """In-vehicle voice client: n-best hypotheses and the car's state in; speech, display
        and directives out, shaped for driving (see `connectors.car`)."""

        async def handle(payload: Any) -> Response:
            return JSONResponse(await car.answer(hub, payload, caller=_caller_of(request)))

        return await _guard("car", request, handle, car.FIELDS)

    @router.websocket("/connectors/car/voice")
    async def car_voice(websocket: WebSocket) -> None:
        """A voice session of several turns (`connectors.car.voice_session`)."""
        caller = await socket_caller(websocket, "chat")
        if caller is None:
            return
        await websocket.accept()
        await car.voice_session(
            hub, websocket, caller=caller.bucket, disconnect=WebSocketDisconnect
        )
        with contextlib.suppress(RuntimeError):  # closed by the client already
            await websocket.close()

    # --- mobile apps ---------------------------------------------------------------------------

    def device_token(connection: Request | WebSocket) -> str | None:
        header = connection.headers.get(mobile.DEVICE_TOKEN_HEADER)
        return header or connection.query_params.get("device_token")

    async def known_device(request: Request, device_id: str) -> Any:
        """The device if the request may use it, else the refusal to answer with."""
        try:
            return await mobile.device_for(
                hub, device_id, token=device_token(request), caller=request.state.caller
            )
        except PayloadError:
            return error(404, "not_found", "device_id", f"no device {device_id!r}")
        except Unauthorized as e:
            log.warning("connector.mobile.unauthorized", extra={"header": e.field})
            return error(e.status, e.code, e.field, e.problem)

    @router.post("/connectors/mobile/devices", tags=["mobile"], dependencies=chat)
    async def register_device(request: Request) -> Response:
        """Register a device (or update it): platform, locale, time zone, push target.
        201 with its `device_token` (shown once) when it is new; 200 when it was known, which
        takes the device's token in `X-Device-Token`."""

        async def handle(payload: Any) -> Response:
            device, created, token = await mobile.register(
                hub, payload, token=device_token(request), caller=request.state.caller
            )
            body = device.public()
            if token is not None:
                body["device_token"] = token
            return JSONResponse(body, status_code=201 if created else 200)

        return await _guard("mobile", request, handle, {})

    @router.get("/connectors/mobile/devices/{device_id}", tags=["mobile"], dependencies=chat)
    async def get_device(request: Request, device_id: str) -> Response:
        """A registered device (with its `X-Device-Token`)."""
        device = await known_device(request, device_id)
        return device if isinstance(device, Response) else JSONResponse(device.public())

    @router.delete(
        "/connectors/mobile/devices/{device_id}",
        status_code=204,
        tags=["mobile"],
        dependencies=chat,
    )
    async def remove_device(request: Request, device_id: str) -> Response:
        """Forget a device (no more pushes; with its `X-Device-Token`); its conversation
        stays."""
        device = await known_device(request, device_id)
        if isinstance(device, Response):
            return device
        if await mobile.devices(hub).remove(device_id):
            return Response(status_code=204)
        return error(404, "not_found", "device_id", f"no device {device_id!r}")

    @router.get(
        "/connectors/mobile/devices/{device_id}/messages", tags=["mobile"], dependencies=chat
    )
    async def device_messages(
        request: Request, device_id: str, after: Annotated[int, Query(ge=0, le=MAX_TURN)] = 0
    ) -> Response:
        """The device's recent turns after turn number `after`: what an app that was away
        missed (with its `X-Device-Token`)."""
        device = await known_device(request, device_id)
        if isinstance(device, Response):
            return device
        return JSONResponse(await mobile.history(hub, device, after=after))

    @router.post("/connectors/mobile/messages", tags=["mobile"], dependencies=chat)
    async def mobile_message(request: Request) -> Response:
        """A message from the app (with its `X-Device-Token`), answered with the reply's rich
        messages."""

        async def handle(payload: Any) -> Response:
            _, utterance = await mobile.parse(
                hub, payload, token=device_token(request), caller=request.state.caller
            )
            reply = await hub.turn(utterance)
            return JSONResponse(mobile.answer(reply, utterance))

        return await _guard("mobile", request, handle, mobile.FIELDS)

    @router.post("/connectors/mobile/messages/stream", tags=["mobile"], dependencies=chat)
    async def mobile_stream(request: Request) -> Response:
        """A message from the app (with its `X-Device-Token`), answered as server-sent events:
        `typing`, `part`..., `done`. A reply whose stream closed early is pushed."""

        async def handle(payload: Any) -> Response:
            device, utterance = await mobile.parse(
                hub, payload, token=device_token(request), caller=request.state.caller
            )
            events = mobile.event_stream(
                hub, device, utterance, keepalive_s=hub.config.mobile_keepalive_s
            )
            return mobile.EventStreamResponse(events)

        return await _guard("mobile", request, handle, mobile.FIELDS)

    @router.websocket("/connectors/mobile/socket")
    async def mobile_socket(websocket: WebSocket, device_id: str) -> None:
        """The app's messages over one WebSocket (`connectors.mobile.socket_session`); the
        device token comes as `?device_token=` or the `X-Device-Token` header."""
        caller = await socket_caller(websocket, "chat")
        if caller is None:
            return
        await websocket.accept()
        await mobile.socket_session(
            hub,
            websocket,
            device_id,
            token=device_token(websocket),
            caller=caller,
            disconnect=WebSocketDisconnect,
        )
        with contextlib.suppress(RuntimeError):
            await websocket.close()

    # --- Rasa REST and callback --------------------------------------------------------------

    @router.get("/webhooks/rest/", tags=["channels"])
    async def rasa_rest_health() -> dict[str, str]:
        """Rasa REST channel: health."""
        return {"status": "ok"}

    @router.post("/webhooks/rest/webhook", tags=["channels"])
    async def rasa_rest(request: Request) -> Response:
        """Rasa REST channel: `{"sender", "message", "metadata"?}` in, bot messages out."""

        async def handle(payload: Any) -> Response:
            caller = await _rasa_caller(hub, request)
            message = read_model(rasa.RestMessage, payload)
            utterance = rasa.parse(message)
            hub.admit(utterance, caller)
            reply = await hub.turn(utterance)
            return JSONResponse(rasa.render_rest(reply, message.sender))

        return await _guard("rasa", request, handle, rasa.FIELDS)

    @router.get("/webhooks/callback/", tags=["channels"])
    async def rasa_callback_health() -> dict[str, str]:
        """Rasa callback channel: health."""
        return {"status": "ok"}

    @router.post("/webhooks/callback/webhook", tags=["channels"])
    async def rasa_callback(request: Request) -> Response:
        """Rasa callback channel: answers `success` at once, then POSTs each bot message to
        `ASSISTANT_RASA_CALLBACK_URL`."""

        async def handle(payload: Any) -> Response:
            url = hub.config.rasa_callback_url
            if url is None:
                return error(
                    404,
                    "channel_disabled",
                    "ASSISTANT_RASA_CALLBACK_URL",
                    "is not set; the callback channel needs the URL to POST bot messages to",
                )
            caller = await _rasa_caller(hub, request)
            message = read_model(rasa.RestMessage, payload)
            utterance = rasa.parse(message, channel="callback")
            hub.admit(utterance, caller)
            hub.spawn(_rasa_callback(hub, utterance, message.sender, url), name="rasa-callback")
            return PlainTextResponse("success")

        return await _guard("rasa_callback", request, handle, rasa.FIELDS)

    # --- outbound webhooks -------------------------------------------------------------------

    admin = [Depends(requires_admin)]

    @router.post("/connectors/webhooks", status_code=201, tags=["webhooks"], dependencies=admin)
    async def register_webhook(request: Request) -> Response:
        """Register a URL for the replies of a channel, a session, or (neither given) all.

        The answer shows the secret that signs the deliveries, once."""

        async def handle(payload: Any) -> Response:
            body = read_model(WebhookRegistration, payload)
            try:
                await hub.config.webhook_targets.check_url(body.url)
            except TargetRefused as e:
                raise PayloadError("url", str(e)) from e
            hook = await hub.webhooks.store.register(
                url=body.url, channel=body.channel, session_id=body.session_id, secret=body.secret
            )
            return JSONResponse({**hook.public(), "secret": hook.secret}, status_code=201)

        return await _guard("webhooks", request, handle, {})

    @router.get("/connectors/webhooks", tags=["webhooks"], dependencies=admin)
    async def list_webhooks() -> list[dict[str, Any]]:
        """The registered webhooks (without their secrets)."""
        return [h.public() for h in await hub.webhooks.store.webhooks()]

    @router.delete(
        "/connectors/webhooks/{webhook_id}", status_code=204, tags=["webhooks"], dependencies=admin
    )
    async def remove_webhook(webhook_id: str) -> Response:
        """Forget a webhook and what it still had to deliver."""
        if await hub.webhooks.store.remove(webhook_id):
            return Response(status_code=204)
        return error(404, "not_found", "webhook_id", f"no webhook {webhook_id!r}")

    @router.get(
        "/connectors/webhooks/{webhook_id}/deliveries", tags=["webhooks"], dependencies=admin
    )
    async def webhook_deliveries(
        webhook_id: str, status: Literal["pending", "delivered", "dead"] | None = None
    ) -> Response:
        """A webhook's deliveries: `pending` ones are still being retried, `dead` ones were
        given up (the dead-letter list) and can be sent again."""
        if await hub.webhooks.store.get(webhook_id) is None:
            return error(404, "not_found", "webhook_id", f"no webhook {webhook_id!r}")
        found = await hub.webhooks.store.deliveries(webhook_id, status=status)
        return JSONResponse([d.public() for d in found])

    @router.post(
        "/connectors/webhooks/{webhook_id}/deliveries/{delivery_id}/retry",
        status_code=202,
        tags=["webhooks"],
        dependencies=admin,
    )
    async def retry_delivery(webhook_id: str, delivery_id: str) -> Response:
        """Send a dead delivery again, from its first attempt."""
        if not await hub.webhooks.store.retry(webhook_id, delivery_id, now=time.time()):
            return error(
                404, "not_found", "delivery_id", f"no dead delivery {delivery_id!r} of this webhook"
            )
        hub.webhooks.wake()
        return JSONResponse({"id": delivery_id, "status": "pending"}, status_code=202)

    @router.post(
        "/connectors/webhooks/messages",
        status_code=202,
        tags=["webhooks"],
        dependencies=[Depends(requires_chat)],
    )
    async def webhook_message(request: Request) -> Response:
        """A user message whose reply is delivered to the matching webhooks only."""

        async def handle(payload: Any) -> Response:
            body = read_model(WebhookMessage, payload)
            own_session(body.session_id, turn=True)
            utterance = Utterance(
                text=body.text,
                session_id=body.session_id,
                channel=body.channel,
                locale=body.locale,
                message_id=body.message_id,
                metadata=body.metadata,
            )
            hub.admit(utterance, _caller_of(request))
            reply = await hub.assistant.handle(utterance)
            deliveries = await hub.webhooks.publish(utterance, reply)
            accepted = {"session_id": body.session_id, "deliveries": deliveries}
            return JSONResponse(accepted, status_code=202)

        return await _guard("webhooks", request, handle, {})

    # --- web chat ----------------------------------------------------------------------------

    page_headers = chat_headers(hub.config)

    @router.get("/chat", include_in_schema=False)
    async def chat_page() -> FileResponse:
        """The web chat page: talks to the assistant over the socket.io channel."""
        return FileResponse(
            WEB / "chat.html", media_type="text/html; charset=utf-8", headers=page_headers
        )

    return router


def chat_headers(config: ConnectorConfig) -> dict[str, str]:
    """The web chat page's security headers: its own scripts and styles only (no inline
    script, so an injected `javascript:` link cannot run), framed only by this origin and the
    configured ones (`ASSISTANT_CHAT_FRAME_ANCESTORS`), no MIME sniffing.

    >>> chat_headers(ConnectorConfig())["Content-Security-Policy"].split("; ")[-1]
    "frame-ancestors 'self'"
    """
    ancestors = " ".join(["'self'", *config.chat_frame_ancestors])
    headers = {
        "Content-Security-Policy": (
            "default-src 'self'; script-src 'self'; style-src 'self'; "
            "img-src 'self' https: http: data:; connect-src 'self'; object-src 'none'; "
            f"base-uri 'none'; form-action 'self'; frame-ancestors {ancestors}"
        ),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
    }
    if not config.chat_frame_ancestors:  # browsers without CSP frame-ancestors
        headers["X-Frame-Options"] = "SAMEORIGIN"
    return headers


async def _rasa_callback(hub: Hub, utterance: Utterance, recipient: str, url: str) -> None:
    try:
        reply = await hub.turn(utterance)
        for message in rasa.render_rest(reply, recipient):
            await post_json(
                hub.client,
                url,
                message,
                deadline=time.monotonic() + _CALLBACK_WINDOW_S,
                event="connector.rasa.callback",
            )
    except DeliveryError as e:
        log.error("connector.rasa.callback_failed", extra={"problem": str(e)})
    except Exception:
        log.exception("connector.rasa.turn_failed", extra={"callback": True})


__all__ = ["error", "mount_connectors"]
