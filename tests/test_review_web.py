"""``statjr serve`` after the hostile review: no heavy work on the event loop, bounded
views and sessions, and a faulty template or an unwritable .dta costs a message, never
a 500.

The "off the event loop" tests spy on the slow call (``to_html``, ``to_zip``,
``dta_bytes``) and record whether it ran where an asyncio loop is running: on the
loop it blocks every other client (a 60,000-column view took 90-120 s, a zip 16 s).
"""
import asyncio
import html
import re
import threading
import time

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("starlette")
from starlette.testclient import TestClient  # noqa: E402

import statjr_py.engine  # noqa: E402
import statjr_py.results  # noqa: E402
import statjr_py.web.app as webapp  # noqa: E402
from statjr_py import InputError, registry  # noqa: E402
from statjr_py.datasets import Dataset  # noqa: E402
from statjr_py.results import Results  # noqa: E402
from statjr_py.web.app import create_app  # noqa: E402

MAX_ANSWER = 10_000  # characters: the cap on one answer

PORT = 8765
ORIGIN = f"http://127.0.0.1:{PORT}"


def make_client(app=None):
    return TestClient(app or create_app(port=PORT), base_url=ORIGIN, headers={"Origin": ORIGIN},
                      raise_server_exceptions=False)


def session_of(client):
    """The client's server-side session (there is one per client in these tests)."""
    sessions = client.app.state.sessions.sessions
    assert len(sessions) == 1
    return next(iter(sessions.values()))


def on_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def still_up(client):
    page = client.get("/")
    assert page.status_code == 200 and "Stat-JR: TREE" in page.text
    return page.text


def message_of(page: str) -> str:
    m = re.search(r'<div class="message" id="message">(.*?)</div>', page, re.S)
    return html.unescape(m.group(1)) if m else ""


# ------------------------------------------------ 1. heavy work off the event loop, bounded views
def wide_csv(columns=500, rows=300) -> bytes:
    header = ",".join(f"c{j}" for j in range(columns))
    body = "\n".join(",".join(str((i + j) % 10) for j in range(columns)) for i in range(rows))
    return (header + "\n" + body + "\n").encode()


def test_the_dataset_view_is_bounded_and_rendered_off_the_event_loop(monkeypatch):
    client = make_client()
    client.post("/upload", files={"file": ("wide.csv", wide_csv(), "text/csv")})
    where = []
    real = pd.DataFrame.to_html

    def spy(self, *args, **kwargs):
        where.append(on_event_loop())
        return real(self, *args, **kwargs)

    monkeypatch.setattr(pd.DataFrame, "to_html", spy)
    view = client.get("/dataset/view")
    assert view.status_code == 200
    assert where and not any(where), "the view was rendered on the event loop"
    summary, head = view.text.split("<h3>First rows</h3>")
    assert head.split("</thead>")[0].count("<th>") == 200  # columns shown
    assert head.split("<tbody>")[1].count("<tr") == 200     # rows shown
    assert "the first 200 of 300 rows" in head and "the first 200 of 500 columns" in head
    assert "first 200 of 500" in summary and summary.split("<tbody>")[1].count("<tr") == 200
    assert "300 rows, 500 columns" in view.text


def test_other_requests_are_served_while_a_view_is_being_rendered(monkeypatch):
    """The reported fault itself: a slow view must not hold up /status."""
    client = make_client()
    client.post("/upload", files={"file": ("wide.csv", wide_csv(20, 20), "text/csv")})
    started, release = threading.Event(), threading.Event()
    real = pd.DataFrame.to_html

    def blocking(self, *args, **kwargs):
        started.set()
        release.wait(10)  # stands for the minutes a huge view takes
        return real(self, *args, **kwargs)

    monkeypatch.setattr(pd.DataFrame, "to_html", blocking)
    with client:  # one event loop for the requests of both threads
        thread = threading.Thread(target=client.get, args=("/dataset/view",), daemon=True)
        thread.start()
        assert started.wait(10)
        t0 = time.monotonic()
        try:
            assert client.get("/status").status_code == 200
            waited = time.monotonic() - t0
        finally:
            release.set()
            thread.join(10)
    assert waited < 5, f"/status waited {waited:.1f} s for a view"


