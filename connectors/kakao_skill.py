"""The KakaoTalk skill server's transport: the shared secret, the time budget and the callback.

Kakao waits 5 seconds for a skill's answer. A turn that takes longer than the budget
(`ASSISTANT_KAKAO_TIME_BUDGET`, 3.5 s) on a block with callback enabled (`callbackUrl` in the
request) is answered `useCallback` at once; the real response is POSTed to the callback URL
when it is ready, once, retried on network errors while the URL is valid (one minute).

    response = await answer(hub, payload, headers)   # the JSON to send back to Kakao

Raises `PayloadError` (400) for a request with a missing or wrong field, `Unauthorized` (401 or
403) when the request may not run a turn (`connectors.auth.kakao_caller`: once any secret is
set, every request carries its bot's), `InputError` when the assistant refuses the utterance
and `RateLimited` when its session or bot is over its limit.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from typing import Any

from assistant.types import Reply, TextPart, Utterance
from connectors import kakao
from connectors.auth import kakao_caller
from connectors.errors import DeliveryError
from connectors.hub import Hub
from connectors.outbound import post_json
from connectors.payload import read_model

log = logging.getLogger("connector.kakao")

#: Seconds kept back from the callback URL's minute, for the last POST to arrive in time.
_CALLBACK_MARGIN_S = 2.0
_SORRY = "죄송해요, 지금은 답변을 드리기 어려워요. 잠시 후 다시 말씀해 주세요."


async def answer(
    hub: Hub, payload: Any, headers: Mapping[str, str], *, address: str = "unknown"
) -> dict[str, Any]:
    """The skill response to one Kakao request (see the module's docstring); `address` is
    the client's, for the rate limits of a server without secrets."""
    received = time.monotonic()
    auth = hub.auth
    caller = kakao_caller(
        hub.config,
        payload,
        headers,
        keys_required=auth is not None and auth.required("chat"),
        address=address,
    )
    request = read_model(kakao.KakaoRequest, payload)
    utterance = kakao.parse(request)
    hub.admit(utterance, caller)
    callback_url = request.userRequest.callbackUrl
    if callback_url is not None and not hub.config.kakao_callback_allowed(callback_url):
        # Anyone can put any URL here: never POST to hosts that are not Kakao's (or configured).
        log.warning("connector.kakao.callback_refused", extra={"callback": callback_url[:200]})
        callback_url = None
    turn = hub.spawn(_respond(hub, utterance), name=f"kakao-turn-{utterance.session_id}")
    if callback_url is None:
        return await turn
    done, _ = await asyncio.wait({turn}, timeout=hub.config.kakao_time_budget_s)
    if turn in done:
        return turn.result()
    deadline = received + hub.config.kakao_callback_validity_s - _CALLBACK_MARGIN_S
    hub.spawn(_callback(hub, turn, callback_url, deadline), name="kakao-callback")
    log.info("connector.kakao.use_callback", extra={"session_id": utterance.session_id})
    return kakao.callback_ack(hub.config.kakao_wait_text)


async def _respond(hub: Hub, utterance: Utterance) -> dict[str, Any]:
    reply = await hub.turn(utterance)
    contexts = await hub.contexts(utterance.session_id)
    return kakao.render(reply, contexts=contexts, locale=utterance.locale or "ko")


async def _callback(
    hub: Hub, turn: asyncio.Task[dict[str, Any]], url: str, deadline: float
) -> None:
    try:
        response = await turn
    except Exception:
        log.exception("connector.kakao.turn_failed", extra={"callback": True})
        sorry = Reply(parts=(TextPart(text=_SORRY),), route="fallback")
        response = kakao.render(sorry)
    try:
        await post_json(
            hub.client,
            url,
            response,
            deadline=deadline,
            timeout_s=hub.config.outbound_timeout_s,
            event="connector.kakao.callback",
        )
    except DeliveryError as e:
        log.error("connector.kakao.callback_failed", extra={"problem": str(e)})


__all__ = ["answer"]
