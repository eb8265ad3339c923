"""Load rule files (YAML, or AIML category files) into a `RuleEngine`, reporting every problem.

    >>> engine = load_rules(bundled_paths("ko"))
    >>> engine.match("심심해요").rule_id
    'boredom.basic'

`load_rules` accepts files and directories (read recursively: `*.yaml`, `*.yml`, `*.aiml`, in
name order). When anything is wrong it raises `RuleLoadError` listing every problem, each with
its file and rule id: YAML syntax, unknown keys, duplicate ids, malformed patterns, unknown
capture names in responses, empty responses.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from rules.engine import RuleEngine
from rules.errors import RuleLoadError, RuleProblem
from rules.model import RuleFile, RuleSpec
from rules.rule import Rule, compile_rule

__all__ = ["BUNDLED_LOCALES", "bundled_paths", "check_rules", "load_rules", "read_specs"]

BUNDLED_LOCALES = ("ko", "en")
# libyaml's safe loader is about ten times faster where PyYAML was built with it.
_YamlLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_SUFFIXES = (".yaml", ".yml", ".aiml")

PathLike = str | Path


def bundled_paths(locale: str) -> list[Path]:
    """The directory of the rule set that ships with the package for `locale` (ko or en)."""
    if locale not in BUNDLED_LOCALES:
        raise ValueError(
            f"no bundled rules for locale {locale!r}; bundled: {list(BUNDLED_LOCALES)}"
        )
    return [Path(str(resources.files("rules") / "data" / locale))]


def _files(paths: Iterable[PathLike], problems: list[RuleProblem]) -> Iterator[Path]:
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix in _SUFFIXES and p.is_file())
            if not found:
                problems.append(
                    RuleProblem(str(path), "-", "directory holds no *.yaml or *.aiml rule files")
                )
            yield from found
        elif path.is_file():
            yield path
        else:
            problems.append(
                RuleProblem(str(path), "-", "not found; give a rule file or a directory of them")
            )


def read_specs(
    paths: Iterable[PathLike], problems: list[RuleProblem]
) -> list[tuple[str, RuleSpec, str | None]]:
    """(source, spec, default locale) for every rule in `paths`; problems are appended."""
    from rules.aiml import read_aiml  # AIML is an import format: load it only when used

    specs: list[tuple[str, RuleSpec, str | None]] = []
    for path in _files(paths, problems):
        source = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            problems.append(RuleProblem(source, "-", f"cannot read: {e}"))
            continue
        if path.suffix == ".aiml":
            specs.extend((source, spec, None) for spec in read_aiml(text, source, problems))
        else:
            specs.extend(_read_yaml(text, source, problems))
    return specs


def _read_yaml(
    text: str, source: str, problems: list[RuleProblem]
) -> Iterator[tuple[str, RuleSpec, str | None]]:
    try:
        raw = yaml.load(text, Loader=_YamlLoader)  # a safe loader (plain or libyaml)
    except yaml.YAMLError as e:
        problems.append(RuleProblem(source, "-", f"not valid YAML: {e}"))
        return
    locale: str | None = None
    if raw is None:
        return
    if isinstance(raw, dict):
        try:
            parsed = RuleFile.model_validate(raw)
        except ValidationError as e:
            for item in e.errors():
                where = ".".join(str(p) for p in item["loc"])
                problems.append(RuleProblem(source, "-", f"{where}: {item['msg']}"))
            return
        locale, items = parsed.locale, parsed.rules
    elif isinstance(raw, list):
        items = raw
    else:
        problems.append(
            RuleProblem(source, "-", "expected a list of rules or a mapping with 'rules'")
        )
        return
    for i, item in enumerate(items):
        rid = _raw_id(item, i)
        if not isinstance(item, dict):
            problems.append(
                RuleProblem(source, rid, "a rule must be a mapping with id, patterns and responses")
            )
            continue
        try:
            yield source, RuleSpec.model_validate(item), locale
        except ValidationError as e:
            for err in e.errors():
                where = ".".join(str(p) for p in err["loc"])
                problems.append(RuleProblem(source, rid, f"{where}: {err['msg']}"))


def _raw_id(item: Any, index: int) -> str:
    if isinstance(item, dict) and isinstance(item.get("id"), str) and item["id"]:
        return str(item["id"])
    return f"rules[{index}]"


def _ids(spec: RuleSpec, rid: str) -> Iterator[str]:
    yield rid
    for i, child in enumerate(spec.next):
        yield from _ids(child, child.id or f"{rid}.next{i + 1}")


def compile_specs(
    specs: list[tuple[str, RuleSpec, str | None]], problems: list[RuleProblem]
) -> list[Rule]:
    """Compile specs in order; duplicate ids and every compile problem go to `problems`."""
    seen: dict[str, str] = {}
    for source, spec, _ in specs:
        if not spec.id:
            continue
        for rid in _ids(spec, spec.id):
            if rid in seen:
                problems.append(
                    RuleProblem(source, rid, f"duplicate id; first defined in {seen[rid]}")
                )
            else:
                seen[rid] = source
    compiled: list[Rule] = []
    for order, (source, spec, locale) in enumerate(specs):
        rule = compile_rule(spec, source=source, problems=problems, order=order, locale=locale)
        if rule is not None:
            compiled.append(rule)
    return compiled


def check_rules(paths: Iterable[PathLike]) -> list[RuleProblem]:
    """Every problem in the rule files at `paths` (an empty list when they are fine)."""
    problems: list[RuleProblem] = []
    compile_specs(read_specs(paths, problems), problems)
    return problems


def load_rules(
    paths: PathLike | Iterable[PathLike], *, rng: random.Random | None = None
) -> RuleEngine:
    """Load and compile rule files into an engine, or raise `RuleLoadError` with every problem."""
    path_list = [paths] if isinstance(paths, str | Path) else list(paths)
    problems: list[RuleProblem] = []
    rules = compile_specs(read_specs(path_list, problems), problems)
    if problems:
        raise RuleLoadError(problems)
    return RuleEngine(rules, rng=rng)
