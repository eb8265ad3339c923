"""The dense encoder a skill's `encoder` option names, with its embeddings cached on disk.

The FAQ, MRC and task skills share one cache directory: the skill's `cache_dir` option
(relative to the bot), else $ASSISTANT_CACHE_DIR, else `DEFAULT_CACHE`.
"""

from __future__ import annotations

import os
from pathlib import Path

from assistant.config import Bot
from faq_index.cache import CachedEncoder, EmbeddingCache
from faq_index.encoders import Encoder, make_encoder

__all__ = ["DEFAULT_CACHE", "cache_dir", "skill_encoder"]

#: Where embeddings are cached when `cache_dir` is not set and $ASSISTANT_CACHE_DIR is unset.
DEFAULT_CACHE = Path("~/.cache/kakao-style-assistant").expanduser()


def cache_dir(option: str | None, bot: Bot) -> Path:
    """The cache directory for a skill whose `cache_dir` option is `option`."""
    if option is not None:
        return bot.path(option)
    env = os.environ.get("ASSISTANT_CACHE_DIR")
    return Path(env) if env else DEFAULT_CACHE


def skill_encoder(name: str, directory: Path, *, cached: bool = True) -> Encoder | None:
    """The encoder `name` (None for `none`), behind the embedding cache in `directory`.

    The model is loaded now, by embedding one query: with every indexed text in the cache
    it would otherwise load in the first user's turn (about 2 s for e5), past the skill's
    time budget, and that turn would go without the skill."""
    if name == "none":
        return None
    encoder = make_encoder(name)
    encoder.encode(["warm up"], kind="query")
    return CachedEncoder(encoder, EmbeddingCache(directory / "embeddings")) if cached else encoder
