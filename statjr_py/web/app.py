"""TREE in the browser: ``statjr serve``.

A Starlette application with one Jinja2 page, driven by the templates' own
question declarations through :func:`statjr_py.inputs.next_question`, the
same walk the CLI uses.  State lives per browser session (a cookie naming an
in-memory record); runs happen on a background thread so the page can poll
its progress, and at most ``--max-runs`` runs (default 1) execute at once
across all sessions, later ones waiting in order as "Queued".  Bad uploads, bad answers and failed runs become a message on
the page; the server keeps running.

Any other page the user's browser opens may be hostile, so: a ``Host`` that is
not this server (loopback names with its port, ``--host``, ``--allow-host``)
gets 400 (DNS rebinding); a POST needs an ``Origin`` (failing that a
``Referer``) of this server or gets 403, and one with neither is refused too,
since browsers send ``Origin`` on every cross-site POST (scripts add ``-H
'Origin: http://127.0.0.1:8765'``); bodies are counted as they stream in and
stop with 413 at ``--max-upload`` (plus multipart overhead) for uploads and
1 MB for other forms.  Datasets are chosen by name (bundled, or uploaded in
this session), never by path, and an upload that would need more than
``max(4 x --max-upload, 64 MB)`` in memory is refused from its header and a
line count before it is parsed (:func:`statjr_py.datasets.check_size`; four
times admits a ``.dta`` of doubles or a CSV of two-character numbers as large
as the upload limit).  Only ``GET /`` and POSTs make sessions; they expire
when idle and are capped, dropping first those that never POSTed, so a page
making the browser fetch ``/`` cannot push out the user's own.  Results
belong to the run's template and dataset: changing either forgets them, and
a run still working then is discarded when it ends.  Sessions keep only
answers their template asks, each of at most 10,000 characters; a template
failing as it asks costs a message.  Slow work (loading, views, downloads) runs
on worker threads, never on the event loop, and views show at most 200 rows
and columns.  Responses forbid sniffing and framing by other sites, output and
data views run no script (Content-Security-Policy), and the page's own script
runs by nonce.
"""
from __future__ import annotations

import html
import logging
import re
import secrets
import tempfile
import threading
import time
from pathlib import Path
from typing import Iterable
from urllib.parse import quote

import jinja2
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from ..commands import command_text, parse_mapping
from ..datasets import Dataset, bundled_names, load_by_name, upload_name
from ..errors import CompileError, InputError, SamplerError, short_repr
from ..inputs import next_question
from ..registry import get_template, templates
from ..results import Results
from ..stata import dta_bytes
from .guard import MAX_FORM, Guard, Hosts, TooLarge
from .runs import MAX_RUNS, RunSlots
from .sessions import COOKIE, IDLE_TIMEOUT, MAX_SESSIONS, _NO_SESSION, Session, _back, _existing, _session, _Store

log = logging.getLogger("statjr_py.web")

_PAGES = jinja2.Environment(loader=jinja2.FileSystemLoader(str(Path(__file__).parent)),
                            autoescape=True)
LOOPBACK = ("127.0.0.1", "localhost", "::1")
_MB = 2 ** 20
MAX_UPLOAD_MB = 200
MAX_ANSWER = 10_000             # characters in one answer
VIEW_ROWS, VIEW_COLUMNS = 200, 200   # the most a data view shows
TABLE_ROWS = 2_000              # the most rows an output table's view shows
QUEUED_STAGE = "waiting for another run to finish"


def _too_large(request: Request, upload_limit: int) -> HTMLResponse:
    """413, and the same words on the page when the user goes back."""
    if request.url.path == "/upload":
        text = (f"upload: the file is larger than the upload limit of {upload_limit / _MB:g} MB; "
                "choose a smaller file, or restart the server with a larger statjr serve --max-upload")
    else:
        text = f"the form sent is larger than {MAX_FORM // 1024} KB; send less text"
    found = request.app.state.sessions.find(request)
    if found:
        found[1].message = text
    return HTMLResponse(f"<p>{html.escape(text)}</p><p><a href=\"/\">Back</a></p>", status_code=413)


async def _too_large_handler(request: Request, exc: Exception) -> Response:
    return _too_large(request, request.app.state.upload_limit)


