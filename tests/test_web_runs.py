"""``statjr serve`` bounds the runs executing at once across all sessions (``--max-runs``).

RunStatJR is replaced by a fake that blocks until the test lets it go, so the
tests are fast, need no compiler, and cannot hang: every wait has a timeout.
"""
import threading
import time

import pytest

pytest.importorskip("starlette")
from starlette.testclient import TestClient  # noqa: E402

import statjr_py.engine  # noqa: E402
from statjr_py import InputError  # noqa: E402
from statjr_py.results import Results  # noqa: E402
from statjr_py.web import runs  # noqa: E402
from statjr_py.web.app import QUEUED_STAGE, create_app  # noqa: E402

PORT = 8765
ORIGIN = f"http://127.0.0.1:{PORT}"
TIMEOUT = 10  # seconds; a bound on waiting, not a performance claim
ANSWERS = "{'y': 'normexam', 'D': 'Normal', 'x': 'cons,standlrtmiss'}"


def client_for(app):
    """One browser session: the Host and Origin of the server's own page, its own cookie jar."""
    return TestClient(app, base_url=ORIGIN, headers={"Origin": ORIGIN})


class FakeRuns:
    """Stands in for RunStatJR: records each start and blocks until released."""

    def __init__(self):
        self.started: list[str] = []          # y of each run, in the order they began
        self.release: dict[str, threading.Event] = {}
        self.began = threading.Condition()

    def __call__(self, template, frame, answers, progress=None):
        key = answers["y"]
        with self.began:
            self.started.append(key)
            self.began.notify_all()
        if progress:
            progress(1, 2, "fake stage")
        assert self.release.setdefault(key, threading.Event()).wait(TIMEOUT), "test never released it"
        results = Results()
        results["ModelResults"] = f"fake run on {key}"
        return results

    def wait_started(self, n):
        with self.began:
            assert self.began.wait_for(lambda: len(self.started) >= n, TIMEOUT), self.started
            return list(self.started)

    def let_go(self, key):
        self.release.setdefault(key, threading.Event()).set()


@pytest.fixture
def fake(monkeypatch):
    f = FakeRuns()
    monkeypatch.setattr(statjr_py.engine, "RunStatJR", f)
    monkeypatch.setattr(runs, "_POLL", 0.02)  # abandoned waiters notice sooner
    yield f
    for event in f.release.values():  # never leave a run thread blocked
        event.set()


def start_run(client, y):
    client.post("/template", data={"name": "1LevelMod"})
    client.post("/set", data={"text": ANSWERS.replace("normexam", y)})
    return client.post("/run")


def wait_status(client, wanted):
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        st = client.get("/status").json()
        if st["status"] == wanted:
            return st
        time.sleep(0.02)
    raise AssertionError(f"status stayed {st['status']!r}, never {wanted!r}")


def test_a_second_session_queues_until_the_first_run_finishes(fake):
    app = create_app(port=PORT, max_runs=1)
    first, second = client_for(app), client_for(app)
    start_run(first, "normexam")
    assert fake.wait_started(1) == ["normexam"]
    assert wait_status(first, "Working")["stage"] == "fake stage"
    page = start_run(second, "standlrt").text
    st = second.get("/status").json()
    assert st["status"] == "Queued" and st["stage"] == QUEUED_STAGE and st["percent"] is None
    assert "Queued" in page and QUEUED_STAGE in page  # the status and the message on the page
    time.sleep(0.2)  # the fake records a start at once; give the queued run time to (wrongly) start
    assert fake.started == ["normexam"] and second.get("/status").json()["status"] == "Queued"
    fake.let_go("normexam")
    assert wait_status(first, "done")["message"] is None
    assert fake.wait_started(2) == ["normexam", "standlrt"]
    assert wait_status(second, "Working")
    fake.let_go("standlrt")
    wait_status(second, "done")
    assert "fake run on standlrt" in second.get("/output/ModelResults").text
    assert app.state.runs.running == 0 and app.state.runs.waiting() == 0


def test_an_abandoned_queued_run_never_starts(fake):
    app = create_app(port=PORT, max_runs=1)
    first, second, third = client_for(app), client_for(app), client_for(app)
    start_run(first, "normexam")
    fake.wait_started(1)
    start_run(second, "standlrt")
    start_run(third, "avslrt")
    assert second.get("/status").json()["status"] == "Queued"
    page = second.post("/template", data={"name": "2LevelMod"}).text  # abandons the queued run
    assert "dropped before it started" in page
    assert second.get("/status").json()["status"] == "Ready"
    deadline = time.monotonic() + TIMEOUT
    while app.state.runs.waiting() > 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert app.state.runs.waiting() == 1  # the abandoned run left the queue while still waiting
    fake.let_go("normexam")
    assert fake.wait_started(2) == ["normexam", "avslrt"]  # the third session's run, not the second's
    fake.let_go("avslrt")
    wait_status(third, "done")
    time.sleep(0.2)
    assert fake.started == ["normexam", "avslrt"] and app.state.runs.running == 0


def test_two_slots_run_two_at_once_and_queue_the_third(fake):
    app = create_app(port=PORT, max_runs=2)
    clients = [client_for(app) for _ in range(3)]
    for client, y in zip(clients, ("normexam", "standlrt", "avslrt")):
        start_run(client, y)
    assert sorted(fake.wait_started(2)) == ["normexam", "standlrt"]
    assert clients[2].get("/status").json()["status"] == "Queued"
    fake.let_go("standlrt")
    assert fake.wait_started(3)[2] == "avslrt"
    fake.let_go("normexam")
    fake.let_go("avslrt")
    for client in clients:
        wait_status(client, "done")


def test_runs_wait_in_the_order_they_arrived(monkeypatch):
    monkeypatch.setattr(runs, "_POLL", 0.02)
    slots, order, threads = runs.RunSlots(1), [], []
    assert slots.acquire(lambda: True)
    for i in range(5):
        def take(i=i):
            if slots.acquire(lambda: True):
                order.append(i)
                slots.release()
        threads.append(threading.Thread(target=take, daemon=True))
        threads[-1].start()
        deadline = time.monotonic() + TIMEOUT  # each queued before the next arrives
        while slots.waiting() < i + 1 and time.monotonic() < deadline:
            time.sleep(0.005)
    slots.release()
    for t in threads:
        t.join(TIMEOUT)
    assert order == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("bad", [0, -1, 1.5, "2", True, None])
def test_a_bad_max_runs_is_refused_by_name(bad):
    with pytest.raises(InputError, match="max_runs"):
        create_app(port=PORT, max_runs=bad)


def test_serve_takes_max_runs(monkeypatch, capsys):
    from statjr_py import cli
    from statjr_py.web import app as web
    seen = {}
    monkeypatch.setattr(web, "serve", lambda host, port, **kw: seen.update(kw))
    assert cli.main(["serve", "--max-runs", "3"]) == 0 and seen["max_runs"] == 3
    assert cli.main(["serve"]) == 0 and seen["max_runs"] == runs.MAX_RUNS == 1
    assert cli.main(["serve", "--max-runs", "0"]) == 2 and "--max-runs" in capsys.readouterr().err
