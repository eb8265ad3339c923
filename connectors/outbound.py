"""Outbound POSTs of bot messages (Kakao's callback, Rasa's callback channel), retried on
network errors and 5xx answers until they are accepted or their deadline passes.

    async with httpx.AsyncClient() as client:
        await post_json(client, "https://bot-api.kakao.com/callback/...", body,
                        deadline=time.monotonic() + 60)

A 4xx answer is final: the target understood and refused, so sending again would not help.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Mapping
from typing import Any

import httpx

from connectors.errors import DeliveryError

log = logging.getLogger("connector.outbound")


async def post_json(
    client: httpx.AsyncClient,
    url: str,
    body: Any,
    *,
    deadline: float,
    headers: Mapping[str, str] | None = None,
    first_retry_s: float = 0.5,
    max_retry_s: float = 8.0,
    timeout_s: float = 10.0,
    event: str = "connector.outbound",
) -> httpx.Response:
    """POST `body` as JSON until a 2xx/3xx answer; `deadline` is on `time.monotonic()`'s clock.

    Raises `DeliveryError` when the target refuses (4xx) or the deadline passes first.
    """
    content = json.dumps(body, ensure_ascii=False).encode()
    send_headers = {"content-type": "application/json", **(headers or {})}
    wait = first_retry_s
    attempt = 0
    while True:
        attempt += 1
        left = deadline - time.monotonic()
        if left <= 0:
            raise DeliveryError(f"{url}: not accepted before the deadline ({attempt - 1} tries)")
        problem: str
        try:
            response = await client.post(
                url, content=content, headers=send_headers, timeout=min(timeout_s, left)
            )
        except httpx.TransportError as e:
            problem = f"{type(e).__name__}: {e}"
        else:
            if response.status_code < 400:
                log.info(f"{event}.delivered", extra={"url": url, "attempts": attempt})
                return response
            if response.status_code < 500 and response.status_code != 429:
                raise DeliveryError(f"{url} refused the message: HTTP {response.status_code}")
            problem = f"HTTP {response.status_code}"
        log.warning(f"{event}.retry", extra={"url": url, "attempt": attempt, "problem": problem})
        pause = min(wait, max(0.0, deadline - time.monotonic()))
        await asyncio.sleep(pause)
        wait = min(wait * 2, max_retry_s)


__all__ = ["post_json"]
