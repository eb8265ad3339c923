"""What the connector tests share: an assistant of test skills, a local HTTP receiver, and a
real uvicorn server in a thread."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from assistant.dialogue import Assistant
from assistant.settings import Settings
from assistant.skill import TurnInput
from assistant.store import SqlStore
from assistant.types import (
    Button,
    Candidate,
    CardPart,
    ContextUpdate,
    DirectivePart,
    NamedContext,
    QuickRepliesPart,
    QuickReply,
    Reply,
    ReplyPart,
    TextPart,
)
from tests.assistant.fakes import make_bot, pairs
from tests.live import serving_app


class ReplySkill:
    """Answers `reply` when `keyword` is in the text (every turn when `keyword` is "")."""

    def __init__(
        self,
        name: str,
        keyword: str,
        parts: Sequence[ReplyPart],
        *,
        confidence: float = 0.95,
        delay_s: float = 0.0,
        update: ContextUpdate | None = None,
    ) -> None:
        self.name = name
        self.keyword = keyword
        self.reply = Reply(parts=tuple(parts), route=f"{name}:{keyword}", confidence=confidence)
        self.delay_s = delay_s
        self.update = update or ContextUpdate()
        self.seen: list[TurnInput] = []

    async def propose(self, turn: TurnInput) -> list[Candidate]:
        self.seen.append(turn)
        if self.keyword not in turn.text:
            return []
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        return [
            Candidate(
                reply=self.reply,
                confidence=self.reply.confidence,
                skill=self.name,
                update=self.update,
            )
        ]


def demo_skills() -> list[ReplySkill]:
    """Skills of the tests' conversations: hours (with quick replies and a context), a card,
    and a slow answer."""
    hours = ReplySkill(
        "faq",
        "영업시간",
        [
            TextPart(text="평일 오전 9시부터 오후 6시까지 운영합니다."),
            QuickRepliesPart(
                options=(
                    QuickReply(label="상담원 연결"),
                    QuickReply(label="주말 영업", text="주말에도 해요?"),
                )
            ),
        ],
        confidence=0.91,
        update=ContextUpdate(
            activate=(NamedContext(name="faq_topic", lifespan=3, params={"faq_id": "hours"}),)
        ),
    )
    card = ReplySkill(
        "card",
        "매장",
        [
            CardPart(
                title="강남점",
                description="서울 강남구 테헤란로 1",
                buttons=(
                    Button(label="길찾기", url="https://map.example.org/gangnam"),
                    Button(label="전화하기", text="강남점 전화번호"),
                ),
            )
        ],
    )
    slow = ReplySkill("slow", "느리게", [TextPart(text="천천히 찾은 답이에요.")], delay_s=1.0)
    return [hours, card, slow]


#: The answer of the car tests' service-hours question: three sentences.
SERVICE_HOURS = (
    "한빛모터스 서비스센터는 평일 오전 8시 30분부터 오후 5시 30분까지 운영합니다. "
    "토요일은 낮 12시 30분까지 열고, 일요일과 공휴일은 쉽니다. "
    "긴급출동은 080-700-0000으로 전화하세요."
)


def car_skills() -> list[ReplySkill]:
    """Skills of the car tests: a long answer with a card and five options, a navigation
    directive, and a slow manual answer beside a quick one."""
    hours = ReplySkill(
        "faq",
        "서비스센터",
        [
            TextPart(text=SERVICE_HOURS),
            CardPart(
                title="가까운 서비스센터",
                description="강남 서비스센터 · 2.1km",
                buttons=(Button(label="길안내", text="강남 서비스센터로 안내해 줘"),),
            ),
            QuickRepliesPart(
                options=tuple(
                    QuickReply(label=label)
                    for label in ("정비 예약", "토요일 운영", "긴급출동", "대차 서비스", "위치")
                )
            ),
        ],
        confidence=0.9,
    )
    navigate = ReplySkill(
        "task",
        "안내해",
        [
            TextPart(text="강남역으로 안내를 시작할게요."),
            DirectivePart(
                name="navigation.set_destination",
                payload={"name": "강남역", "lat": 37.4979, "lon": 127.0276},
                text="강남역으로 길안내를 시작합니다.",
            ),
        ],
        confidence=0.95,
    )
    manual = ReplySkill(
        "mrc", "타이어", [TextPart(text="적정 공기압은 36 psi입니다.")], delay_s=10.0
    )
    quick = ReplySkill(
        "smalltalk",
        "타이어",
        [TextPart(text="타이어 점검은 서비스센터에서 해 드려요.")],
        confidence=0.7,
    )
    return [hours, navigate, manual, quick]


async def make_assistant(tmp_path: Path, skills: Sequence[Any] | None = None) -> Assistant:
    skills = list(skills if skills is not None else demo_skills())
    bot = make_bot(tmp_path, skills, timeout_ms=5000)
    store = SqlStore(f"sqlite:///{tmp_path / 'sessions.db'}")
    await store.open()
    return Assistant(bot, store, pairs(bot, skills))


# --- a local HTTP receiver ------------------------------------------------------------------


@dataclass
class Received:
    body: bytes
    headers: dict[str, str]

    def json(self) -> Any:
        import json

        return json.loads(self.body)


@dataclass
class Receiver:
    """An HTTP server on 127.0.0.1 that records POSTs and answers from `statuses` (then 200)."""

    statuses: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    url: str = ""
    _runner: web.AppRunner | None = None
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def start(self, port: int = 0) -> Receiver:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        server = site._server
        assert server is not None
        bound = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{bound}/hook"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        self.received.append(Received(await request.read(), dict(request.headers)))
        self._arrived.set()
        status = self.statuses.pop(0) if self.statuses else 200
        return web.json_response({"ok": status < 400}, status=status)

    async def wait_for(self, count: int, timeout_s: float = 10.0) -> list[Received]:
        async with asyncio.timeout(timeout_s):
            while len(self.received) < count:
                self._arrived.clear()
                await self._arrived.wait()
        return self.received


# --- a real server --------------------------------------------------------------------------

#: The admin API key of the servers that `serving` starts.
ADMIN_KEY = "connectors-test-admin-key"
ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}


@contextmanager
def serving(tmp_path: Path, skills: Callable[[], Sequence[Any]] = demo_skills) -> Iterator[str]:
    """The server app (create_app) around an assistant of test skills, served by uvicorn on
    127.0.0.1 in a thread of its own; yields its base URL."""

    async def build() -> Assistant:
        return await make_assistant(tmp_path, skills())

    with serving_app(build, Settings(admin_api_key=ADMIN_KEY), start_s=30) as base:
        yield base


@asynccontextmanager
async def served(
    tmp_path: Path, skills: Callable[[], Sequence[Any]] = demo_skills
) -> AsyncIterator[str]:
    """`serving` for async tests: starting and stopping the server does not block the test's
    event loop (where a local receiver may be answering the server)."""
    manager = serving(tmp_path, skills)
    base = await asyncio.to_thread(manager.__enter__)
    try:
        yield base
    finally:
        await asyncio.to_thread(manager.__exit__, None, None, None)
