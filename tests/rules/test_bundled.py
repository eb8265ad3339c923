"""The bundled rule sets: they load cleanly, are big enough, and catch what people type."""

from __future__ import annotations

import random

import pytest

from rules import RuleEngine, bundled_paths, check_rules, load_rules


@pytest.fixture(scope="session")
def bundled() -> RuleEngine:
    return load_rules(bundled_paths("ko") + bundled_paths("en"), rng=random.Random(0))


def test_bundled_sets_have_no_problems() -> None:
    assert check_rules(bundled_paths("ko") + bundled_paths("en")) == []


def test_bundled_sets_are_big_enough(bundled: RuleEngine) -> None:
    by_locale = {"ko": 0, "en": 0}
    for rule in bundled.rules:
        assert rule.locale in by_locale, rule.id
        by_locale[rule.locale] += 1
    assert by_locale["ko"] >= 300
    assert by_locale["en"] >= 150


KOREAN = [
    ("안녕하세요!", "greet.hello"),
    ("하이", "greet.hello"),
    ("좋은 아침이에요", "greet.good_morning"),
    ("심심해", "boredom.basic"),
    ("아 진짜 심심해 죽겠다", "boredom.basic"),
    ("심심하네", "boredom.basic"),
    ("고마워요", "thanks.basic"),
    ("정말 감사합니다", "thanks.really"),
    ("너는 누구니?", "who.are_you"),
    ("이름이 뭐야", "who.name"),
    ("너 로봇이야?", "who.robot"),
    ("뭐 할 수 있어?", "help.what_can_you_do"),
    ("상담원 연결해 줘", "help.agent"),
    ("너무 피곤하다", "feel.tired"),
    ("배 고파요", "feel.hungry"),
    ("우울해", "feel.depressed"),
    ("ㅠㅠㅠ", "feel.crying"),
    ("ㅋㅋㅋㅋ", "feel.laugh"),
    ("농담 하나 해 줘", "fun.joke"),
    ("오늘 날씨 좋다", "weather.nice"),
    ("비 온다", "weather.rain"),
    ("너 똑똑하다", "praise.smart"),
    ("사랑해요", "praise.love_you"),
    ("바보야", "insult.stupid"),
    ("씨발", "insult.swear"),
    ("여자친구랑 헤어졌어", "love.breakup"),
    ("점심 뭐 먹지", "daily.what_to_eat"),
    ("차가 너무 막혀", "drive.traffic"),
    ("사고 났어요", "drive.accident"),
    ("잘 자", "bye.good_night"),
    ("잘가", "bye.basic"),
    ("응", "react.yes"),
    ("죽고 싶어", "feel.crisis"),
]

ENGLISH = [
    ("Hello!", "en.greet.hello"),
    ("how are you doing?", "en.greet.how_are_you"),
    ("Good morning", "en.greet.morning"),
    ("I'm bored", "en.boredom.basic"),
    ("thank you so much", "en.thanks.basic"),
    ("who are you?", "en.who.are_you"),
    ("What can you do?", "en.help.what_can_you_do"),
    ("tell me a joke", "en.fun.joke"),
    ("It's raining", "en.weather.rain"),
    ("you're stupid", "en.insult.stupid"),
    ("I'm so tired", "en.feel.tired"),
    ("bye", "en.bye.basic"),
    ("yes", "en.react.yes"),
    ("I want to die", "en.feel.crisis"),
]


@pytest.mark.parametrize(("text", "rule_id"), KOREAN)
def test_korean_set_catches(bundled: RuleEngine, text: str, rule_id: str) -> None:
    found = bundled.match(text, locale="ko")
    assert found is not None and found.rule_id == rule_id


@pytest.mark.parametrize(("text", "rule_id"), ENGLISH)
def test_english_set_catches(bundled: RuleEngine, text: str, rule_id: str) -> None:
    found = bundled.match(text, locale="en")
    assert found is not None and found.rule_id == rule_id


def test_driving_changes_the_advice(bundled: RuleEngine) -> None:
    driving = {"device.is_driving": True}
    assert (bundled.match("졸려", facts=driving) or pytest.fail()).rule_id == "feel.tired_driving"
    assert (bundled.match("심심해", facts=driving) or pytest.fail()).rule_id == "boredom.driving"
    assert (
        bundled.match("I'm bored", facts=driving) or pytest.fail()
    ).rule_id == "en.boredom.driving"


def test_a_name_is_remembered_and_used(bundled: RuleEngine) -> None:
    told = bundled.match("내 이름은 김지수야")
    assert told is not None and told.slots == {"user_name": "김지수"}
    asked = bundled.match("내 이름이 뭐야?", facts={"slots.user_name": "김지수"})
    assert asked is not None and asked.response == "김지수님이시잖아요!"


def test_quiz_follow_up(bundled: RuleEngine) -> None:
    quiz = bundled.match("퀴즈 내 줘")
    assert quiz is not None and quiz.expects_follow_up
    answer = bundled.match("모르겠어", expecting=quiz.rule_id)
    assert answer is not None and answer.follow_up and "클락션" in answer.response


def test_unrelated_questions_are_left_to_other_skills(bundled: RuleEngine) -> None:
    assert bundled.match("엔진오일 교체 주기가 어떻게 되나요", locale="ko") is None
    assert bundled.match("How much is the extended warranty?", locale="en") is None
