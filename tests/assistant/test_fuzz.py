"""Fuzzing the running server from its own OpenAPI schema (schemathesis): whatever a client
sends that the schema admits or nearly admits, no 5xx, and answers that match the schema.

Bounded: a few dozen examples per operation (ASSISTANT_FUZZ_EXAMPLES to change it).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import response_schema_conformance  # noqa: E402

from .test_server_process import light_bot, serving  # noqa: E402

EXAMPLES = int(os.environ.get("ASSISTANT_FUZZ_EXAMPLES", "25"))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("fuzz")
    database = folder / "fuzz.db"
    bot = light_bot(folder / "bot", skills="[{type: smalltalk}]")  # Kiwi meets the fuzzer
    env = {
        "ASSISTANT_RATE_PER_SESSION": "1000000",
        "ASSISTANT_RATE_PER_CLIENT": "1000000",
        "ASSISTANT_ADMIN_API_KEY": "fuzz-admin-key",
    }
    with serving(f"sqlite:///{database}", "--bot", bot, env=env) as base:
        yield base


@pytest.fixture(scope="module")
def api_schema(server: str) -> object:
    return schemathesis.openapi.from_url(f"{server}/openapi.json")


def fuzz(operation: Any, server: str) -> Callable[[], None]:
    """A hypothesis test of one operation."""
    headers = {"Authorization": "Bearer fuzz-admin-key"} if "/admin/" in operation.path else None

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def run(case: Any) -> None:
        case.call_and_validate(
            base_url=server,
            headers=headers,
            checks=[not_a_server_error, response_schema_conformance],
        )

    return run  # type: ignore[no-any-return]


def test_no_server_errors_and_answers_match_the_schema(api_schema: Any, server: str) -> None:
    # schemathesis' own pytest plugin does not run on this pytest; drive hypothesis directly
    failures: list[str] = []
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 5
    for operation in operations:
        try:
            fuzz(operation, server)()
        except Exception as e:  # collect every operation's failure, then report them all
            failures.append(f"{operation.method.upper()} {operation.path}: {e}")
    assert not failures, "\n\n".join(failures)


def test_the_schema_covers_the_api(api_schema: object, server: str) -> None:
    import httpx

    paths = set(httpx.get(f"{server}/openapi.json", timeout=30).json()["paths"])
    assert {"/v1/chat", "/v1/sessions/{session_id}", "/healthz", "/readyz"} <= paths
    assert Path(__file__).exists()
