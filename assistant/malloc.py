"""glibc's allocator, set for a server that holds models and runs them turn after turn.

Two settings, made once at the start of `assistant serve` and `assistant chat`, before the
models load (`tune()`; the environment's MALLOC_MMAP_THRESHOLD_ / MALLOC_ARENA_MAX win):

- Blocks of 1 MB and more are mapped on their own (`M_MMAP_THRESHOLD`), so they go back to
  the system when freed. By default glibc raises that threshold to the largest block freed so
  far (up to 32 MB), and then the e5 reader's passing buffers (several MB a batch) came from
  the heap and stayed: the demo server grew by about 125 MB in its first 150 MRC questions.
- At most two heaps (`M_ARENA_MAX`; the default is eight per core): every thread that
  allocates may otherwise get a heap of its own, each holding its own freed memory, and the
  server runs the skills of each turn in threads.

On other C libraries (musl, macOS) `tune()` does nothing and says so.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

__all__ = ["tune"]

# from glibc's malloc.h
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8

MMAP_THRESHOLD = 1 << 20
ARENAS = 2


def tune(*, mmap_threshold: int = MMAP_THRESHOLD, arenas: int = ARENAS) -> bool:
    """Set glibc's mmap threshold and heap count unless the environment sets them; False
    where the C library is not glibc."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    if "MALLOC_MMAP_THRESHOLD_" not in os.environ:
        mallopt(_M_MMAP_THRESHOLD, mmap_threshold)
    if "MALLOC_ARENA_MAX" not in os.environ:
        mallopt(_M_ARENA_MAX, arenas)
    return True
