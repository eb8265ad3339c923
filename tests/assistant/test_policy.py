from __future__ import annotations

from assistant.config import Messages, PolicyConfig
from assistant.policy import CLARIFY_CONTEXT, choose
from assistant.types import Candidate, HandoffPart, QuickRepliesPart, TextPart

from .fakes import text_reply


def cand(skill: str, confidence: float, **kw: object) -> Candidate:
    route = str(kw.pop("route", f"{skill}:{confidence}"))
    return Candidate(
        reply=text_reply(f"{skill} says", route, confidence),
        confidence=confidence,
        skill=skill,
        **kw,  # type: ignore[arg-type]
    )


POLICY = PolicyConfig(
    thresholds={"faq": 0.7, "smalltalk": 0.6},
    default_threshold=0.5,
    clarify_threshold=0.3,
    precedence=[["task"]],
)


def pick(*candidates: Candidate, policy: PolicyConfig = POLICY, order: tuple[str, ...] = ()):
    return choose(candidates, policy=policy, messages=Messages(), locale="ko", skill_order=order)


def test_highest_confidence_above_its_threshold_wins() -> None:
    d = pick(cand("faq", 0.8), cand("smalltalk", 0.65))
    assert d.outcome == "answer" and d.chosen is not None and d.chosen.skill == "faq"


def test_each_skill_is_held_to_its_own_threshold() -> None:
    # faq 0.69 is below its 0.7 threshold; small talk 0.61 passes its 0.6 one.
    d = pick(cand("faq", 0.69), cand("smalltalk", 0.61))
    assert d.chosen is not None and d.chosen.skill == "smalltalk"


def test_skill_without_threshold_uses_the_default() -> None:
    assert pick(cand("mrc", 0.49)).outcome == "fallback"
    assert pick(cand("mrc", 0.5)).outcome == "answer"


def test_precedence_tier_beats_a_more_confident_answer() -> None:
    d = pick(cand("faq", 0.99), cand("task", 0.55))
    assert d.chosen is not None and d.chosen.skill == "task"


def test_a_candidate_holding_the_floor_goes_first() -> None:
    d = pick(cand("task", 0.9), cand("smalltalk", 0.6, holds_floor=True))
    assert d.chosen is not None and d.chosen.skill == "smalltalk"


def test_floor_holder_below_threshold_does_not_win() -> None:
    d = pick(cand("faq", 0.8), cand("smalltalk", 0.5, holds_floor=True))
    assert d.chosen is not None and d.chosen.skill == "faq"


def test_ties_go_to_the_skill_listed_first() -> None:
    d = pick(cand("b", 0.8), cand("a", 0.8), order=("a", "b"))
    assert d.chosen is not None and d.chosen.skill == "a"


def test_grey_zone_candidates_become_a_clarification() -> None:
    d = pick(
        cand("faq", 0.55, suggestion="충전 요금은 얼마인가요?", route="faq:fee"),
        cand("faq", 0.4, suggestion="충전소는 어디에 있나요?", route="faq:where"),
        cand("faq", 0.2, suggestion="too weak"),
        cand("smalltalk", 0.45),  # no suggestion: cannot be offered
    )
    assert d.outcome == "clarify" and d.reply.route == "clarify"
    assert isinstance(d.reply.parts[0], TextPart)
    assert d.reply.parts[0].text == "혹시 이런 질문이신가요?"
    options = d.reply.parts[1]
    assert isinstance(options, QuickRepliesPart)
    assert [o.label for o in options.options] == [
        "충전 요금은 얼마인가요?",
        "충전소는 어디에 있나요?",
    ]
    assert d.reply.confidence == 0.55 and d.reply.expects_reply
    (offered,) = d.update.activate
    assert offered.name == CLARIFY_CONTEXT
    assert offered.params["routes"] == ["faq:fee", "faq:where"]


def test_clarification_offers_at_most_max_suggestions_without_repeats() -> None:
    policy = POLICY.model_copy(update={"max_suggestions": 2})
    d = pick(
        cand("faq", 0.6, suggestion="A"),
        cand("faq", 0.5, suggestion="A"),
        cand("faq", 0.45, suggestion="B"),
        cand("faq", 0.4, suggestion="C"),
        policy=policy,
    )
    options = d.reply.parts[1]
    assert isinstance(options, QuickRepliesPart)
    assert [o.label for o in options.options] == ["A", "B"]


def test_fallback_has_a_handoff_part_in_the_users_language() -> None:
    d = choose([], policy=POLICY, messages=Messages(), locale="en")
    assert d.outcome == "fallback" and d.reply.route == "fallback" and d.chosen is None
    assert isinstance(d.reply.parts[-1], HandoffPart)
    assert "agent" in d.reply.plain_text()


