"""Follow-ups, corrections, "repeat that" and hand-off requests, read by the dialogue manager."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from assistant.context import DialogueContext, TurnRecord
from assistant.dialogue import Assistant
from assistant.moves import read_move
from assistant.skill import TurnInput
from assistant.store import SqlStore
from assistant.types import Candidate, ContextUpdate, HandoffPart, Utterance

from .fakes import KeywordSkill, make_bot, pairs, text_reply


class RetrievalSkill:
    """An FAQ stand-in: each entry's confidence is the share of its words found in the text."""

    reads_follow_ups = True

    def __init__(self, entries: dict[str, tuple[str, str]]) -> None:
        self.name = "faq"
        self.entries = entries  # id -> (keywords, answer)
        self.seen: list[str] = []

    async def propose(self, turn: TurnInput) -> list[Candidate]:
        self.seen.append(turn.text)
        found = []
        for entry_id, (keywords, answer) in self.entries.items():
            words = keywords.split()
            share = sum(w in turn.text for w in words) / len(words)
            if share > 0:
                route = f"faq:{entry_id}"
                found.append(
                    Candidate(
                        reply=text_reply(answer, route, share),
                        confidence=share,
                        skill=self.name,
                        update=ContextUpdate(topic=route),
                        suggestion=keywords,
                    )
                )
        return found


ENTRIES = {
    "hours": ("서비스센터 영업시간", "평일 8시 30분부터 17시 30분까지예요."),
    "weekend": ("주말 서비스센터", "토요일 오전에만 열어요."),
    "hours-alt": ("영업시간 안내", "영업시간은 지점마다 달라요."),
    "warranty": ("보증 기간", "3년 또는 6만 km예요."),
}


@pytest.fixture
async def assistant(tmp_path: Path) -> AsyncIterator[tuple[Assistant, RetrievalSkill]]:
    skill = RetrievalSkill(ENTRIES)
    bot = make_bot(tmp_path, [skill], thresholds={"faq": 0.6})
    store = SqlStore(f"sqlite:///{tmp_path / 's.db'}")
    await store.open()
    a = Assistant(bot, store, pairs(bot, [skill]))
    yield a, skill
    await a.close()


def say(text: str) -> Utterance:
    return Utterance(text=text, session_id="s1", locale="ko")


async def test_a_follow_up_is_read_with_the_question_before_it(assistant) -> None:  # type: ignore[no-untyped-def]
    a, skill = assistant
    assert (await a.handle(say("서비스센터 영업시간 알려줘"))).route == "faq:hours"
    reply = await a.handle(say("그럼 주말에는?"))
    assert reply.route == "faq:weekend"
    assert "주말에는 서비스센터 영업시간 알려줘" in skill.seen  # the rewritten reading
    view = await a.store.get_session("s1")
    assert view is not None
    logged = [c for c in view.turns[-1].candidates if c["chosen"]]
    assert logged[0]["details"]["reading"] == "주말에는 서비스센터 영업시간 알려줘"


async def test_the_plain_reading_wins_when_it_is_better(assistant) -> None:  # type: ignore[no-untyped-def]
    a, _ = assistant
    await a.handle(say("서비스센터 영업시간 알려줘"))
    # a full question of its own: the plain reading finds it with full confidence
    assert (await a.handle(say("그럼 보증 기간은?"))).route == "faq:warranty"


async def test_a_correction_leaves_out_the_corrected_answer(assistant) -> None:  # type: ignore[no-untyped-def]
    a, _ = assistant
    assert (await a.handle(say("영업시간 안내해 줘"))).route == "faq:hours-alt"
    reply = await a.handle(say("아니 그거 말고 서비스센터 영업시간"))
    assert reply.route == "faq:hours"
    again = await a.handle(say("아니 그거 말고"))  # nothing new: the previous question, again
    assert again.route not in ("faq:hours",)


async def test_repeat_says_the_last_reply_again(assistant) -> None:  # type: ignore[no-untyped-def]
    a, _ = assistant
    first = await a.handle(say("보증 기간"))
    again = await a.handle(say("다시 말해줘"))
    assert again.route == "repeat" and again.parts == first.parts
    english = await a.handle(Utterance(text="repeat that", session_id="s1", locale="en"))
    assert english.parts == first.parts


async def test_handoff_on_request(assistant) -> None:  # type: ignore[no-untyped-def]
    a, _ = assistant
    reply = await a.handle(say("상담원 연결해 주세요"))
    assert reply.route == "handoff"
    (part,) = reply.parts
    assert isinstance(part, HandoffPart) and part.reason == "requested"


async def test_handoff_after_repeated_failures(assistant) -> None:  # type: ignore[no-untyped-def]
    a, _ = assistant
    routes = [(await a.handle(say(f"알 수 없는 말 {i}"))).route for i in range(3)]
    assert routes == ["fallback", "fallback", "handoff"]


