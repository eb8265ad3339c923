"""The Rasa-compatible socket.io channel (python-socketio, ASGI), as the `rasa-webchat` widget
and the `/chat` page speak it.

    client connects with auth {token}?           (refused: connect_error {message, data})
    client -> session_request {session_id?}      server -> session_confirm "<session id>"
    client -> user_uttered {message, session_id?, customData?}
                                                 server -> bot_uttered {text, quick_replies?, ...}
                                                           (one event per message)
    anything that is not a valid utterance       server -> error {code, message, fields}

When the channel has a token (`ASSISTANT_RASA_TOKEN`) or the server requires API keys, a client
connects with it, as Rasa's socket.io channel takes its JWT: `io({auth: {token}})`, or
`?token=` in the connection URL (`connectors.auth.token_caller`). Sessions live under
`socketio:` (`assistant.namespaces`). An invalid event, JSON the server will not read (deep
nesting, huge numbers, unpaired surrogates) or a turn over the rate limits gets an `error`
event, and the connection stays open.

    sio = build_socketio(hub)
    app.mount("/socket.io", socketio.ASGIApp(sio, socketio_path="socket.io"))
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any
from urllib.parse import parse_qs

import socketio  # type: ignore[import-untyped]  # python-socketio ships no type hints
from socketio.exceptions import ConnectionRefusedError  # type: ignore[import-untyped]

from assistant import json_input
from assistant.api.auth import address_of, bearer
from assistant.api.middleware import RateLimited
from assistant.errors import InputError
from connectors import rasa
from connectors.auth import token_caller
from connectors.errors import PayloadError, Unauthorized
from connectors.errors import error_body as _error
from connectors.hub import Hub
from connectors.payload import read_model

log = logging.getLogger("connector.socketio")

#: The event an undecodable packet becomes, so that its sender is told (see `_StrictPacket`).
_REFUSED = "__refused__"


class _StrictJson:
    """The JSON module of the channel's packets: `assistant.json_input` reads them."""

    dumps = staticmethod(json.dumps)
    loads = staticmethod(json_input.loads)


class _StrictPacket(socketio.packet.Packet):  # type: ignore[misc]
    """A packet whose JSON `json_input` refuses becomes the event `_REFUSED` carrying the
    reason, answered with an `error` event, instead of an exception inside python-socketio."""

    json = _StrictJson

    def decode(self, encoded_packet: Any) -> int:
        try:
            return int(super().decode(encoded_packet))
        except json_input.JsonInputError as e:
            self.packet_type = socketio.packet.EVENT
            self.data = [_REFUSED, e.problem]
            return 0


def build_socketio(hub: Hub) -> Any:
    """A `socketio.AsyncServer` whose events run turns through `hub`."""
    sio = socketio.AsyncServer(
        async_mode="asgi",
        cors_allowed_origins=hub.config.socketio_cors,
        logger=False,
        engineio_logger=False,
        serializer=_StrictPacket,
        # A long-polling GET is answered by the next ping at the latest: keep that well under
        # the server's request time limit (30 s by default).
        ping_interval=20,
    )

    async def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        token = auth.get("token") if isinstance(auth, dict) else None
        if not isinstance(token, str) or not token:
            query = parse_qs(environ.get("QUERY_STRING", ""))
            token = (query.get("token") or [None])[0] or bearer(environ.get("HTTP_AUTHORIZATION"))
        try:
            caller = await token_caller(
                hub.auth, hub.config, token=token, address=address_of(environ.get("asgi.scope"))
            )
        except Unauthorized as e:
            log.warning("connector.socketio.unauthorized", extra={"field": e.field})
            raise ConnectionRefusedError(e.problem, _error(e.code, e.field, e.problem)) from e
        await sio.save_session(sid, {"caller": caller})

    async def session_request(sid: str, data: Any = None) -> None:
        wanted = data.get("session_id") if isinstance(data, dict) else None
        if isinstance(wanted, str) and wanted.strip() and len(wanted) <= 128:
            session_id = wanted
        else:
            session_id = uuid.uuid4().hex
        async with sio.session(sid) as session:
            session["session_id"] = session_id
        await sio.enter_room(sid, session_id)
        await sio.emit("session_confirm", session_id, to=sid)

    async def user_uttered(sid: str, data: Any = None) -> None:
        session = await sio.get_session(sid)
        try:
            event = read_model(rasa.UserUttered, data)
            utterance = rasa.parse_socket(event, session_id=session.get("session_id") or sid)
            hub.admit(utterance, session.get("caller") or f"sid:{sid}")
            reply = await hub.turn(utterance)
        except PayloadError as e:
            log.info("connector.socketio.parse_failed", extra={"field": e.field})
            await sio.emit("error", _error("invalid_payload", e.field, e.problem), to=sid)
            return
        except InputError as e:
            field = rasa.SOCKET_FIELDS.get(e.field, e.field)
            log.info("connector.socketio.input_refused", extra={"field": field})
            await sio.emit("error", _error("invalid_request", field, e.problem), to=sid)
            return
        except RateLimited as e:
            problem = f"too many messages; retry in {e.retry_after}s"
            await sio.emit("error", _error("rate_limited", e.field, problem), to=sid)
            return
        except Exception:
            log.exception("connector.socketio.turn_failed", extra={"sid": sid})
            problem = "could not be answered because of an internal error; try again later"
            await sio.emit("error", _error("internal_error", "message", problem), to=sid)
            return
        for message in rasa.render_socketio(reply):
            await sio.emit("bot_uttered", message, to=sid)

    async def refused(sid: str, problem: Any = None) -> None:
        log.info("connector.socketio.parse_failed", extra={"field": "body"})
        await sio.emit("error", _error("invalid_payload", "body", str(problem)), to=sid)

    sio.on("connect", connect)
    sio.on("session_request", session_request)
    sio.on("user_uttered", user_uttered)
    sio.on(_REFUSED, refused)
    return sio


__all__ = ["build_socketio"]
