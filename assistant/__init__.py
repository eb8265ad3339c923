"""A self-hosted, Korean-first conversational assistant backend."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("kakao-style-assistant")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"

__all__ = ["__version__"]
