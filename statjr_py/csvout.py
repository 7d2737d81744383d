"""Tables as CSV text: the same bytes as pandas writes, in half the time.

``Results.save`` spent most of its time in ``DataFrame.to_csv`` formatting the
chains (``out`` tables of 5,000-15,000 draws; docs/performance.md).  pandas
turns each float column into text with numpy's ``astype(str)`` and then writes
rows through its csv writer; both cost more than Python's own ``float.__repr__``
and ``str.join``.  :func:`frame_csv` takes the fast route for the tables runs
make (columns of float64 and integers, a flat header) and hands anything else
to pandas unchanged.

The text is the same as ``frame.to_csv(index=False)``'s: ``repr`` gives the
shortest decimal that reads back as the same float64 (so every value
round-trips exactly), NaN is written as an empty field, and the header is
pandas' own, with its quoting.  ``tests/test_speed_paths.py`` holds the two
writers to the same bytes, and the values to an exact round trip, over random
bit patterns (subnormals, huge, negative zero, infinities).

Formatting text is pure Python, so one process keeps one core busy however
many a machine has: :func:`share_with_child` lets ``Results.save`` hand part
of its files to a forked second process (Linux, a core to spare, no other
thread running, enough work to pay for the fork).
"""
from __future__ import annotations

import os
import signal
import sys
import threading
from contextlib import suppress
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

__all__ = ["frame_csv", "fork_worth_it", "share_with_child"]

#: Writing in two processes pays when at least this much work (table cells; a
#: plot to draw counts as ``SVG_COST`` of them) can go to the second: a fork and
#: its pipes cost about 10 ms, formatting 100,000 cells about 70 ms.
FORK_MIN_COST = 100_000
SVG_COST = 50_000


def _column_text(values: np.ndarray, na: str) -> list[str] | None:
    """One column as its CSV fields (``na`` for NaN), or None when pandas must format it."""
    kind = values.dtype.kind
    if kind == "f" and values.dtype.itemsize == 8:
        text = list(map(float.__repr__, values.tolist()))
        missing = np.flatnonzero(np.isnan(values))
        for i in missing.tolist():  # pandas' na_rep
            text[i] = na
        return text
    if kind in "iu":
        return list(map(int.__repr__, values.tolist()))
    return None  # float32 (numpy's shortest float32 text), bools, strings, dates, extension types


def frame_csv(frame: pd.DataFrame) -> str:
    """``frame.to_csv(index=False)``, the same text, faster for numeric tables.

    Parameters
    ----------
    frame : DataFrame
        Any table.  Columns of float64 and numpy integers take the fast route;
        a table with any other column, a MultiIndex header, or no rows or
        columns is written by pandas.

    Returns
    -------
    str
        The CSV text, lines ended as pandas ends them (``os.linesep``).
    """
    if (frame.shape[0] == 0 or frame.shape[1] == 0 or isinstance(frame.columns, pd.MultiIndex)
            or not all(isinstance(t, np.dtype) for t in frame.dtypes)):
        return frame.to_csv(index=False)
    columns = []
    for i in range(frame.shape[1]):
        # an empty field alone would be a blank line: the csv module quotes it, as here
        text = _column_text(frame.iloc[:, i].to_numpy(), '""' if frame.shape[1] == 1 else "")
        if text is None:
            return frame.to_csv(index=False)
        columns.append(text)
    header = frame.iloc[:0].to_csv(index=False)  # pandas' quoting of names, and its line end
    end = header[len(header.rstrip("\r\n")):]
    return header + end.join(map(",".join, zip(*columns))) + end


def fork_worth_it(cost: int, count: int) -> bool:
    """Hand work of ``cost`` in ``count`` pieces to a forked process?

    Only on Linux (a fork elsewhere may not be safe), with two cores for this
    process, no other Python thread (a fork copies only the calling one, and
    a lock another holds would never be released in the child), SIGCHLD not
    ignored (its exit status is needed) and enough work to pay for it.
    """
    if not (sys.platform.startswith("linux") and hasattr(os, "fork") and 1 < count < 10_000
            and cost >= FORK_MIN_COST and threading.active_count() == 1
            and signal.getsignal(signal.SIGCHLD) != signal.SIG_IGN):
        return False
    with suppress(AttributeError, OSError):
        return len(os.sched_getaffinity(0)) > 1
    return False


def share_with_child(own: Sequence[Any], shared: Sequence[Any], do: Callable[[Any], None],
                     tick: Callable[[], None]) -> tuple[set[int], bool]:
    """``do(x)`` for every x of ``own`` here, and of ``shared`` here or in a forked child.

    Both processes take the next item of ``shared`` from one queue (a pipe of
    4-byte indices, each read whole by one of them), so a slow item never
    holds the other back.  ``tick()`` is called here once per item done by
    either process (the child's counted as this one learns of them).  Returns
    the indices of ``shared`` done here and whether the child succeeded; if it
    failed (it exits 1 on any exception), the caller does the rest itself, and
    any error is raised there, as without the child.  An exception here
    (Ctrl-C) kills the child before it goes on up.
    """
    take_r, take_w = os.pipe()
    done_r, done_w = os.pipe()
    os.write(take_w, b"".join(i.to_bytes(4, "little") for i in range(len(shared))))
    os.close(take_w)  # all queued: a read at the end gets b"" (end of file)
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child; coverage is not collected there
        status = 1
        try:
            os.close(done_r)
            while len(token := os.read(take_r, 4)) == 4:
                do(shared[int.from_bytes(token, "little")])
                os.write(done_w, token)
            status = 0
        finally:
            os._exit(status)  # never the parent's atexit, buffers or pytest
    os.close(done_w)
    mine: set[int] = set()
    try:
        for item in own:
            do(item)
            tick()
        os.set_blocking(done_r, False)
        while len(token := os.read(take_r, 4)) == 4:
            index = int.from_bytes(token, "little")
            do(shared[index])
            mine.add(index)
            tick()
            for _ in range(_tokens(done_r)):
                tick()
        os.set_blocking(done_r, True)
        while _tokens(done_r, 1):
            tick()
        ok = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0
        pid = 0
    except BaseException:
        if pid:
            with suppress(OSError):
                os.kill(pid, signal.SIGKILL)
            with suppress(OSError):
                os.waitpid(pid, 0)
        raise
    finally:
        os.close(take_r)
        os.close(done_r)
    return mine, ok


def _tokens(fd: int, count: int | None = None) -> int:
    """How many 4-byte tokens were read from ``fd``: all there are now, or up to ``count``."""
    got = b""
    try:
        while count is None or len(got) < 4 * count:
            chunk = os.read(fd, 4096 if count is None else 4 * count - len(got))
            if not chunk:
                break
            got += chunk
    except BlockingIOError:
        pass
    return len(got) // 4