# --- close calls, resumed forms, repeated failures ---------------------------------------------


def test_two_close_candidates_are_both_offered() -> None:
    policy = POLICY.model_copy(update={"clarify_margin": 0.1})
    d = pick(
        cand("task", 0.72, suggestion="길 안내", route="task:navigate"),
        cand("task", 0.68, suggestion="전화 걸기", route="task:call"),
        policy=policy,
    )
    assert d.outcome == "clarify"
    options = d.reply.parts[1]
    assert isinstance(options, QuickRepliesPart)
    assert [o.label for o in options.options] == ["길 안내", "전화 걸기"]
    clear = pick(
        cand("task", 0.9, suggestion="길 안내", route="task:navigate"),
        cand("task", 0.68, suggestion="전화 걸기", route="task:call"),
        policy=policy,
    )
    assert clear.outcome == "answer" and clear.reply.route == "task:navigate"


def test_an_open_forms_prompt_follows_the_answer_to_an_interruption() -> None:
    resume = Candidate(
        reply=text_reply("몇 시로 예약할까요?", "task:book", 0.0),
        confidence=0.0,
        skill="task",
        resume=True,
    )
    d = pick(cand("faq", 0.9, route="faq:weekend"), resume)
    assert d.chosen is not None and d.chosen.skill == "faq"
    assert [p.fallback_text() for p in d.reply.parts] == ["faq says", "몇 시로 예약할까요?"]
    assert d.reply.route == "faq:weekend" and d.reply.expects_reply
    alone = pick(resume)  # nothing answered: the fallback, then the prompt again
    assert (
        alone.outcome == "fallback"
        and alone.reply.parts[-1].fallback_text() == "몇 시로 예약할까요?"
    )


def test_repeated_fallbacks_hand_the_conversation_to_a_person() -> None:
    policy = POLICY.model_copy(update={"handoff_after": 3})
    assert pick(cand("faq", 0.1), policy=policy).outcome == "fallback"
    d = choose(
        [cand("faq", 0.1)],
        policy=policy,
        messages=Messages(),
        locale="ko",
        failures=2,
    )
    assert d.outcome == "handoff" and d.reply.route == "handoff"
    (part,) = d.reply.parts
    assert isinstance(part, HandoffPart) and part.reason == "repeated_failures"


def test_the_fallback_offers_the_closest_questions_when_asked_to() -> None:
    near = [
        cand("faq", 0.12, route="faq:a", suggestion="보증 기간은?"),
        cand("faq", 0.08, route="faq:b", suggestion="배터리 보증은?"),
        cand("faq", 0.02, route="faq:c", suggestion="너무 먼 질문"),
    ]
    offering = POLICY.model_copy(update={"fallback_suggest_threshold": 0.05})
    d = pick(*near, policy=offering)
    assert d.outcome == "fallback"
    [offers] = [p for p in d.reply.parts if isinstance(p, QuickRepliesPart)]
    assert [o.label for o in offers.options] == ["보증 기간은?", "배터리 보증은?"]
    assert any(isinstance(p, HandoffPart) for p in d.reply.parts)
    # without the setting, the fallback offers nothing, as before
    plain = pick(*near)
    assert plain.outcome == "fallback"
    assert not [p for p in plain.reply.parts if isinstance(p, QuickRepliesPart)]


# --- an answer from the documents against an FAQ answer on the same topic ---------------------


def faq_answer(text: str, confidence: float) -> Candidate:
    return Candidate(
        reply=text_reply(text, "faq:lane-keeping", confidence),
        confidence=confidence,
        skill="faq",
        details={"decision": "answer"},
        suggestion="차로 유지 보조는 어떻게 켜나요?",
    )


def manual_span(span: str, sentence: str, confidence: float, **details: object) -> Candidate:
    return Candidate(
        reply=text_reply(sentence, "mrc:manual-ko#41", confidence),
        confidence=confidence,
        skill="mrc",
        details={"answer": span, "sentence": sentence, **details},
    )


ASKS_SECONDS = {"asks": ["duration", "number"], "terms": ["손", "핸들", "떼", "경고"]}


