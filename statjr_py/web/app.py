"""TREE in the browser: ``statjr serve``.

A Starlette application with one Jinja2 page, driven by the templates' own
question declarations through :func:`statjr_py.inputs.next_question`, the
same walk the CLI uses.  State lives per browser session (a cookie naming an
in-memory record); runs happen on a background thread so the page can poll
its progress.  Bad uploads, bad answers and failed runs become a message on
the page; the server keeps running.
"""
from __future__ import annotations

import html
import logging
import secrets
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from ..cli import command_text, parse_mapping
from ..datasets import Dataset, bundled_names, load_dataset
from ..errors import CompileError, InputError, SamplerError
from ..inputs import next_question
from ..registry import get_template, templates
from ..results import Results, _dta_bytes

log = logging.getLogger("statjr_py.web")

_PAGES = jinja2.Environment(loader=jinja2.FileSystemLoader(str(Path(__file__).parent)),
                            autoescape=True)
COOKIE = "statjr_session"
MAX_UPLOAD = 200 * 2 ** 20


@dataclass
class Session:
    """One browser's state: data, template, answers so far, the last run."""

    data: Dataset | None = None
    template: str | None = None
    answers: dict = field(default_factory=dict)
    status: str = "Ready"
    started: float = 0.0
    finished: float = 0.0
    results: Results | None = None
    message: str | None = None      # shown once, after the action that caused it
    run_error: str | None = None    # why the last run failed, shown until the next run
    lock: threading.Lock = field(default_factory=threading.Lock)


_sessions: dict[str, Session] = {}


def _session(request: Request) -> tuple[str, Session]:
    sid = request.cookies.get(COOKIE)
    if sid not in _sessions:
        sid = secrets.token_urlsafe(16)
        _sessions[sid] = Session(data=load_dataset("tutmiss"))
    return sid, _sessions[sid]


def _back(sid: str) -> RedirectResponse:
    resp = RedirectResponse("/", status_code=303)
    resp.set_cookie(COOKIE, sid, httponly=True, samesite="strict")
    return resp


def _walk(s: Session):
    """(answers, next question) for the session, or raise InputError."""
    tmpl = get_template(s.template)
    frame = s.data.frame
    return tmpl, next_question(tmpl.inputs, s.answers, list(map(str, frame.columns)), frame,
                               ask_defaults=True)


async def index(request: Request) -> Response:
    sid, s = _session(request)
    answered, question, desc = [], None, None
    strings: dict = {}
    input_string = "{}"
    if s.template:
        try:
            tmpl, (answers, question) = _walk(s)
            strings = dict(answers.strings)
            input_string = answers.input_string()
            answered = [(k, answers.questions[k].text, v) for k, v in strings.items()]
            desc = question.describe() if question else None
        except InputError as exc:
            s.message = str(exc)
    outputs = [(n, s.results.kind(n)) for n in s.results] if s.results else []
    html = _PAGES.get_template("page.html").render(
        s=s, datasets=bundled_names(), templates=sorted(templates().items(), key=lambda kv: kv[0].lower()),
        answered=answered, question=desc, strings=strings,
        input_string=input_string,
        command=(command_text(s.template, s.data.source or s.data.name, strings, {})
                 if s.template else ""), outputs=outputs,
        columns=list(map(str, s.data.frame.columns)) if s.data is not None else [],
        elapsed=_elapsed(s))
    s.message = None
    resp = HTMLResponse(html)
    resp.set_cookie(COOKIE, sid, httponly=True, samesite="strict")
    return resp


def _elapsed(s: Session) -> float:
    if s.status == "Working":
        return time.time() - s.started
    return s.finished - s.started if s.started else 0.0


async def choose_dataset(request: Request) -> Response:
    sid, s = _session(request)
    form = await request.form()
    _use_dataset(s, lambda: load_dataset(str(form.get("name", ""))))
    return _back(sid)


def _use_dataset(s, load) -> None:
    """Make ``load()`` the session's dataset, or show its InputError."""
    try:
        s.data = load()
        s.results = None
    except InputError as exc:
        s.message = str(exc)


async def upload(request: Request) -> Response:
    sid, s = _session(request)
    form = await request.form(max_part_size=MAX_UPLOAD)
    item = form.get("file")
    if item is None or not getattr(item, "filename", ""):
        s.message = "upload: no file chosen; pick a .dta, .csv or .txt file"
        return _back(sid)
    suffix = Path(item.filename).suffix.lower()
    if suffix not in (".dta", ".csv", ".txt"):
        s.message = f"upload '{item.filename}': unknown file type '{suffix}'; use .dta, .csv or .txt"
        return _back(sid)
    content = await item.read()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / (Path(item.filename).stem + suffix)
        path.write_bytes(content)

        def load() -> Dataset:
            data = load_dataset(str(path))
            if data.frame.empty or len(data.frame.columns) == 0:
                raise InputError(f"dataset '{item.filename}': no rows or columns; check the file")
            return Dataset(Path(item.filename).stem, data.frame, item.filename)

        _use_dataset(s, load)
    return _back(sid)


