"""Fixtures of the security tests: an assistant of test skills and a local HTTP receiver (the
connector tests' own)."""

from tests.connectors.conftest import assistant, receiver

__all__ = ["assistant", "receiver"]