# ------------------------------------------------------------ names
def _attachment(filename: str) -> str:
    """A Content-Disposition value: an ASCII ``filename`` and the exact one as RFC 5987 ``filename*``."""
    filename = "".join(c for c in filename if c.isprintable())
    stem, dot, ext = filename.rpartition(".")
    safe = (re.sub(r"[^A-Za-z0-9._-]+", "_", stem if dot else ext).strip("._-")[:100] or "download")
    if dot:
        safe += "." + (re.sub(r"[^A-Za-z0-9]", "", ext)[:8] or "bin")
    value = f'attachment; filename="{safe}"'
    return value if safe == filename else value + "; filename*=UTF-8''" + quote(filename, safe="")


# ------------------------------------------------------------ the page
def _walk(s: Session):
    """(answers, next question) for the session, or raise InputError."""
    tmpl = get_template(s.template)
    frame = s.data.frame
    return tmpl, next_question(tmpl.inputs, s.answers, list(map(str, frame.columns)), frame,
                               ask_defaults=True)


def _walk_error(s: Session, exc: Exception) -> str:
    """The message for a failed walk: an InputError says the fix; anything else is the template's fault."""
    if isinstance(exc, InputError):
        return str(exc)
    log.warning("template %s failed while asking its questions", s.template, exc_info=exc)
    return (f"{s.template} failed while asking its questions ({type(exc).__name__}: "
            f"{short_repr(str(exc))[1:-1]}); these answers were not kept: change or remove the "
            "last answer, or choose another template (and tell the template's author)")


async def index(request: Request) -> Response:
    sid, s = _session(request)
    answered, question, desc = [], None, None
    strings: dict = {}
    input_string = "{}"
    walk_failed = False
    if s.template:
        try:
            tmpl, (answers, question) = _walk(s)
            strings = dict(answers.strings)
            input_string = answers.input_string()
            answered = [(k, answers.questions[k].text, v) for k, v in strings.items()]
            desc = question.describe() if question else None
        except Exception as exc:  # the page must show, whatever the template does
            s.message = _walk_error(s, exc)
            walk_failed, question, desc = True, None, None
            # the answers as given, so that each can still be removed
            answered = [(k, k, _answer_text(v)) for k, v in s.answers.items()]
            strings = {k: _answer_text(v) for k, v in s.answers.items()}
            input_string = "{" + ", ".join(f"{k!r}: {v!r}" for k, v in strings.items()) + "}"
    results = s.results
    outputs = [(n, results.kind(n)) for n in results] if results else []
    nonce = secrets.token_urlsafe(16)
    page = _PAGES.get_template("page.html").render(
        s=s, datasets=bundled_names(), uploads=s.uploads.names() if s.uploads else [],
        templates=sorted(templates().items(), key=lambda kv: kv[0].lower()),
        answered=answered, question=desc, strings=strings, walk_failed=walk_failed,
        input_string=input_string, nonce=nonce, run_of=s.run_of,
        command=(command_text(s.template, s.data.source or s.data.name, strings, {})
                 if s.template else ""), outputs=outputs,
        run_warnings=getattr(results, "warnings", []) if results else [],
        compiled=getattr(results, "compile_seconds", {}) if results else {},
        columns=list(map(str, s.data.frame.columns)), elapsed=_elapsed(s))
    s.message = None
    resp = HTMLResponse(page, headers={"Content-Security-Policy": (
        f"default-src 'self'; script-src 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'")})
    resp.set_cookie(COOKIE, sid, httponly=True, samesite="strict")
    return resp


def _elapsed(s: Session) -> float:
    if s.status in ("Working", "Queued"):  # (a queued run's time waiting so far)
        return time.time() - s.started
    return s.finished - s.started if s.started else 0.0


def _forget_run(s: Session) -> None:
    """Drop the last run's results: they belong to the template and dataset that made them."""
    with s.lock:
        if s.status == "Working" and s.run_of:
            s.message = (f"The run of {s.run_of[0]} on {s.run_of[1]} was still working; it finishes in "
                         "the background but its results will not be shown. Press Run for the new choice.")
        elif s.status == "Queued" and s.run_of:
            s.message = (f"The queued run of {s.run_of[0]} on {s.run_of[1]} was dropped before it "
                         "started. Press Run for the new choice.")
        s.run_id += 1
        s.results, s.run_error, s.run_of = None, None, None
        s.status, s.started, s.finished = "Ready", 0.0, 0.0