@pytest.fixture
def finished_run(monkeypatch):
    """RunStatJR replaced by one that returns a table and a dataset at once."""
    def fake(template, dataset, invars=None, *args, **kwargs):
        results = Results()
        results.add("ModelResults", pd.DataFrame({"term": ["cons"], "mean": [1.0]}))
        results.add("imputed", pd.DataFrame({"a": np.arange(3.0)}), "dataset")
        return results

    monkeypatch.setattr(statjr_py.engine, "RunStatJR", fake)
    client = make_client()
    client.post("/template", data={"name": "1LevelMod"})
    client.post("/set", data={"text": "{'y': 'normexam', 'D': 'Normal', 'x': 'cons,standlrt'}"})
    client.post("/run")
    for _ in range(100):
        if client.get("/status").json()["status"] != "Working":
            break
        time.sleep(0.05)
    assert client.get("/status").json()["status"] == "done"
    return client


def test_the_results_zip_is_made_off_the_event_loop(finished_run, monkeypatch):
    where = []
    real = Results.to_zip

    def spy(self, *args, **kwargs):
        where.append(on_event_loop())
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Results, "to_zip", spy)
    zipped = finished_run.get("/download")
    assert zipped.status_code == 200 and zipped.content[:2] == b"PK"
    assert where == [False], "the zip was written on the event loop"


def test_a_zip_that_cannot_be_written_gives_a_message(finished_run, monkeypatch):
    def refuse(frame, what="dataset"):
        raise InputError(f"{what} cannot be written as Stata .dta (test); convert the columns")

    monkeypatch.setattr(statjr_py.results, "dta_bytes", refuse)
    r = finished_run.get("/download")
    assert r.status_code == 422 and "cannot be written as Stata .dta" in r.text
    assert "cannot be written" in message_of(still_up(finished_run))


def test_the_dataset_download_is_made_off_the_event_loop(monkeypatch):
    client = make_client()
    still_up(client)
    where = []
    real = webapp.dta_bytes

    def spy(*args, **kwargs):
        where.append(on_event_loop())
        return real(*args, **kwargs)

    monkeypatch.setattr(webapp, "dta_bytes", spy)
    assert client.get("/dataset/download").status_code == 200
    assert where == [False]


# ------------------------------------------------ 2. session state is bounded
def test_answers_to_keys_the_template_does_not_ask_are_dropped_with_a_message():
    client = make_client()
    client.post("/template", data={"name": "1LevelMod"})
    s = session_of(client)
    for i in range(20):  # each 100 KB key used to stay in the session for good
        page = client.post("/answer", data={"key": f"{i}" + "k" * 100_000, "value": "v"}).text
        assert "does not ask for" in message_of(page) and "dropped" in message_of(page)
    assert s.answers == {}
    client.post("/answer", data={"key": "y", "kind": "variable", "value": "normexam"})
    assert s.answers == {"y": "normexam"}
    # a pasted input string keeps the answers the template asks, drops the others, says which
    page = client.post("/set", data={"text": "{'y': 'normexam', 'D': 'Normal', 'nosuch': '1'}"}).text
    assert "'nosuch'" in message_of(page) and s.answers == {"y": "normexam", "D": "Normal"}


def test_an_answer_longer_than_the_cap_is_refused_and_the_old_one_kept():
    client = make_client()
    client.post("/template", data={"name": "1LevelMod"})
    client.post("/answer", data={"key": "y", "kind": "variable", "value": "normexam"})
    s = session_of(client)
    page = client.post("/answer", data={"key": "y", "kind": "variable", "value": "n" * (MAX_ANSWER + 1)}).text
    assert "more than the 10,000" in message_of(page) and "input 'y'" in message_of(page)
    assert s.answers == {"y": "normexam"}
    long_list = {"y": "normexam", "D": "Normal", "x": ["cons"] + ["v" * 50] * 300}
    page = client.post("/set", data={"text": repr(long_list)}).text
    assert "more than the 10,000" in message_of(page) and s.answers == {"y": "normexam"}


