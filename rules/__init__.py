"""The small-talk rule language: rule files, compiler, matcher and bundled rule sets.

    >>> from rules import bundled_paths, load_rules
    >>> engine = load_rules(bundled_paths("ko") + bundled_paths("en"))
    >>> match = engine.match("고마워요")
    >>> match is not None and match.rule_id.startswith("thanks")
    True

The engine knows nothing of the assistant: it takes text and a mapping of context values and
returns a `RuleMatch`; `assistant.skills.smalltalk` turns that into a candidate reply.
"""

from rules.analyzer import analyze, normalize
from rules.engine import RuleEngine, RuleMatch
from rules.errors import PatternError, RuleLoadError, RuleProblem, RulesError
from rules.loader import BUNDLED_LOCALES, bundled_paths, check_rules, load_rules
from rules.model import Condition, ContextChange, RuleSpec

__all__ = [
    "BUNDLED_LOCALES",
    "Condition",
    "ContextChange",
    "PatternError",
    "RuleEngine",
    "RuleLoadError",
    "RuleMatch",
    "RuleProblem",
    "RuleSpec",
    "RulesError",
    "analyze",
    "bundled_paths",
    "check_rules",
    "load_rules",
    "normalize",
]
