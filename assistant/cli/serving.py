"""How `assistant serve` runs: the port taken first, and with `--workers N`, models loaded once.

- `listen()` binds the address before anything loads, so a port in use is reported at once,
  not after the models have loaded.
- `preload()` builds the bot's skills once and lets them go: the models they load stay in the
  process's registries (Kiwi, the e5 encoder, the MRC reader; `shared_encoder`,
  `shared_reader`), and every skill built later in this process, or in a process forked from
  it, finds them loaded. It also brings the store's schema up to date, once: workers that
  each migrated a new SQLite file at the same moment raced each other.
- `Workers` forks N worker processes from the preloaded one, each serving the shared socket
  with uvicorn. The models' pages are shared between them (copy on write, and never written:
  PSS, not RSS, tells what they cost). Each worker builds its own skills (indexes, intent
  classifier: a second or two) and opens its own database engine, after the fork, in the app's
  start-up: nothing that holds a connection or a thread crosses the fork. uvicorn's own
  `--workers` starts fresh interpreters that load every model again.

The supervisor stays small: SIGINT or SIGTERM stop the workers gracefully (uvicorn finishes the
turns in flight); a worker that dies is replaced by a fresh fork, unless it failed to start,
which stops the server (a broken database URL would fail every new worker the same way); on
Linux the workers stop when the supervisor dies, even of SIGKILL.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import gc
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import Callable

from assistant.settings import Settings

__all__ = ["STARTUP_FAILURE", "Workers", "listen", "preload"]

log = logging.getLogger("assistant.server")

#: A worker's exit status when its server did not start (uvicorn's own code for it).
STARTUP_FAILURE = 3
_PR_SET_PDEATHSIG = 1  # from linux/prctl.h


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to host:port (not yet listening: the server does that), inheritable by
    workers; OSError when the address is taken or not this machine's."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def preload(settings: Settings) -> None:
    """Load every model the bot's skills use into this process's registries, and migrate the
    store (its engine closed again: no connection crosses a fork)."""
    from assistant.config import load_bot
    from assistant.skills import build_skills
    from assistant.store import SqlStore

    async def migrate() -> None:
        store = SqlStore(settings.database_url)
        await store.open()
        await store.close()

    asyncio.run(migrate())
    skills = build_skills(load_bot(settings.bot_dir))
    del skills  # the skills go, with their caches' database connections; the models stay
    gc.collect()


def _stop_with(supervisor: int) -> None:
    """SIGTERM for this worker when the supervisor dies, however it dies (Linux's
    PR_SET_PDEATHSIG): a supervisor killed with SIGKILL would otherwise leave its workers
    serving the port with no one to stop them."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if os.getppid() != supervisor:  # it died before the request was made
        os.kill(os.getpid(), signal.SIGTERM)


class Workers:
    """`count` processes forked from this one, each running `serve()` (which returns the exit
    status: 0, or `STARTUP_FAILURE`), kept at that number until a signal stops them."""

    def __init__(self, count: int, serve: Callable[[], int]) -> None:
        self.count = count
        self.serve = serve
        self.pids: set[int] = set()
        self.stopping = False

    def run(self) -> int:
        """Fork the workers, supervise them, and return the server's exit status."""
        # Objects made so far are never collected again: the collector's passes would write
        # to every page that holds one, and each worker would get its own copy of them.
        gc.freeze()
        previous = {sig: signal.signal(sig, self._stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        status = 0
        try:
            for _ in range(self.count):
                self._fork()
            log.info("server.workers_started", extra={"workers": sorted(self.pids)})
            while self.pids:
                try:
                    pid, wait_status = os.wait()
                except ChildProcessError:
                    break
                except InterruptedError:  # pragma: no cover (PEP 475 retries os.wait)
                    continue
                self.pids.discard(pid)
                code = os.waitstatus_to_exitcode(wait_status)
                if self.stopping:
                    continue
                if code == STARTUP_FAILURE:
                    log.error("server.worker_failed_to_start", extra={"pid": pid})
                    status = 1
                    self._stop(signal.SIGTERM, None)
                    continue
                log.warning("server.worker_died", extra={"pid": pid, "exit_code": code})
                time.sleep(1)  # no tight loop if something kills every new worker
                if not self.stopping:
                    self._fork()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            gc.unfreeze()
        return status

    def _fork(self) -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        supervisor = os.getpid()
        pid = os.fork()
        if pid:
            self.pids.add(pid)
            return
        # the worker: default signal handlers until uvicorn installs its own; the objects
        # frozen before the fork stay frozen here (collecting them would copy their pages)
        code = 1
        try:
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            _stop_with(supervisor)
            code = self.serve()
        except BaseException:  # the worker's last word; the supervisor sees its exit status
            log.exception("server.worker_crashed")
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)  # not the supervisor's atexit handlers and buffers

    def _stop(self, sig: int, _frame: object) -> None:
        """Stop the workers gracefully: SIGTERM to each (uvicorn lets turns in flight end)."""
        if not self.stopping:
            log.info("server.stopping", extra={"signal": signal.Signals(sig).name})
        self.stopping = True
        for pid in list(self.pids):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                self.pids.discard(pid)
