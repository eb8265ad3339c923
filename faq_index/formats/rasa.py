"""Rasa retrieval-intent data: `faq/ask_x` NLU examples and `utter_faq/ask_x` responses.

Both parts may be in one file or in several (nlu.yml + domain.yml); pass them together. Each
retrieval sub-intent becomes one entry: its id is the part after the slash, its first example the
question, the other examples the alternatives, the first response its answer (with `image` and
`buttons` as rich parts) and the retrieval intent (`faq`) its category.

    >>> nlu = '''
    ... nlu:
    ...   - intent: faq/ask_hours
    ...     examples: |
    ...       - 영업시간이 어떻게 되나요?
    ...       - 몇 시까지 [해요](verb)?
    ... responses:
    ...   utter_faq/ask_hours:
    ...     - text: 평일 9시부터 18시까지입니다.
    ... '''
    >>> entry = parse_rasa([nlu])[0]
    >>> entry.id, entry.alternatives
    ('ask_hours', ('몇 시까지 해요?',))
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

import yaml

from faq_index.entry import FaqEntry
from faq_index.errors import Problem
from faq_index.formats._rows import Row, entries_from_rows

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available: ~10x faster

__all__ = ["format_rasa", "parse_rasa"]

_ANNOTATION = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")


def _examples(block: Any) -> list[str]:
    if isinstance(block, list):
        lines = [str(x.get("text", "")) if isinstance(x, dict) else str(x) for x in block]
    else:
        lines = [
            ln.strip()[1:].strip()
            for ln in str(block or "").splitlines()
            if ln.strip().startswith("-")
        ]
    return [_ANNOTATION.sub(r"\1", ln).strip() for ln in lines if ln.strip()]


def _lines_of(text: str, key: str) -> dict[str, int]:
    """1-based line of each item of a top-level `key` (intent names or response names)."""
    found: dict[str, int] = {}
    root = yaml.compose(text, Loader=_LOADER)
    if not isinstance(root, yaml.MappingNode):
        return found
    for k, v in root.value:
        if k.value != key:
            continue
        if isinstance(v, yaml.SequenceNode):
            for item in v.value:
                if isinstance(item, yaml.MappingNode):
                    for ik, iv in item.value:
                        if ik.value == "intent" and isinstance(iv, yaml.ScalarNode):
                            found[str(iv.value)] = item.start_mark.line + 1
        elif isinstance(v, yaml.MappingNode):
            for rk, _ in v.value:
                found[str(rk.value)] = rk.start_mark.line + 1
    return found


def parse_rasa(texts: Sequence[str], source: str = "<rasa>") -> list[FaqEntry]:
    """Entries from the NLU and response parts of one or more Rasa YAML files."""
    problems: list[Problem] = []
    examples: dict[str, tuple[int | None, str, list[str]]] = {}
    responses: dict[str, tuple[int | None, dict[str, Any]]] = {}
    for text in texts:
        try:
            data: Any = yaml.load(text, Loader=_LOADER) or {}
            intent_lines = _lines_of(text, "nlu")
            response_lines = _lines_of(text, "responses")
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            problems.append(Problem(mark.line + 1 if mark else None, f"not valid YAML: {e}"))
            continue
        if not isinstance(data, dict):
            problems.append(Problem(None, "expected a mapping with 'nlu' and/or 'responses'"))
            continue
        for item in data.get("nlu") or []:
            name = str(item.get("intent", "")) if isinstance(item, dict) else ""
            if "/" not in name:
                continue  # not a retrieval intent: other Rasa data may live in the same file
            retrieval, _, sub = name.partition("/")
            examples[sub] = (intent_lines.get(name), retrieval, _examples(item.get("examples")))
        for name, variants in (data.get("responses") or {}).items():
            if not str(name).startswith("utter_") or "/" not in str(name):
                continue
            sub = str(name).partition("/")[2]
            first = variants[0] if isinstance(variants, list) and variants else None
            if not isinstance(first, dict) or not first.get("text"):
                problems.append(Problem(response_lines.get(str(name)), f"{name}: no response text"))
                continue
            responses[sub] = (response_lines.get(str(name)), first)
    rows: list[Row] = []
    for sub, (line, retrieval, questions) in examples.items():
        if sub not in responses:
            problems.append(
                Problem(line, f"intent {retrieval}/{sub} has no response utter_{retrieval}/{sub}")
            )
            continue
        if not questions:
            problems.append(Problem(line, f"intent {retrieval}/{sub} has no examples"))
            continue
        response = responses[sub][1]
        row: dict[str, Any] = {
            "id": sub,
            "question": questions[0],
            "alternatives": questions[1:],
            "answer": response["text"],
            "category": retrieval,
        }
        if response.get("image"):
            row["image"] = {"url": response["image"]}
        buttons = response.get("buttons") or []
        row["quick_replies"] = [str(b.get("title", "")) for b in buttons if isinstance(b, dict)]
        rows.append((line, row))
    for sub, (line, _) in responses.items():
        if sub not in examples:
            problems.append(Problem(line, f"response for {sub!r} has no NLU examples"))
    return entries_from_rows(rows, source, problems)


def format_rasa(entries: Iterable[FaqEntry], retrieval_intent: str = "faq") -> str:
    """One Rasa 3 YAML document with both the NLU examples and the responses."""
    nlu: list[dict[str, Any]] = []
    responses: dict[str, list[dict[str, Any]]] = {}
    for e in entries:
        name = f"{retrieval_intent}/{e.id}"
        nlu.append({"intent": name, "examples": "".join(f"- {q}\n" for q in e.questions)})
        response: dict[str, Any] = {"text": e.answer}
        if e.image:
            response["image"] = e.image.url
        if e.quick_replies:
            response["buttons"] = [{"title": q, "payload": q} for q in e.quick_replies]
        responses[f"utter_{name}"] = [response]
    document = {"version": "3.1", "nlu": nlu, "responses": responses}
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=100)
