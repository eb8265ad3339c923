"""Tasks declared in data: flows with slots (`flows`), slot values (`slots`) and actions
(`actions`: directives, webhooks, a Rasa action server). The skill is `assistant.skills.task`.

    >>> from assistant.tasks.slots import fill_template
    >>> fill_template("{contact}에게 전화할게요.", {"contact": "엄마"})
    '엄마에게 전화할게요.'
"""

from assistant.tasks.actions import DIRECTIVES, ActionCall, ActionError, ActionResult
from assistant.tasks.flows import ActionSpec, FlowSpec, SlotSpec, TaskModel, load_flows

__all__ = [
    "DIRECTIVES",
    "ActionCall",
    "ActionError",
    "ActionResult",
    "ActionSpec",
    "FlowSpec",
    "SlotSpec",
    "TaskModel",
    "load_flows",
]
