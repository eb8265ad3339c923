"""glibc tuned for a server: buffers of a few MB go back to the system once freed."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from assistant import malloc

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator")

# Frees a 30 MB block (glibc then keeps blocks up to 30 MB in its heap, by default) unless told
# not to, then takes and frees 20 MB in blocks of 4 MB, like a reader's batch buffers; prints
# the MB still held.
SCRIPT = """
import ctypes, sys
from assistant import malloc
if sys.argv[1] == "tuned":
    assert malloc.tune()
libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
def rss():
    with open("/proc/self/status") as status:
        return next(int(l.split()[1]) for l in status if l.startswith("VmRSS")) // 1024
if sys.argv[2] == "after-big":
    big = libc.malloc(30 << 20); ctypes.memset(big, 1, 30 << 20); libc.free(big)
before = rss()
blocks = [libc.malloc(4 << 20) for _ in range(5)]
for block in blocks:
    ctypes.memset(block, 1, 4 << 20)
for block in blocks:
    libc.free(block)
print(rss() - before)
"""


def held_mb(mode: str, before: str = "after-big", env: dict[str, str] | None = None) -> int:
    command = [sys.executable, "-c", SCRIPT, mode, before]
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
    return int(done.stdout)


def test_freed_buffers_go_back_to_the_system() -> None:
    assert held_mb("default") >= 16  # what the server suffered from
    assert held_mb("tuned") <= 2


def test_the_environment_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    # an operator's choice: blocks up to 64 MB from the heap, which is trimmed past 256 MB
    env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": str(64 << 20)}
    env["MALLOC_TRIM_THRESHOLD_"] = str(256 << 20)
    assert held_mb("tuned", "alone", env) >= 16  # tune() left it alone
    monkeypatch.setattr(malloc.sys, "platform", "darwin")
    malloc._glibc.cache_clear()
    try:
        assert malloc.tune() is False and malloc.release() is False
        assert malloc.release_every(1.0) is None
    finally:
        malloc._glibc.cache_clear()


RELEASE = """
import ctypes, sys
from assistant import malloc
libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
def rss():
    with open("/proc/self/status") as status:
        return next(int(l.split()[1]) for l in status if l.startswith("VmRSS")) // 1024
blocks = [libc.malloc(4000) for _ in range(20000)]  # 80 MB of small blocks, like a turn's
for block in blocks:
    ctypes.memset(block, 1, 4000)
for block in blocks[:-1]:  # the last one keeps the heap's top: nothing to trim at its end
    libc.free(block)
before = rss()
malloc.release()
print(before - rss())
"""


def test_release_hands_free_heap_pages_back() -> None:
    done = subprocess.run(
        [sys.executable, "-c", RELEASE], capture_output=True, text=True, check=True
    )
    assert int(done.stdout) >= 60  # of the 80 MB freed in the middle of the heap