# ------------------------------------------------------------ datasets
async def choose_dataset(request: Request) -> Response:
    sid, s = _session(request)
    form = await request.form()
    try:
        data = await run_in_threadpool(load_by_name, str(form.get("name", "")), s.uploads)
    except InputError as exc:
        s.message = str(exc)
    else:
        _forget_run(s)
        s.data = data
    return _back(sid)


async def upload(request: Request) -> Response:
    sid, s = _session(request)
    try:
        form = await request.form(max_files=1, max_fields=8, max_part_size=MAX_FORM)
    except HTTPException as exc:  # malformed multipart, or more than one file
        s.message = f"upload: {exc.detail}; send one .dta, .csv or .txt file"
        return _back(sid)
    try:
        s.message = await _take_upload(request, s, form.get("file")) or s.message
    finally:
        await form.close()
    return _back(sid)


async def _take_upload(request: Request, s: Session, item) -> str | None:
    """Keep an uploaded file among the session's uploads and make it the dataset; or say why not."""
    if not isinstance(item, UploadFile) or not item.filename:
        return "upload: no file chosen; pick a .dta, .csv or .txt file"
    try:
        name, suffix = upload_name(item.filename)
    except InputError as exc:
        return str(exc)
    limit = request.app.state.upload_limit
    if (item.size or 0) > limit:
        return f"upload '{name}{suffix}': larger than the upload limit of {limit / _MB:g} MB; choose a smaller file"
    uploads = request.app.state.sessions.uploads(s)
    path = uploads.new_file(suffix)
    await item.seek(0)
    with path.open("wb") as fh:
        while chunk := await item.read(_MB):
            fh.write(chunk)
    try:
        data = await run_in_threadpool(uploads.add, name, path)
    except InputError as exc:
        return str(exc)
    _forget_run(s)
    s.data = data
    return None


def _frame_html(frame, rows: int, columns: int = VIEW_COLUMNS, **options) -> str:
    """At most ``rows`` x ``columns`` of a frame as HTML (all 60,000 columns took minutes), and what is cut."""
    shown = frame.iloc[:rows, :columns]
    cut = []
    if len(frame) > rows:
        cut.append(f"the first {rows} of {len(frame)} rows")
    if frame.shape[1] > columns:
        cut.append(f"the first {columns} of {frame.shape[1]} columns")
    note = f"<p class=\"cut\">Showing {' and '.join(cut)}; download for the rest.</p>" if cut else ""
    return note + shown.to_html(classes="data", index=False, na_rep=".", escape=True, **options)


def _dataset_page(data: Dataset) -> str:
    """The View page of a dataset: a summary and the first rows, both bounded (run off the event loop)."""
    frame = data.frame
    part = frame.iloc[:, :VIEW_COLUMNS]
    summary = part.describe().T.assign(missing=part.isna().sum())
    note = ""
    if frame.shape[1] > VIEW_COLUMNS:
        note = (f"<p class=\"cut\">Summary of the first {VIEW_COLUMNS} of {frame.shape[1]} "
                "columns; download for the rest.</p>")
    summary = note + summary.to_html(classes="data", float_format="%.4g", escape=True)
    head = _frame_html(frame, VIEW_ROWS)
    name = html.escape(data.name)
    return (f"<html><head><title>{name}</title></head><body><h2>{name}: {len(frame)} rows, "
            f"{frame.shape[1]} columns</h2><h3>Summary</h3>{summary}<h3>First rows</h3>{head}"
            "</body></html>")


def _refused(text: str, status: int = 422) -> HTMLResponse:
    """A message page for a link the browser followed (a download that could not be made)."""
    return HTMLResponse(f"<p>{html.escape(text)}</p><p><a href=\"/\">Back</a></p>", status_code=status)


async def view_dataset(request: Request) -> Response:
    s = _existing(request)
    if s is None:
        return HTMLResponse(_NO_SESSION, status_code=404)
    return HTMLResponse(await run_in_threadpool(_dataset_page, s.data))