# ------------------------------------------------ 3. a template that fails while asking
FAULTY = '''
from statjr_py import Template, Text, Variable


class Faulty(Template):
    name = "Faulty"
    description = "Fails when y is normexam, as ImputeModel did asking ncats twice."

    def inputs(self, ask):
        y = ask(Variable("y", "Response:"))
        if str(y) == "normexam":
            raise RuntimeError("template asks 'ncatsnormexam' twice")
        ask(Text("D", "Distribution:", choices=["Normal"]))


class Broken(Template):
    name = "Broken"
    description = "Fails before asking anything."

    def inputs(self, ask):
        raise RuntimeError("template asks 'ncats' twice")
'''


@pytest.fixture
def faulty_templates(tmp_path, monkeypatch):
    (tmp_path / "Faulty.py").write_text(FAULTY)
    monkeypatch.setenv("STATJR_TEMPLATES", str(tmp_path))
    registry.clear_cache()
    yield
    registry.clear_cache()


def test_a_template_raising_while_asking_costs_a_message_not_the_page(faulty_templates):
    client = make_client()
    client.post("/template", data={"name": "Faulty"})
    s = session_of(client)
    page = client.post("/answer", data={"key": "y", "kind": "variable", "value": "normexam"})
    assert page.status_code == 200
    assert "RuntimeError" in message_of(page.text) and "asks" in message_of(page.text)
    assert s.answers == {}  # the answer that broke the template was not kept
    page = client.post("/set", data={"text": "{'y': 'normexam', 'D': 'Normal'}"})
    assert page.status_code == 200 and "RuntimeError" in message_of(page.text) and s.answers == {}
    client.post("/answer", data={"key": "y", "kind": "variable", "value": "standlrt"})
    assert s.answers == {"y": "standlrt"}
    assert 'name="key" value="D"' in still_up(client)


def test_the_page_shows_whatever_a_template_raises(faulty_templates):
    client = make_client()
    client.post("/template", data={"name": "Broken"})
    page = client.get("/")
    assert page.status_code == 200 and "ncats" in message_of(page.text)
    assert 'id="run"' not in page.text  # nothing to run until the questions can be asked
    # answers stored before the template broke (here: set by hand) can still be removed
    s = session_of(client)
    s.answers = {"y": "normexam"}
    page = client.get("/")
    assert page.status_code == 200 and 'name="key" value="y"' in page.text
    client.post("/remove", data={"key": "y"})
    assert s.answers == {}
    assert client.post("/set", data={"text": "{'y': 'normexam'}"}).status_code == 200


# ------------------------------------------------ 4. .dta downloads and the Set box's wording
def test_a_dataset_stata_cannot_hold_gives_a_message_not_a_500(monkeypatch):
    client = make_client()
    still_up(client)

    def refuse(frame, what="dataset"):
        raise InputError(f"{what} cannot be written as Stata .dta (test); convert the columns")

    monkeypatch.setattr(webapp, "dta_bytes", refuse)
    r = client.get("/dataset/download")
    assert r.status_code == 422 and "cannot be written as Stata .dta" in r.text
    assert "Download .dta" in message_of(still_up(client))


def test_an_int32_column_in_stata_s_missing_range_downloads():
    client = make_client()
    still_up(client)
    frame = pd.DataFrame({"id": np.array([-2 ** 31, 0, 2 ** 31 - 1], dtype="int32")})
    session_of(client).data = Dataset("edge", frame, None)
    with pytest.warns(statjr_py.DataWarning, match="'id'"):
        r = client.get("/dataset/download")
    assert r.status_code == 200 and r.content[:1] == b"<"


def test_set_errors_speak_of_the_input_string_not_the_cli_option():
    client = make_client()
    client.post("/template", data={"name": "1LevelMod"})
    for text in ("{'y': {'a': 1}}", "[1, 2]", "{1: 'x'}"):
        message = message_of(client.post("/set", data={"text": text}).text)
        assert message.startswith("input string") and "--invars" not in message, message
