"""Fixtures of the connector tests: an assistant with the test skills, a local HTTP receiver."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from assistant.dialogue import Assistant

from .helpers import Receiver, make_assistant


@pytest.fixture
async def assistant(tmp_path: Path) -> AsyncIterator[Assistant]:
    a = await make_assistant(tmp_path)
    yield a
    await a.close()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    r = await Receiver().start()
    yield r
    await r.stop()