async def download_dataset(request: Request) -> Response:
    s = _existing(request)
    if s is None:
        return HTMLResponse(_NO_SESSION, status_code=404)
    data = s.data
    try:
        content = await run_in_threadpool(dta_bytes, data.frame, f"dataset '{data.name}'")
    except InputError as exc:
        s.message = f"Download .dta: {exc}"
        return _refused(s.message)
    return Response(content, media_type="application/octet-stream",
                    headers={"Content-Disposition": _attachment(f"{data.name}.dta")})


# ------------------------------------------------------------ template and answers
async def choose_template(request: Request) -> Response:
    sid, s = _session(request)
    form = await request.form()
    try:
        name = get_template(str(form.get("name", ""))).name
    except InputError as exc:
        s.message = str(exc)
    else:
        _forget_run(s)
        s.template, s.answers = name, {}
    return _back(sid)


async def answer(request: Request) -> Response:
    sid, s = _session(request)
    form = await request.form()
    key = str(form.get("key", ""))
    if form.get("kind") == "varlist":
        cats = set(form.getlist("cat"))
        value = ",".join(v + (".cat" if v in cats else "") for v in form.getlist("value"))
    else:
        value = str(form.get("value", ""))
    _try_answers(s, {**s.answers, key: value})
    return _back(sid)


def _answer_text(value) -> str:
    """An answer as the text it stands for (a list of names joined by commas)."""
    if isinstance(value, (list, tuple)):
        return ",".join(map(str, value))
    return "" if value is None else str(value)


def _try_answers(s: Session, answers: dict) -> None:
    """Take ``answers`` if the template accepts them; otherwise keep the old ones and say why.

    Only answers to questions the template asks (given the others) are kept,
    each at most MAX_ANSWER characters: a session's memory is bounded by its
    template, whatever is posted to it.
    """
    if not s.template:
        s.message = "choose a template first"
        return
    for key, value in answers.items():  # (a key the template does not ask is dropped below)
        size = len(_answer_text(value))
        if size > MAX_ANSWER:
            s.message = str(InputError(
                f"input {short_repr(key)} = {short_repr(_answer_text(value))}: {size} characters, "
                f"more than the {MAX_ANSWER:,} an answer may have; give a shorter answer"))
            return
    old = s.answers
    s.answers = answers
    try:
        _, (parsed, question) = _walk(s)
    except Exception as exc:  # a faulty template too: the bad answers must not stay
        s.answers = old
        s.message = _walk_error(s, exc)
        return
    unasked = [k for k in answers if k not in parsed.questions]
    if unasked:
        s.answers = {k: v for k, v in answers.items() if k in parsed.questions}
        shown = ", ".join(short_repr(k) for k in unasked[:5]) + (", ..." if len(unasked) > 5 else "")
        waiting = f" so far (its next question is {question.key!r})" if question is not None else ""
        s.message = (f"{s.template} does not ask for {shown} with these answers{waiting}; "
                     f"{'they were' if len(unasked) > 1 else 'it was'} dropped: answer the questions "
                     "in the order asked, or set the whole input string")


async def remove(request: Request) -> Response:
    """Drop an answer and every answer asked after it (those may depend on it)."""
    sid, s = _session(request)
    form = await request.form()
    key = str(form.get("key", ""))
    try:
        _, (answers, _) = _walk(s)
        order = list(answers.strings)
    except Exception:  # as the page shows them when the walk fails: as given
        order = list(s.answers)
    if key in order:
        drop = set(order[order.index(key):])
        s.answers = {k: v for k, v in s.answers.items() if k not in drop}
    return _back(sid)


async def set_inputs(request: Request) -> Response:
    sid, s = _session(request)
    form = await request.form()
    try:
        answers = dict(parse_mapping(str(form.get("text", "")), "invars"))
    except InputError as exc:  # worded for the CLI's --invars: the page calls it the input string
        s.message = re.sub(r"^--invars\b", "input string", str(exc))
        return _back(sid)
    _try_answers(s, answers)
    return _back(sid)


# ------------------------------------------------------------ runs and outputs
def _run(slots: RunSlots, held: bool, s: Session, run_id: int, template: str, frame,
         answers: dict) -> None:
    """Wait in turn for a run slot (unless ``held``), then run; publish the outcome only if still wanted."""
    from ..engine import RunStatJR

    if not held and not slots.acquire(lambda: s.run_id == run_id):
        log.info("dropped a queued run whose template or dataset has since changed")
        return
    try:
        with s.lock:  # (_forget_run bumps run_id under this lock: abandoned now means never started)
            if s.run_id != run_id:
                log.info("dropped a queued run whose template or dataset has since changed")
                return
            if s.status == "Queued":  # its time from now on is running time
                s.status, s.started = "Working", time.time()
        _execute(RunStatJR, s, run_id, template, frame, answers)
    finally:
        slots.release()


