"""Fixtures shared by all tests: real services when they are reachable.

Tests that need PostgreSQL or Redis are skipped with the reason when the service is not
reachable; with ASSISTANT_REQUIRE_SERVICES=1 (set by .ci/run) they fail instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

POSTGRES_URL = os.environ.get(
    "ASSISTANT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


def _service_missing(what: str, why: str) -> None:
    message = f"{what} not reachable ({why})"
    if os.environ.get("ASSISTANT_REQUIRE_SERVICES") == "1":
        pytest.fail(message + "; ASSISTANT_REQUIRE_SERVICES=1 makes this a failure")
    pytest.skip(
        message + "; set ASSISTANT_TEST_POSTGRES_URL / ASSISTANT_TEST_REDIS_URL or start it"
    )


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    psycopg = pytest.importorskip("psycopg")
    from sqlalchemy.engine import make_url

    admin = make_url(POSTGRES_URL)
    name = f"assistant_test_{uuid.uuid4().hex[:12]}"
    conninfo = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        with psycopg.connect(conninfo, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as e:
        _service_missing(
            f"PostgreSQL at {admin.render_as_string(hide_password=True)}", str(e).strip()
        )
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


REDIS_URL = os.environ.get("ASSISTANT_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def redis_url() -> str:
    """A Redis server for lock tests (database 15 by default)."""
    redis = pytest.importorskip("redis")
    try:
        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
        client.ping()
        client.close()
    except redis.RedisError as e:
        _service_missing(f"Redis at {REDIS_URL}", str(e))
    return REDIS_URL