def context_after(question: str, route: str) -> DialogueContext:
    context = DialogueContext()
    context.record(TurnRecord(user=question, reply="...", route=route, confidence=0.9, at=0.0))
    context.topic = route
    return context


@pytest.mark.parametrize(
    ("text", "locale", "kind"),
    [
        ("그럼 주말에는?", "ko", "follow_up"),
        ("그거 얼마야?", "ko", "follow_up"),
        ("토요일은?", "ko", "follow_up"),
        ("and on weekends?", "en", "follow_up"),
        ("what about saturday?", "en", "follow_up"),
        ("how much is it?", "en", "follow_up"),
        ("아니 그거 말고 주말 영업시간", "ko", "correction"),
        ("no, I meant the warranty", "en", "correction"),
        ("다시 말해줘", "ko", "repeat"),
        ("한 번 더 말해 줄래?", "ko", "repeat"),
        ("say that again", "en", "repeat"),
        ("상담원 연결", "ko", "handoff"),
        ("사람이랑 얘기하고 싶어", "ko", "handoff"),
        ("talk to an agent", "en", "handoff"),
        ("상담원 연결 시간이 언제예요?", "ko", "plain"),  # a question about it: the FAQ's
        ("엔진오일 교체 주기 알려줘", "ko", "plain"),
        ("how do I pair my phone with the car", "en", "plain"),
    ],
)
def test_moves(text: str, locale: str, kind: str) -> None:
    context = context_after("서비스센터 영업시간이 어떻게 되나요?", "faq:hours")
    assert read_move(text, locale, context).kind == kind


def test_no_follow_up_without_a_retrieval_topic() -> None:
    context = context_after("안녕", "smalltalk")
    assert read_move("그럼 주말에는?", "ko", context).kind == "plain"


async def test_a_rejected_answer_is_not_given_again_in_the_next_turns(assistant) -> None:  # type: ignore[no-untyped-def]
    a, _ = assistant
    assert (await a.handle(say("영업시간 안내해 줘"))).route == "faq:hours-alt"
    await a.handle(say("아니 그거 말고"))
    # asked again a turn later, the corrected answer stays out
    assert (await a.handle(say("영업시간 안내해 줘"))).route != "faq:hours-alt"


async def test_a_correction_after_small_talk_asks_what_follows_it(tmp_path: Path) -> None:
    faq = RetrievalSkill(ENTRIES)
    talk = KeywordSkill("smalltalk", "안녕", "네, 안녕하세요!", 0.9)
    bot = make_bot(tmp_path, [talk, faq], thresholds={"faq": 0.6})
    store = SqlStore(f"sqlite:///{tmp_path / 's.db'}")
    await store.open()
    a = Assistant(bot, store, pairs(bot, [talk, faq]))
    try:
        assert (await a.handle(say("안녕"))).route == "smalltalk:안녕"
        assert (await a.handle(say("아니 그거 말고 보증 기간"))).route == "faq:warranty"
        english = Utterance(text="no, I meant 보증 기간", session_id="s2", locale="ko")
        await a.handle(Utterance(text="안녕", session_id="s2", locale="ko"))
        assert (await a.handle(english)).route == "faq:warranty"
    finally:
        await a.close()


async def test_several_questions_in_one_message_are_answered_each(assistant) -> None:  # type: ignore[no-untyped-def]
    a, _ = assistant
    reply = await a.handle(say("서비스센터 영업시간 알려줘. 그리고 보증 기간도 궁금해요"))
    text = reply.plain_text()
    assert "평일 8시 30분" in text and "3년 또는 6만 km" in text
    assert reply.route == "faq:warranty"  # the last answer sets the topic
    assert (await a.handle(say("그럼 주말에는?"))).route != "faq:warranty"


def test_a_correction_after_small_talk_or_an_offer() -> None:
    context = DialogueContext()
    context.record(
        TurnRecord(user="안녕", reply="안녕하세요", route="smalltalk", confidence=0.9, at=0.0)
    )
    move = read_move("아니 그거 말고 보증 기간", "ko", context)
    assert (move.kind, move.text, move.exclude) == ("correction", "보증 기간", ("smalltalk",))
    context.record(TurnRecord(user="보증", reply="...", route="clarify", confidence=0.4, at=1.0))
    offered = read_move("no, I meant the battery", "en", context, offered=["faq:a", "faq:b"])
    assert (offered.text, offered.exclude) == ("the battery", ("faq:a", "faq:b"))
    # a form reads its own corrections
    context.record(
        TurnRecord(user="예약", reply="몇 시?", route="task:book", confidence=0.9, at=2.0)
    )
    assert read_move("아니 그거 말고 4시로", "ko", context).kind == "plain"
