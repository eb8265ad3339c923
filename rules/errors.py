"""Errors raised by the rule engine.

RulesError
├── PatternError      one pattern or response template cannot be parsed (says where and why)
└── RuleLoadError     rule files are wrong; `problems` lists every problem found, each with its
                      file and rule id, so an author fixes them all in one pass

    >>> err = RuleLoadError([RuleProblem("greet.yaml", "greet.hi", "responses: must not be empty")])
    >>> str(err)
    'rule files refused (1 problem):\\ngreet.yaml: greet.hi: responses: must not be empty'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["PatternError", "RuleLoadError", "RuleProblem", "RulesError"]


class RulesError(Exception):
    """Base class of the rule engine's errors."""


class PatternError(RulesError):
    """A pattern or template is malformed; the message quotes it and names the problem."""


@dataclass(frozen=True, slots=True)
class RuleProblem:
    """One problem in a rule file: where (`source`, `rule_id`) and what (`message`)."""

    source: str
    rule_id: str
    message: str

    def __str__(self) -> str:
        return f"{self.source}: {self.rule_id}: {self.message}"


class RuleLoadError(RulesError):
    """Rule files could not be loaded; `problems` holds every problem, not just the first."""

    def __init__(self, problems: Sequence[RuleProblem]) -> None:
        self.problems = tuple(problems)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        lines = "\n".join(str(p) for p in self.problems)
        super().__init__(f"rule files refused ({count} {noun}):\n{lines}")