def _execute(run_statjr, s: Session, run_id: int, template: str, frame, answers: dict) -> None:
    results, error = None, None

    def progress(done: int, total: int, stage: str) -> None:
        if s.run_id == run_id:
            s.progress = (stage, round(100 * done / max(total, 1)))

    try:
        results = run_statjr(template, frame, answers, progress=progress)
    except (InputError, CompileError, SamplerError) as exc:
        error = str(exc)
    except Exception as exc:  # the server must survive anything a run does
        log.exception("run failed")
        error = f"the run failed: {type(exc).__name__}: {exc}"
    with s.lock:
        if s.run_id != run_id:
            log.info("discarded the results of a run whose template or dataset has since changed")
            return
        s.results, s.run_error = results, error
        s.status, s.finished = ("failed" if error else "done"), time.time()


async def run(request: Request) -> Response:
    sid, s = _session(request)
    if not s.template:
        s.message = "Run: choose a template first"
        return _back(sid)
    with s.lock:
        if s.status not in ("Working", "Queued"):
            s.run_id += 1
            s.run_of = (s.template, s.data.name)
            slots = request.app.state.runs
            held = slots.try_acquire()  # a free slot is taken at once: "Working" from the start
            s.status = "Working" if held else "Queued"
            s.started, s.results, s.run_error, s.progress = time.time(), None, None, ("", 0)
            if not held:
                s.message = f"Queued, {QUEUED_STAGE}; the run starts in turn: reload to follow it"
            job = (slots, held, s, s.run_id, s.template, s.data.frame, dict(s.answers))
            try:
                threading.Thread(target=_run, args=job, daemon=True).start()
            except RuntimeError as exc:  # no thread to be had: say so, and give the slot back
                if held:
                    slots.release()
                s.status, s.finished, s.run_error = "failed", time.time(), f"the run could not start: {exc}"
    return _back(sid)


async def status(request: Request) -> Response:
    s = _existing(request)
    if s is None:
        return JSONResponse({"status": "Ready", "elapsed": 0.0, "message": None, "stage": "",
                             "percent": None})
    stage, percent = s.progress if s.status == "Working" and s.progress[0] else ("", None)
    if s.status == "Queued":
        stage = QUEUED_STAGE
    return JSONResponse({"status": s.status, "elapsed": round(_elapsed(s), 1), "message": s.run_error,
                         "stage": stage, "percent": percent})


async def output(request: Request) -> Response:
    s = _existing(request)
    name = request.path_params["name"]
    results = s.results if s else None
    if not results or name not in results:
        return HTMLResponse(f"<p>No output called {html.escape(repr(name))}.</p>", status_code=404)
    obj, kind = results[name], results.kind(name)
    if kind == "svg":  # drawn on first view, off the event loop
        return Response(await run_in_threadpool(str, obj), media_type="image/svg+xml")
    if kind in ("table", "dataset"):
        rows = TABLE_ROWS if kind == "table" else VIEW_ROWS
        body = await run_in_threadpool(_frame_html, obj, rows, float_format="%.4g")
    else:
        body = f"<pre>{html.escape(str(obj))}</pre>"
    title = html.escape(name)
    return HTMLResponse(f"<html><head><title>{title}</title><style>table.data{{border-collapse:collapse;"
                        f"font:13px sans-serif}}table.data td,table.data th{{border:1px solid #ccc;"
                        f"padding:2px 6px}}</style></head><body><h3>{title}</h3>{body}</body></html>")


async def download(request: Request) -> Response:
    s = _existing(request)
    results, run_of = (s.results, s.run_of) if s else (None, None)
    if not results:
        return HTMLResponse("<p>Nothing to download yet: run a template first.</p>", status_code=404)
    try:
        content = await run_in_threadpool(_zip_bytes, results)
    except InputError as exc:  # e.g. an output dataset Stata cannot hold
        s.message = f"Download: {exc}"
        return _refused(s.message)
    name = f"{run_of[0] if run_of else 'statjr'}_results.zip"
    return Response(content, media_type="application/zip", headers={"Content-Disposition": _attachment(name)})


