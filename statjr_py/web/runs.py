"""A server-wide limit on template runs executing at once, taken in arrival order.

Each browser session may start one run, and sessions number up to
``MAX_SESSIONS``; without a server-wide cap that many runs could execute
together (four sessions reached ~2 GB; one ImputeModel run with numimpute
1000 took 886 MB), and each run's own memory check compares against the
machine's free memory, not against what other runs are about to take.
:class:`RunSlots` is a FIFO semaphore whose waiters can give up: a run its
session no longer wants (template or dataset changed, session dropped) leaves
the queue without ever starting.
"""
from __future__ import annotations

import threading
from collections import deque
from typing import Callable

from ..errors import InputError, short_repr

MAX_RUNS = 1
"""Default runs executing at once: one, because a run already spreads its
chains over every core (``processes`` defaults to the CPU count, or 3), so a second
run at once mostly doubles the memory without finishing either sooner."""

_POLL = 0.25  # seconds between a waiter's checks that its session still wants it


def check_max_runs(max_runs) -> int:
    """``max_runs`` as a positive int, or InputError naming it."""
    if isinstance(max_runs, bool) or not isinstance(max_runs, int) or max_runs < 1:
        raise InputError(f"max_runs = {short_repr(max_runs)}: must be a whole number of runs, 1 or "
                         "more; e.g. max_runs=1 (statjr serve --max-runs 1)")
    return max_runs


class RunSlots:
    """At most ``limit`` holders at once; waiters are served first come, first served.

    Parameters
    ----------
    limit : int
        Most runs executing at once (checked by :func:`check_max_runs`).
    """

    def __init__(self, limit: int):
        self.limit = check_max_runs(limit)
        self.running = 0
        self._queue: deque = deque()
        self._cond = threading.Condition()

    def waiting(self) -> int:
        """How many runs are queued."""
        with self._cond:
            return len(self._queue)

    def try_acquire(self) -> bool:
        """Take a slot now if one is free and nobody is waiting; never blocks (the event loop calls it)."""
        with self._cond:
            if self._queue or self.running >= self.limit:
                return False
            self.running += 1
            return True

    def acquire(self, wanted: Callable[[], bool]) -> bool:
        """Wait for a slot in turn; False (holding nothing) once ``wanted()`` is false.

        ``wanted`` is checked while waiting (every ``_POLL`` seconds and on every
        release), so an abandoned run leaves the queue promptly and never
        holds up those behind it.  Called on the run's own thread, never on the
        event loop.
        """
        me = object()
        with self._cond:
            self._queue.append(me)
            try:
                while self._queue[0] is not me or self.running >= self.limit:
                    if not wanted():
                        return False
                    self._cond.wait(_POLL)
                self.running += 1
                return True
            finally:
                self._queue.remove(me)
                self._cond.notify_all()  # the next in line may now be first

    def release(self) -> None:
        """Give a slot back (exactly once per successful :meth:`acquire`)."""
        with self._cond:
            self.running -= 1
            self._cond.notify_all()
