from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict

from assistant.config import Bot, SkillSpec, demo_bot_dir, load_bot
from assistant.errors import BotConfigError, SkillLoadError
from assistant.skills import SkillType, build_skills

from .fakes import KeywordSkill


def write_bot(tmp_path: Path, text: str) -> Path:
    (tmp_path / "bot.yaml").write_text(text, encoding="utf-8")
    return tmp_path


def test_demo_bot_loads_and_speaks_korean_and_english() -> None:
    bot = load_bot(None)
    assert bot.directory == demo_bot_dir().resolve()
    assert bot.config.locales == ["ko", "en"]
    assert bot.config.messages.fallback.get("en") and bot.config.messages.fallback.get("ko")


def test_minimal_bot_gets_defaults(tmp_path: Path) -> None:
    bot = load_bot(write_bot(tmp_path, "name: tiny\n"))
    assert bot.config.limits.max_text_length == 2000
    assert bot.config.policy.threshold("anything") == 0.5


def test_missing_bot_yaml_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(BotConfigError, match=r"bot\.yaml: not found"):
        load_bot(tmp_path)


def test_broken_yaml_is_refused_with_the_file(tmp_path: Path) -> None:
    write_bot(tmp_path, "name: [unclosed\n")
    with pytest.raises(BotConfigError, match=r"bot\.yaml: not valid YAML"):
        load_bot(tmp_path)


def test_every_wrong_key_and_value_is_reported_with_its_path(tmp_path: Path) -> None:
    write_bot(
        tmp_path,
        """
name: shop
locales: [ko, fr]
policy:
  thresholds: {faq: 1.7}
  clarify_treshold: 0.2
limits:
  max_text_length: -5
skills:
  - type: faq
    timeout_ms: "soon"
""",
    )
    with pytest.raises(BotConfigError) as raised:
        load_bot(tmp_path)
    message = str(raised.value)
    source = str(tmp_path / "bot.yaml")
    assert f"{source}: locales: Value error, unsupported locale(s) ['fr']" in message
    assert (
        f"{source}: policy.thresholds: Value error, threshold of 'faq' must be between 0 and 1"
        in message
    )
    assert f"{source}: policy.clarify_treshold: Extra inputs are not permitted" in message
    assert f"{source}: limits.max_text_length: Input should be greater than 0 (got -5)" in message
    assert f"{source}: skills.0.timeout_ms: Input should be a valid integer" in message


def test_default_locale_must_be_spoken(tmp_path: Path) -> None:
    write_bot(tmp_path, "name: x\nlocales: [en]\n")
    with pytest.raises(BotConfigError, match="default_locale 'ko' is not in locales"):
        load_bot(tmp_path)


class EchoOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    keyword: str
    answer: str = "ok"


def build_echo(options: EchoOptions, spec: SkillSpec, bot: Bot) -> KeywordSkill:
    if options.keyword == "missing-file":
        raise SkillLoadError(f"{bot.path('data.yaml')}: not found")
    return KeywordSkill(spec.name, options.keyword, options.answer, 0.9)


TYPES = {"echo": SkillType(options=EchoOptions, build=build_echo)}


def test_skills_are_built_from_their_validated_options(tmp_path: Path) -> None:
    write_bot(
        tmp_path,
        """
name: x
skills:
  - {type: echo, options: {keyword: 안녕}}
  - {type: echo, name: second, options: {keyword: bye}, enabled: false}
""",
    )
    built = build_skills(load_bot(tmp_path), TYPES)
    assert [(spec.name, skill.name) for spec, skill in built] == [("echo", "echo")]


def test_skill_problems_are_reported_together_with_paths(tmp_path: Path) -> None:
    write_bot(
        tmp_path,
        """
name: x
skills:
  - {type: teleport}
  - {type: echo, name: a, options: {keyword: 1, colour: red}}
  - {type: echo, name: b, options: {keyword: missing-file}}
""",
    )
    with pytest.raises(BotConfigError) as raised:
        build_skills(load_bot(tmp_path), TYPES)
    message = str(raised.value)
    assert "skills.0.type: unknown skill type 'teleport'; known: ['echo']" in message
    assert "skills.1.options.keyword: Input should be a valid string" in message
    assert "skills.1.options.colour: Extra inputs are not permitted" in message
    assert "skills.2 (b): " in message and "data.yaml: not found" in message


def test_skill_names_must_be_unique(tmp_path: Path) -> None:
    write_bot(tmp_path, "name: x\nskills: [{type: echo}, {type: echo}]\n")
    with pytest.raises(BotConfigError, match=r"skill names must be unique; repeated: \['echo'\]"):
        load_bot(tmp_path)