async def view_dataset(request: Request) -> Response:
    _, s = _session(request)
    frame = s.data.frame
    head = frame.head(200).to_html(classes="data", index=False, na_rep=".")
    summary = frame.describe().T.assign(missing=frame.isna().sum()).to_html(classes="data", float_format="%.4g")
    name = html.escape(s.data.name)
    return HTMLResponse(f"<html><head><title>{name}</title></head><body><h2>{name}: "
                        f"{len(frame)} rows</h2><h3>Summary</h3>{summary}<h3>First rows</h3>{head}</body></html>")


async def download_dataset(request: Request) -> Response:
    _, s = _session(request)
    return Response(_dta_bytes(s.data.frame), media_type="application/octet-stream",
                    headers={"Content-Disposition": f'attachment; filename="{s.data.name}.dta"'})


async def choose_template(request: Request) -> Response:
    sid, s = _session(request)
    form = await request.form()
    try:
        s.template = get_template(str(form.get("name", ""))).name
        s.answers, s.results = {}, None
    except InputError as exc:
        s.message = str(exc)
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


def _try_answers(s: Session, answers: dict) -> None:
    """Take ``answers`` if the template accepts them; otherwise keep the old ones and say why."""
    old = s.answers
    s.answers = answers
    try:
        _walk(s)
    except InputError as exc:
        s.answers = old
        s.message = str(exc)


async def remove(request: Request) -> Response:
    """Drop an answer and every answer asked after it (those may depend on it)."""
    sid, s = _session(request)
    form = await request.form()
    key = str(form.get("key", ""))
    try:
        _, (answers, _) = _walk(s)
        order = list(answers.strings)
    except InputError:
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
    except InputError as exc:
        s.message = str(exc)
        return _back(sid)
    _try_answers(s, answers)
    return _back(sid)


def _run(s: Session) -> None:
    from ..engine import RunStatJR

    try:
        s.results = RunStatJR(s.template, s.data.frame, dict(s.answers))
        s.status = "done"
    except (InputError, CompileError, SamplerError) as exc:
        s.status, s.run_error = "failed", str(exc)
    except Exception as exc:  # the server must survive anything a run does
        log.exception("run failed")
        s.status, s.run_error = "failed", f"the run failed: {type(exc).__name__}: {exc}"
    finally:
        s.finished = time.time()


async def run(request: Request) -> Response:
    sid, s = _session(request)
    with s.lock:
        if s.status != "Working":
            s.status, s.started, s.results, s.run_error = "Working", time.time(), None, None
            threading.Thread(target=_run, args=(s,), daemon=True).start()
    return _back(sid)


async def status(request: Request) -> Response:
    _, s = _session(request)
    return JSONResponse({"status": s.status, "elapsed": round(_elapsed(s), 1), "message": s.run_error})


async def output(request: Request) -> Response:
    _, s = _session(request)
    name = request.path_params["name"]
    if not s.results or name not in s.results:
        return HTMLResponse(f"<p>No output called {html.escape(repr(name))}.</p>", status_code=404)
    obj, kind = s.results[name], s.results.kind(name)
    if kind == "svg":
        return Response(obj, media_type="image/svg+xml")
    if kind in ("table", "dataset"):
        frame = obj if kind == "table" else obj.head(200)
        note = "" if kind == "table" else f"<p>First 200 of {len(obj)} rows.</p>"
        body = note + frame.to_html(classes="data", index=False, na_rep=".", float_format="%.4g")
    else:
        body = f"<pre>{html.escape(str(obj))}</pre>"
    title = html.escape(name)
    return HTMLResponse(f"<html><head><title>{title}</title><style>table.data{{border-collapse:collapse;"
                        f"font:13px sans-serif}}table.data td,table.data th{{border:1px solid #ccc;"
                        f"padding:2px 6px}}</style></head><body><h3>{title}</h3>{body}</body></html>")


async def download(request: Request) -> Response:
    _, s = _session(request)
    if not s.results:
        return HTMLResponse("<p>Nothing to download yet: run a template first.</p>", status_code=404)
    with tempfile.TemporaryDirectory() as tmp:
        content = s.results.to_zip(Path(tmp) / "results.zip").read_bytes()
    return Response(content, media_type="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="{s.template}_results.zip"'})


def create_app() -> Starlette:
    return Starlette(routes=[
        Route("/", index), Route("/dataset", choose_dataset, methods=["POST"]),
        Route("/upload", upload, methods=["POST"]), Route("/dataset/view", view_dataset),
        Route("/dataset/download", download_dataset), Route("/template", choose_template, methods=["POST"]),
        Route("/answer", answer, methods=["POST"]), Route("/remove", remove, methods=["POST"]),
        Route("/set", set_inputs, methods=["POST"]), Route("/run", run, methods=["POST"]),
        Route("/status", status), Route("/output/{name:path}", output), Route("/download", download),
    ])


def serve(host: str = "127.0.0.1", port: int = 8765) -> None:
    """Run the server until interrupted."""
    import uvicorn

    log.warning("statjr serve: open http://%s:%d/ in a browser", host, port)
    uvicorn.run(create_app(), host=host, port=port, log_level="warning")
