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

And one habit: `release()` hands the heaps' free pages back (glibc's `malloc_trim`), and
`release_every()` does it every few seconds (2 in `serve`) in a thread, as Go's runtime does in the background.
Freed small blocks (a turn's Python objects, numpy's smaller arrays) leave whole pages free in
the middle of the heaps, which glibc keeps: the demo server held about 30 MB more after 200
turns without it. A release takes 1-4 ms, off the event loop.

On other C libraries (musl, macOS) these do nothing and say so.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
import sys
import threading
from typing import Any

__all__ = ["release", "release_every", "tune"]

# from glibc's malloc.h
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8

MMAP_THRESHOLD = 1 << 20
ARENAS = 2


@functools.cache
def _glibc() -> Any:
    """glibc, or None where the C library is another (or lacks mallopt and malloc_trim)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
    except (OSError, AttributeError):
        return None
    return libc


def tune(*, mmap_threshold: int = MMAP_THRESHOLD, arenas: int = ARENAS) -> bool:
    """Set glibc's mmap threshold and heap count unless the environment sets them; False
    where the C library is not glibc."""
    libc = _glibc()
    if libc is None:
        return False
    mallopt = libc.mallopt
    if "MALLOC_MMAP_THRESHOLD_" not in os.environ:
        mallopt(_M_MMAP_THRESHOLD, mmap_threshold)
    if "MALLOC_ARENA_MAX" not in os.environ:
        mallopt(_M_ARENA_MAX, arenas)
    return True


def release() -> bool:
    """Hand the heaps' free pages back to the system; False where the C library is not
    glibc."""
    libc = _glibc()
    if libc is None:
        return False
    libc.malloc_trim(0)
    return True


def release_every(seconds: float) -> threading.Thread | None:
    """`release()` every `seconds` in a daemon thread of this process (started again in each
    forked worker: threads do not cross a fork); None where there is nothing to release."""
    if _glibc() is None:
        return None
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(seconds):
            release()

    thread = threading.Thread(target=loop, name="malloc-release", daemon=True)
    thread.start()
    return thread
