"""Long console work (re-indexing documents, evaluation runs) as jobs with progress, run in a
worker thread while the page polls `GET /admin/api/jobs/{id}`.

    >>> import asyncio
    >>> async def main() -> Job:
    ...     jobs = Jobs()
    ...     def work(progress: Progress) -> int:
    ...         for n in range(3):
    ...             progress("counting", n + 1, 3)
    ...         return 42
    ...     job = jobs.start("count", work)
    ...     await jobs.wait(job.id)
    ...     return job
    >>> job = asyncio.run(main())
    >>> job.state, job.done, job.total, job.result
    ('done', 3, 3, 42)

Jobs live in the process that started them (a page polls the process that served it; behind a
load balancer, make the console sticky).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Job", "Jobs", "Progress"]

log = logging.getLogger("assistant.admin.jobs")

#: progress(phase, done, total): called from the worker thread as the work goes on.
Progress = Callable[[str, int, int], None]


@dataclass
class Job:
    id: str
    kind: str
    key: str = ""
    state: str = "running"  # running | done | failed
    phase: str = "starting"
    done: int = 0
    total: int = 0
    error: str | None = None
    result: Any = None
    started: float = field(default_factory=time.time)
    finished: float | None = None

    def view(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "key": self.key,
            "state": self.state,
            "phase": self.phase,
            "done": self.done,
            "total": self.total,
            "error": self.error,
            "result": self.result,
            "seconds": round((self.finished or time.time()) - self.started, 2),
        }


class Jobs:
    """The console's jobs in this process; the last `keep` are remembered."""

    def __init__(self, *, keep: int = 50) -> None:
        self.keep = keep
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._lock = threading.Lock()

    def start(
        self,
        kind: str,
        work: Callable[[Progress], Any],
        *,
        key: str = "",
        then: Callable[[Any], Awaitable[Any]] | None = None,
    ) -> Job:
        """Run `work` in a thread, then `then(result)` (if given) on the event loop, whose
        value becomes the job's result; a job of the same kind and key still running is
        returned instead of starting a second one."""
        for job in self._jobs.values():
            if job.kind == kind and job.key == key and job.state == "running":
                return job
        job = Job(id=secrets.token_hex(8), kind=kind, key=key)

        def progress(phase: str, done: int, total: int) -> None:
            with self._lock:
                job.phase, job.done, job.total = phase, done, total

        async def run() -> None:
            try:
                result = await asyncio.to_thread(work, progress)
                job.result = await then(result) if then is not None else result
                job.state = "done"
            except Exception as e:  # shown on the page; the server goes on
                log.exception("admin.job_failed", extra={"job": job.kind})
                job.error = f"{type(e).__name__}: {e}"
                job.state = "failed"
            finally:
                job.finished = time.time()
                self._tasks.pop(job.id, None)

        self._jobs[job.id] = job
        while len(self._jobs) > self.keep:
            self._jobs.popitem(last=False)
        self._tasks[job.id] = asyncio.create_task(run(), name=f"admin-job-{kind}")
        return job

    def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    async def wait(self, job_id: str) -> Job | None:
        task = self._tasks.get(job_id)
        if task is not None:
            await asyncio.shield(task)
        return self._jobs.get(job_id)
