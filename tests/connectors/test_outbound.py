"""Outbound POSTs of callbacks: retried on network errors and 5xx, final on 4xx, bounded by
their deadline."""

from __future__ import annotations

import time

import httpx
import pytest

from connectors.errors import DeliveryError
from connectors.outbound import post_json


def transport(*answers: int | Exception) -> tuple[httpx.MockTransport, list[httpx.Request]]:
    seen: list[httpx.Request] = []
    left = list(answers)

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = left.pop(0) if left else 200
        if isinstance(answer, Exception):
            raise answer
        return httpx.Response(answer)

    return httpx.MockTransport(handle), seen


async def test_network_errors_and_5xx_are_retried_until_accepted() -> None:
    mock, seen = transport(httpx.ConnectError("refused"), 502, 200)
    async with httpx.AsyncClient(transport=mock) as client:
        response = await post_json(
            client,
            "http://127.0.0.1:1/cb",
            {"text": "안녕"},
            deadline=time.monotonic() + 5,
            first_retry_s=0.01,
        )
    assert response.status_code == 200 and len(seen) == 3
    assert seen[-1].headers["content-type"] == "application/json"
    assert seen[-1].content.decode() == '{"text": "안녕"}'


async def test_a_4xx_is_final() -> None:
    mock, seen = transport(404)
    async with httpx.AsyncClient(transport=mock) as client:
        with pytest.raises(DeliveryError, match="HTTP 404"):
            await post_json(client, "http://127.0.0.1:1/cb", {}, deadline=time.monotonic() + 5)
    assert len(seen) == 1


async def test_the_deadline_bounds_the_retries() -> None:
    mock, seen = transport(*([503] * 100))
    started = time.monotonic()
    async with httpx.AsyncClient(transport=mock) as client:
        with pytest.raises(DeliveryError, match="deadline"):
            await post_json(
                client, "http://127.0.0.1:1/cb", {}, deadline=started + 0.3, first_retry_s=0.05
            )
    assert time.monotonic() - started < 1.0 and 2 <= len(seen) < 10