def test_an_faq_answer_without_the_asked_duration_does_not_beat_the_manuals_span() -> None:
    faq = faq_answer(
        "스티어링 휠의 차로 유지 버튼을 누르면 켜집니다. 손은 항상 핸들에 올려 두세요.", 0.95
    )
    mrc = manual_span(
        "15초",
        "손을 15초 넘게 핸들에서 떼면 경고가 나오고 기능이 꺼집니다.",
        0.6,
        sentence_overlap=1.0,
        **ASKS_SECONDS,
    )
    d = pick(faq, mrc)
    assert d.chosen is mrc
    assert d.notes[0]["why"] == "lacks_answer_kind" and d.notes[0]["kinds"] == [
        "duration",
        "number",
    ]
    assert d.notes[1] == {"why": "answers_question", "over": "faq:lane-keeping"}


def test_an_faq_answer_holding_what_is_asked_keeps_its_place() -> None:
    faq = faq_answer("핸들에서 손을 15초 넘게 떼면 경고가 나옵니다.", 0.95)
    mrc = manual_span("15초", "손을 15초 넘게 핸들에서 떼면 경고가 나옵니다.", 0.6, **ASKS_SECONDS)
    d = pick(faq, mrc)
    assert d.chosen is faq and not d.notes


def test_a_manual_span_below_its_threshold_sets_no_faq_answer_aside() -> None:
    faq = faq_answer("스티어링 휠의 차로 유지 버튼을 누르면 켜집니다.", 0.95)
    mrc = manual_span("15초", "손을 15초 넘게 떼면 경고가 나옵니다.", 0.4, **ASKS_SECONDS)
    d = pick(faq, mrc)
    assert d.chosen is faq and not d.notes


def test_an_faq_answer_covering_less_of_the_question_gives_way_to_the_manual() -> None:
    faq = faq_answer("서비스센터에서 교체하거나 순정 와이퍼를 사서 직접 바꿀 수 있습니다.", 0.75)
    mrc = manual_span(
        "저속",
        "두 칸 내리면 저속, 세 칸 내리면 고속으로 작동합니다.",
        0.55,
        asks=[],
        terms=["와이퍼", "레버", "칸", "내리"],
        sentence_overlap=1.0,
    )
    d = pick(faq, mrc)
    assert d.chosen is mrc and d.notes[0]["why"] == "covers_less_of_question"


def test_other_skills_are_not_weighed_against_the_manual() -> None:
    task = cand("task", 0.9)
    mrc = manual_span("15초", "손을 15초 넘게 떼면 경고가 나옵니다.", 0.6, **ASKS_SECONDS)
    d = pick(task, mrc)
    assert d.chosen is task and not d.notes


def test_a_grey_zone_manual_span_about_the_question_answers_what_the_faq_lacks() -> None:
    faq = faq_answer("스티어링 휠의 차로 유지 버튼을 누르면 켜집니다.", 0.95)
    mrc = manual_span(
        "15초", "손을 15초 넘게 떼면 경고가 나옵니다.", 0.4, sentence_overlap=0.75, **ASKS_SECONDS
    )
    d = pick(faq, mrc)
    assert d.chosen is mrc and d.notes[0]["why"] == "lacks_answer_kind"
    # below the clarification threshold the manual's span is no answer at all
    weak = manual_span(
        "15초", "손을 15초 넘게 떼면 경고가 나옵니다.", 0.2, sentence_overlap=1.0, **ASKS_SECONDS
    )
    assert pick(faq, weak).chosen is faq


def test_a_grey_zone_manual_span_does_not_set_aside_an_faq_answer_for_a_place_it_may_word_otherwise() -> (
    None
):
    faq = Candidate(
        reply=text_reply(
            "Use 'Find chargers' in the Hanbit Connect app or the car's navigation.",
            "faq:charging-where",
            0.88,
        ),
        confidence=0.88,
        skill="faq",
        details={"decision": "answer"},
    )
    grey = manual_span(
        "car screen",
        "Set the charge limit under 'Charging > Charge limit' on the car screen.",
        0.38,
        sentence_overlap=0.67,
        asks=["place"],
        terms=["charge", "car"],
    )
    d = pick(faq, grey)
    assert d.chosen is faq and not d.notes
    # a span passing its own threshold beats an FAQ answer only when its sentence is more
    # about the question, not for the place alone
    passing = manual_span(
        "car screen",
        "Set the charge limit under 'Charging > Charge limit' on the car screen.",
        0.7,
        sentence_overlap=1.0,
        asks=["place"],
        terms=["charge", "car"],
    )
    assert pick(faq, passing).chosen is faq
    vague = Candidate(
        reply=text_reply("Open the Hanbit Connect app.", "faq:app", 0.88),
        confidence=0.88,
        skill="faq",
        details={"decision": "answer"},
    )
    d = pick(vague, passing)
    assert d.chosen is passing and d.notes[0]["why"] == "lacks_answer_kind"
