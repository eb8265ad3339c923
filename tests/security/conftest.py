"""Fixtures of the security tests: the connector tests' assistant of test skills and local
HTTP receiver, and the console tests' logged-in and anonymous clients."""

from tests.assistant.admin.conftest import anonymous, console, fusion_cache
from tests.connectors.conftest import assistant, receiver

__all__ = ["anonymous", "assistant", "console", "fusion_cache", "receiver"]
