"""The dense encoder a skill's `encoder` option names, with its embeddings cached on disk.

One model per name and process (`shared_encoder`): the FAQ, task and MRC skills that name e5
embed with the same ONNX session (each one of its own cost 120-200 MB). They share one cache
directory too: the skill's `cache_dir` option (relative to the bot), else
$ASSISTANT_CACHE_DIR, else `DEFAULT_CACHE`.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from assistant.config import Bot
from faq_index.cache import CachedEncoder, EmbeddingCache
from faq_index.encoders import Encoder, make_encoder

__all__ = ["DEFAULT_CACHE", "cache_dir", "shared_encoder", "skill_encoder"]

#: Where embeddings are cached when `cache_dir` is not set and $ASSISTANT_CACHE_DIR is unset.
DEFAULT_CACHE = Path("~/.cache/kakao-style-assistant").expanduser()


def cache_dir(option: str | None, bot: Bot) -> Path:
    """The cache directory for a skill whose `cache_dir` option is `option`."""
    if option is not None:
        return bot.path(option)
    env = os.environ.get("ASSISTANT_CACHE_DIR")
    return Path(env) if env else DEFAULT_CACHE


@functools.cache
def shared_encoder(name: str) -> Encoder:
    """The process's one encoder `name`, loaded on the first call, by embedding one query:
    with every indexed text in the cache it would otherwise load in the first user's turn
    (about 2 s for e5), past the skill's time budget, and that turn would go without the
    skill. Encoders are safe to share: they hold no state between calls but their model."""
    encoder = make_encoder(name)
    encoder.encode(["warm up"], kind="query")
    return encoder


def skill_encoder(name: str, directory: Path, *, cached: bool = True) -> Encoder | None:
    """The shared encoder `name` (None for `none`), behind the embedding cache in
    `directory`."""
    if name == "none":
        return None
    encoder = shared_encoder(name)
    return CachedEncoder(encoder, EmbeddingCache(directory / "embeddings")) if cached else encoder
