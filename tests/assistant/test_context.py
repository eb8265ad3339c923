from __future__ import annotations

from assistant.context import DialogueContext, TurnRecord
from assistant.types import ContextUpdate, NamedContext


def turn(ctx: DialogueContext, now: float, update: ContextUpdate | None = None) -> None:
    """What the dialogue manager does around one turn."""
    ctx.expire(now=now)
    if update is not None:
        ctx.apply(update, now=now)
    ctx.end_turn(now=now)


def test_context_lives_for_its_lifespan_in_turns() -> None:
    ctx = DialogueContext()
    turn(ctx, 0, ContextUpdate(activate=(NamedContext(name="pay", lifespan=2),)))
    turn(ctx, 1)
    assert ctx.active_context("pay", now=2) is not None  # the second turn after still sees it
    turn(ctx, 2)
    assert ctx.active_context("pay", now=3) is None
    assert "pay" not in ctx.contexts


def test_context_disappears_after_its_ttl_even_with_turns_left() -> None:
    ctx = DialogueContext()
    turn(ctx, 100, ContextUpdate(activate=(NamedContext(name="otp", lifespan=50, ttl=60),)))
    assert ctx.active_context("otp", now=159) is not None
    assert ctx.active_context("otp", now=160) is None
    ctx.expire(now=161)
    assert ctx.contexts == {}


def test_lifespan_zero_deletes_a_context() -> None:
    ctx = DialogueContext()
    turn(ctx, 0, ContextUpdate(activate=(NamedContext(name="a", lifespan=5),)))
    turn(ctx, 1, ContextUpdate(activate=(NamedContext(name="a", lifespan=0),)))
    assert ctx.active_context("a", now=2) is None


def test_reactivating_a_context_renews_its_lifespan_and_params() -> None:
    ctx = DialogueContext()
    turn(ctx, 0, ContextUpdate(activate=(NamedContext(name="a", lifespan=1, params={"n": 1}),)))
    turn(ctx, 1, ContextUpdate(activate=(NamedContext(name="a", lifespan=1, params={"n": 2}),)))
    active = ctx.active_context("a", now=2)
    assert active is not None and active.params == {"n": 2}


def test_slots_topic_and_deactivation() -> None:
    ctx = DialogueContext()
    ctx.apply(
        ContextUpdate(
            topic="faq:hours",
            slots={"city": "서울", "date": "2026-12-01"},
            activate=(NamedContext(name="x"),),
        ),
        now=0,
    )
    ctx.apply(ContextUpdate(slots={"date": None}, deactivate=("x",)), now=0)
    assert ctx.topic == "faq:hours"
    assert ctx.slots == {"city": "서울"}
    assert ctx.contexts == {}
    ctx.apply(ContextUpdate(topic=""), now=0)
    assert ctx.topic is None


def test_history_keeps_only_the_most_recent_turns() -> None:
    ctx = DialogueContext(history_size=3)
    for i in range(5):
        ctx.record(TurnRecord(user=f"u{i}", reply="r", route="x", confidence=0.5, at=i))
    assert [t.user for t in ctx.history] == ["u2", "u3", "u4"]
    assert ctx.last_turn is not None and ctx.last_turn.user == "u4"


def test_context_round_trips_through_json() -> None:
    ctx = DialogueContext()
    ctx.apply(ContextUpdate(topic="t", activate=(NamedContext(name="a", ttl=5),)), now=10)
    again = DialogueContext.model_validate_json(ctx.model_dump_json())
    assert again == ctx