def _zip_bytes(results: Results) -> bytes:
    """Every output zipped (off the event loop: plots are drawn and datasets written here)."""
    with tempfile.TemporaryDirectory() as tmp:
        return results.to_zip(Path(tmp) / "results.zip").read_bytes()


# ------------------------------------------------------------ the app
def create_app(*, host: str = "127.0.0.1", port: int | None = None,
               allowed_hosts: Iterable[str] | None = None, max_upload_mb: float = MAX_UPLOAD_MB,
               max_memory_mb: float | None = None, idle_timeout: float = IDLE_TIMEOUT,
               max_sessions: int = MAX_SESSIONS, max_runs: int = MAX_RUNS) -> Starlette:
    """The TREE application.

    Parameters
    ----------
    host, port : str, int
        Where the server listens; the ``Host`` header (and the ``Origin`` of a
        POST) must name it.  ``port=None`` accepts any port (for embedding).
    allowed_hosts : iterable of str, optional
        Host names (``name`` or ``name:port``) to answer to instead of the
        loopback names and ``host``.
    max_upload_mb : float
        Largest upload, in MB; enforced while the body streams in.
    max_memory_mb : float, optional
        Largest dataset an upload may become in memory; default
        ``max(4 * max_upload_mb, 64)``.
    idle_timeout : float
        Seconds after which an unused session is forgotten.
    max_sessions : int
        Most sessions kept; when full, untouched then least recently used go.
    max_runs : int
        Most runs executing at once across all sessions; later runs wait in
        order ("Queued").  Default 1: a run already uses every core through
        ``processes`` and can take most of a GB (ImputeModel with numimpute
        1000 took 886 MB), so running two at once mostly doubles memory
        without finishing sooner; raise it on a machine with many cores and
        memory to spare.
    """
    slots = RunSlots(max_runs)  # InputError naming max_runs if not a positive int
    if not max_upload_mb > 0 or (max_memory_mb is not None and not max_memory_mb > 0):
        raise InputError(f"max_upload_mb = {max_upload_mb!r}, max_memory_mb = {max_memory_mb!r}: "
                         "limits must be positive numbers of MB")
    names = list(allowed_hosts) if allowed_hosts is not None else [*LOOPBACK, *([host] if host else [])]
    upload_limit = int(max_upload_mb * _MB)
    app = Starlette(routes=[
        Route("/", index), Route("/dataset", choose_dataset, methods=["POST"]),
        Route("/upload", upload, methods=["POST"]), Route("/dataset/view", view_dataset),
        Route("/dataset/download", download_dataset), Route("/template", choose_template, methods=["POST"]),
        Route("/answer", answer, methods=["POST"]), Route("/remove", remove, methods=["POST"]),
        Route("/set", set_inputs, methods=["POST"]), Route("/run", run, methods=["POST"]),
        Route("/status", status), Route("/output/{name:path}", output), Route("/download", download),
    ], middleware=[Middleware(Guard, hosts=Hosts(names, port or None), upload_limit=upload_limit,
                           too_large=_too_large)],
        exception_handlers={TooLarge: _too_large_handler})
    app.state.upload_limit = upload_limit
    app.state.runs = slots
    app.state.sessions = _Store(max_sessions, idle_timeout, int(max_memory_mb * _MB) if max_memory_mb
                                else max(4 * upload_limit, 64 * _MB))
    return app


def serve(host: str = "127.0.0.1", port: int = 8765, *, max_upload_mb: float = MAX_UPLOAD_MB,
          allow_hosts: Iterable[str] = (), idle_timeout: float = IDLE_TIMEOUT,
          max_runs: int = MAX_RUNS) -> None:
    """Run the server until interrupted; it answers to loopback, ``host`` and ``allow_hosts``."""
    import uvicorn

    app = create_app(host=host, port=port, allowed_hosts=[*LOOPBACK, host, *allow_hosts],
                     max_upload_mb=max_upload_mb, idle_timeout=idle_timeout, max_runs=max_runs)
    shown = f"[{host}]" if ":" in host else host
    log.warning("statjr serve: open http://%s:%d/ in a browser", shown, port)
    uvicorn.run(app, host=host, port=port, log_level="warning")
