"""The web server's per-browser state: :class:`Session` and the store that keeps them.

Split from :mod:`statjr_py.web.app` so that the routes module stays readable;
see there for why sessions are created only by ``GET /`` and POSTs, expire
when idle and are capped in number.
"""
from __future__ import annotations

import secrets
import shutil
import tempfile
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import RedirectResponse

from ..datasets import Dataset, Uploads, load_bundled
from ..results import Results

COOKIE = "statjr_session"
DEFAULT_DATASET = "tutmiss"
MAX_UPLOADS = 10                # per session; the oldest file goes first
IDLE_TIMEOUT = 2 * 3600.0       # seconds
MAX_SESSIONS = 100


@dataclass
class Session:
    """One browser's state: data, template, answers so far, the last run."""

    data: Dataset
    template: str | None = None
    answers: dict = field(default_factory=dict)
    status: str = "Ready"           # Ready, Queued, Working, done or failed
    started: float = 0.0
    finished: float = 0.0
    results: Results | None = None
    message: str | None = None      # shown once, after the action that caused it
    run_error: str | None = None    # why the last run failed, shown until the next run
    run_id: int = 0                 # bumped by each run and each change of template or dataset
    progress: tuple = ("", 0)       # the working run's stage and percentage
    run_of: tuple[str, str] | None = None  # (template, dataset) of the run the results are from
    uploads: Uploads | None = None  # made by the first upload
    used: float = field(default_factory=time.monotonic)
    posted: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Store:
    """One app's sessions: found by cookie, expired when idle, capped in number.

    Only ``GET /`` and POSTs create a session (see :meth:`get`); everything
    else looks one up with :meth:`find`, so a cookie-less request costs no
    memory.  Fresh sessions share one read-only copy of the default dataset.
    """

    def __init__(self, max_sessions: int, idle_timeout: float, memory_limit: int):
        self.max_sessions, self.idle_timeout = max(int(max_sessions), 1), float(idle_timeout)
        self.memory_limit = memory_limit
        self.sessions: OrderedDict[str, Session] = OrderedDict()
        self._dir = tempfile.TemporaryDirectory(prefix="statjr-serve-")
        self._default: Dataset | None = None

    def __len__(self) -> int:
        return len(self.sessions)

    def find(self, request: Request) -> tuple[str, Session] | None:
        self._expire()
        sid = request.cookies.get(COOKIE, "")
        s = self.sessions.get(sid)
        if s is None:
            return None
        s.used = time.monotonic()
        self.sessions.move_to_end(sid)
        return sid, s

    def get(self, request: Request) -> tuple[str, Session]:
        found = self.find(request)
        if found is None:
            while len(self.sessions) >= self.max_sessions:
                self._drop(next((k for k, s in self.sessions.items() if not s.posted),
                                next(iter(self.sessions))))
            if self._default is None:  # never modified: every reader copies or only reads
                self._default = load_bundled(DEFAULT_DATASET)
            found = secrets.token_urlsafe(16), Session(data=self._default)
            self.sessions[found[0]] = found[1]
        if request.method == "POST":
            found[1].posted = True
        return found

    def uploads(self, s: Session) -> Uploads:
        if s.uploads is None:
            s.uploads = Uploads(tempfile.mkdtemp(dir=self._dir.name), MAX_UPLOADS, self.memory_limit)
        return s.uploads

    def _expire(self) -> None:
        cutoff = time.monotonic() - self.idle_timeout
        for sid in [k for k, s in self.sessions.items() if s.used < cutoff]:
            self._drop(sid)

    def _drop(self, sid: str) -> None:
        s = self.sessions.pop(sid)
        with s.lock:  # nobody can see its results: a queued run of it must not start
            s.run_id += 1
        if s.uploads is not None:
            shutil.rmtree(s.uploads.folder, ignore_errors=True)


def _session(request: Request) -> tuple[str, Session]:
    return request.app.state.sessions.get(request)


def _existing(request: Request) -> Session | None:
    found = request.app.state.sessions.find(request)
    return found[1] if found else None


_NO_SESSION = "<p>Nothing here: open <a href=\"/\">the page</a> first.</p>"


def _back(sid: str) -> RedirectResponse:
    resp = RedirectResponse("/", status_code=303)
    resp.set_cookie(COOKIE, sid, httponly=True, samesite="strict")
    return resp
