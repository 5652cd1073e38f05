"""The bounded work queue between the webhook (which must answer GitHub within 10 s) and the
evaluations (which download, unpack and run the gate).

- Bounded: a full queue refuses the delivery (the webhook answers 503) instead of growing
  without limit; GitHub shows the failed delivery and it can be redelivered.
- A delivery id seen in this process, queued, running or posted, is not run again. A delivery
  that failed without posting is forgotten, so a redelivery is how to retry it.
- Jobs that would compute one answer (same repository, head sha and workflow run) while one is
  still waiting are dropped: the waiting one will do.
- One job per repository at a time in a process, so two threads never race to create one PR's
  comment; across processes and replicas, ``publish`` finds and cleans up instead.
"""

from __future__ import annotations

import json
import queue
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import TextIO

from gatekeeper.app.evaluate import Outcome
from gatekeeper.app.events import Job
from gatekeeper.safe_text import one_line

SEEN_DELIVERIES = 10_000


class QueueFull(Exception):
    pass


def log_line(stream: TextIO, **fields: object) -> None:
    """One JSON object per line (sorted keys, so lines diff and grep well)."""
    stream.write(json.dumps(fields, sort_keys=True, default=str) + "\n")
    stream.flush()


class WorkQueue:
    def __init__(self, handler: Callable[[Job], Outcome], *, size: int, threads: int,
                 stream: TextIO = sys.stderr) -> None:
        self._handler = handler
        self._queue: queue.Queue[Job] = queue.Queue(maxsize=size)
        self._stream = stream
        self._lock = threading.Lock()
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._waiting: set[tuple[str, str, int | None]] = set()
        self._repo_locks: dict[str, threading.Lock] = {}
        self._threads = [threading.Thread(target=self._work, name=f"gatekeeper-{i}", daemon=True)
                         for i in range(threads)]
        for thread in self._threads:
            thread.start()

    @property
    def ready(self) -> bool:
        return all(t.is_alive() for t in self._threads) and not self._queue.full()

    def submit(self, job: Job) -> str:
        """"queued", "duplicate" (this delivery is known) or "coalesced"; QueueFull when full."""
        key = (job.repo, job.head_sha, job.run_id)
        with self._lock:
            if job.delivery in self._seen:
                return "duplicate"
            if key in self._waiting:
                return "coalesced"
            try:
                self._queue.put_nowait(job)
            except queue.Full:
                raise QueueFull from None
            self._remember(job.delivery)
            self._waiting.add(key)
        return "queued"

    def _remember(self, delivery: str) -> None:
        self._seen[delivery] = None
        while len(self._seen) > SEEN_DELIVERIES:
            self._seen.popitem(last=False)

    def _work(self) -> None:
        while True:
            job = self._queue.get()
            with self._lock:
                self._waiting.discard((job.repo, job.head_sha, job.run_id))
                repo_lock = self._repo_locks.setdefault(job.repo, threading.Lock())
            with repo_lock:
                self._run(job)
            self._queue.task_done()

    def _run(self, job: Job) -> None:
        start = time.monotonic()
        try:
            outcome = self._handler(job)
        except Exception as exc:  # a job must never kill its thread; the log says what failed
            outcome = Outcome("error", list(job.prs),
                              message=f"{type(exc).__name__}: {one_line(str(exc))[:500]}")
        if outcome.verdict == "error" and not outcome.actions:
            with self._lock:  # nothing was posted: a redelivery may try again
                self._seen.pop(job.delivery, None)
        log_line(self._stream, delivery=job.delivery, event=job.event, repo=job.repo,
                 pr=outcome.prs, head_sha=job.head_sha, verdict=outcome.verdict,
                 actions=outcome.actions, message=outcome.message,
                 duration_ms=round((time.monotonic() - start) * 1000))
