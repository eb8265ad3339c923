"""The Rasa-compatible socket.io channel (python-socketio, ASGI), as the `rasa-webchat` widget
and the `/chat` page speak it.

    client -> session_request {session_id?}      server -> session_confirm "<session id>"
    client -> user_uttered {message, session_id?, customData?}
                                                 server -> bot_uttered {text, quick_replies?, ...}
                                                           (one event per message)
    anything that is not a valid utterance       server -> error {code, message, fields}

An invalid event gets an `error` event and the connection stays open.

    sio = build_socketio(hub)
    app.mount("/socket.io", socketio.ASGIApp(sio, socketio_path="socket.io"))
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

import socketio  # type: ignore[import-untyped]  # python-socketio ships no type hints

from assistant.errors import InputError
from connectors import rasa
from connectors.errors import PayloadError
from connectors.errors import error_body as _error
from connectors.hub import Hub
from connectors.payload import read_model

log = logging.getLogger("connector.socketio")


def build_socketio(hub: Hub) -> Any:
    """A `socketio.AsyncServer` whose events run turns through `hub`."""
    sio = socketio.AsyncServer(
        async_mode="asgi",
        cors_allowed_origins=hub.config.socketio_cors,
        logger=False,
        engineio_logger=False,
        # A long-polling GET is answered by the next ping at the latest: keep that well under
        # the server's request time limit (30 s by default).
        ping_interval=20,
    )

    async def session_request(sid: str, data: Any = None) -> None:
        wanted = data.get("session_id") if isinstance(data, dict) else None
        if isinstance(wanted, str) and wanted.strip() and len(wanted) <= 128:
            session_id = wanted
        else:
            session_id = uuid.uuid4().hex
        await sio.save_session(sid, {"session_id": session_id})
        await sio.enter_room(sid, session_id)
        await sio.emit("session_confirm", session_id, to=sid)

    async def user_uttered(sid: str, data: Any = None) -> None:
        session = await sio.get_session(sid)
        try:
            event = read_model(rasa.UserUttered, data)
            utterance = rasa.parse_socket(event, session_id=session.get("session_id") or sid)
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
        except Exception:
            log.exception("connector.socketio.turn_failed", extra={"sid": sid})
            problem = "could not be answered because of an internal error; try again later"
            await sio.emit("error", _error("internal_error", "message", problem), to=sid)
            return
        for message in rasa.render_socketio(reply):
            await sio.emit("bot_uttered", message, to=sid)

    sio.on("session_request", session_request)
    sio.on("user_uttered", user_uttered)
    return sio


__all__ = ["build_socketio"]
