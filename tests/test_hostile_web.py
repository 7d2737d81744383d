"""``statjr serve`` against a hostile web page and hostile files.

Each test plays one attack (or one class of bad input) and then checks that the
server is still serving (``GET /`` answers 200).  The streaming tests call the
ASGI application directly, because Starlette's TestClient reads the whole
request body before the application sees it.
"""
import asyncio
import html
import re
import resource
import struct
import threading
import time

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("starlette")
from starlette.testclient import TestClient  # noqa: E402

import statjr_py.datasets  # noqa: E402
import statjr_py.engine  # noqa: E402
from statjr_py.results import Results  # noqa: E402
from statjr_py.web.app import create_app  # noqa: E402

PORT = 8765
ORIGIN = f"http://127.0.0.1:{PORT}"
EVIL = "http://evil.example"


def make_app(**options):
    """The app as ``statjr serve --port 8765`` builds it, with test-sized limits."""
    return create_app(port=PORT, **options)


def client_for(app):
    """A client that looks like the page's own browser tab (Host and Origin of the server)."""
    return TestClient(app, base_url=ORIGIN, headers={"Origin": ORIGIN}, raise_server_exceptions=False)


def make_client(**options):
    return client_for(make_app(**options))


def still_up(client):
    page = client.get("/")
    assert page.status_code == 200 and "Stat-JR: TREE" in page.text


def dataset_shown(page: str) -> str:
    """The dataset the header's menu has selected (its value, unescaped)."""
    menu = page.split('action="/dataset"', 1)[-1].split("</select>", 1)[0]
    m = re.search(r'<option(?: value="([^"]*)")?[^>]*\sselected[^>]*>([^<]*)</option>', menu)
    return html.unescape(m.group(1) if m and m.group(1) is not None else m.group(2) if m else "")


def crafted_dta(path, rows=2_000_000_000):
    """A real two-column Stata 118 file whose header claims ``rows`` observations."""
    import pyreadstat
    pyreadstat.write_dta(pd.DataFrame({"a": np.arange(5.0), "b": np.arange(5.0)}), str(path), version=14)
    raw = bytearray(path.read_bytes())
    assert raw[:64].find(b"<release>118</release>") >= 0
    at = raw.index(b"<N>") + 3
    raw[at:at + 8] = struct.pack("<Q", rows)  # Stata 118: 8-byte little-endian count after <N>
    path.write_bytes(bytes(raw))
    return path


def drive(app, method, path, headers, chunks):
    """Call the ASGI app with a body fed chunk by chunk: (status, body, chunks read)."""
    chunks = iter(chunks)
    read = [0]
    out = {"status": None, "body": b""}

    async def receive():
        try:
            chunk = next(chunks)
        except StopIteration:
            return {"type": "http.request", "body": b"", "more_body": False}
        read[0] += 1
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message):
        if message["type"] == "http.response.start":
            out["status"] = message["status"]
        elif message["type"] == "http.response.body":
            out["body"] += message.get("body", b"")

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
             "path": path, "raw_path": path.encode(), "root_path": "", "scheme": "http",
             "query_string": b"", "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", PORT),
             "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]}
    asyncio.run(app(scope, receive, send))
    return out["status"], out["body"], read[0]


# ------------------------------------------------ 1. datasets by name, never by path
@pytest.mark.parametrize("name", ["/etc/passwd.csv", "../../x.csv", "..\\..\\x.csv", "sub/tutorial"])
def test_a_dataset_path_is_refused_with_a_message(name):
    client = make_client()
    page = client.post("/dataset", data={"name": name})
    assert page.status_code == 200
    assert "chosen by name, not by path" in page.text
    assert dataset_shown(page.text) == "tutmiss"
    still_up(client)


def test_an_existing_file_cannot_be_loaded_by_its_path(tmp_path):
    secret = tmp_path / "secret.csv"
    secret.write_text("password,pin\n1,2\n")
    client = make_client()
    page = client.post("/dataset", data={"name": str(secret)}).text
    assert "chosen by name, not by path" in page
    assert "password" not in client.get("/dataset/view").text
    still_up(client)


def test_uploads_are_kept_per_session_and_chosen_again_by_name():
    client = make_client()
    client.post("/upload", files={"file": ("mine.csv", b"score,age\n1,2\n3,4\n", "text/csv")})
    client.post("/dataset", data={"name": "tutorial"})
    page = client.post("/dataset", data={"name": "mine"}).text
    assert "class=\"message\"" not in page and dataset_shown(page) == "mine"
    assert "score" in client.get("/dataset/view").text
    other = make_client()  # another browser: its own session, without this upload
    page = other.post("/dataset", data={"name": "mine"}).text
    assert "not a bundled dataset or one of your uploads" in page
    assert dataset_shown(page) == "tutmiss"
    still_up(client)


# ------------------------------------------------ 2. DNS rebinding: the Host header
@pytest.mark.parametrize("host", ["evil.example:8765", "evil.example", "127.0.0.1:9999", "127.0.0.1.evil.example:8765"])
def test_a_foreign_host_header_gets_400(host):
    client = make_client()
    assert client.get("/", headers={"Host": host}).status_code == 400
    assert client.get("/status", headers={"Host": host}).status_code == 400
    assert client.post("/template", data={"name": "1LevelMod"}, headers={"Host": host}).status_code == 400
    for own in ("127.0.0.1:8765", "localhost:8765", "[::1]:8765"):
        assert client.get("/", headers={"Host": own}).status_code == 200
    still_up(client)


def test_the_host_given_to_serve_is_allowed_and_others_still_are_not():
    client = client_for(create_app(host="192.168.1.5", port=PORT))
    assert client.get("/", headers={"Host": "192.168.1.5:8765"}).status_code == 200
    assert client.get("/", headers={"Host": "192.168.1.6:8765"}).status_code == 400
    still_up(client)


# ------------------------------------------------ 3. cross-origin POSTs
@pytest.mark.parametrize("origin, referer", [
    (EVIL, None), ("http://127.0.0.1:9999", None), ("null", None),
    (f"http://127.0.0.1:{PORT}@evil.example", None), (f"https://127.0.0.1:{PORT}.evil.example", None),
    (None, f"{EVIL}/attack.html"), (None, f"http://127.0.0.1:{PORT}@evil.example/x"),
    (None, None),  # neither header: refused too (browsers send Origin on every cross-site POST)
], ids=["evil", "other-port", "null", "userinfo", "suffix", "evil-referer", "referer-userinfo", "neither"])
def test_a_cross_origin_post_gets_403_and_changes_nothing(origin, referer):
    client = make_client()
    client.get("/")
    client.headers.pop("Origin")
    headers = {k: v for k, v in (("Origin", origin), ("Referer", referer)) if v is not None}
    r = client.post("/template", data={"name": "1LevelMod"}, headers=headers)
    assert r.status_code == 403
    r = client.post("/upload", files={"file": ("x.csv", b"a\n1\n", "text/csv")}, headers=headers)
    assert r.status_code == 403
    client.headers["Origin"] = ORIGIN
    assert "1LevelMod on" not in client.get("/").text
    still_up(client)


def test_a_same_origin_referer_is_enough_without_origin():
    client = make_client()
    client.headers.pop("Origin")
    page = client.post("/template", data={"name": "1LevelMod"}, headers={"Referer": f"{ORIGIN}/"})
    assert page.status_code == 200 and "1LevelMod on tutmiss" in page.text


# ------------------------------------------------ 4. the upload limit, on the stream
def multipart_head(filename="big.csv"):
    boundary = "XyZzY"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n"
            f"Content-Type: text/csv\r\n\r\n").encode()
    return boundary, head


def test_a_declared_oversize_upload_is_refused_before_reading():
    app = make_app(max_upload_mb=1)
    boundary, head = multipart_head()
    headers = {"host": f"127.0.0.1:{PORT}", "origin": ORIGIN, "content-length": str(10 * 2 ** 30),
               "content-type": f"multipart/form-data; boundary={boundary}"}
    status, body, read = drive(app, "POST", "/upload", headers, [head] + [b"x" * 65536] * 16)
    assert status == 413 and read == 0
    assert b"upload limit" in body
    still_up(client_for(app))


def test_a_streamed_oversize_upload_stops_at_the_limit():
    app = make_app(max_upload_mb=1)
    boundary, head = multipart_head()
    headers = {"host": f"127.0.0.1:{PORT}", "origin": ORIGIN,
               "content-type": f"multipart/form-data; boundary={boundary}"}
    chunk = b"1,2,3\n" * 10000  # 60 kB
    status, body, read = drive(app, "POST", "/upload", headers, [head] + [chunk] * 140)  # 8.4 MB
    assert status == 413 and b"upload limit" in body
    assert read * len(chunk) <= 2 ** 20 + 256 * 1024  # the limit, multipart overhead and a chunk
    still_up(client_for(app))


def test_an_oversize_upload_from_a_form_gets_413_and_the_server_goes_on():
    client = make_client(max_upload_mb=1)
    r = client.post("/upload", files={"file": ("big.csv", b"1,2\n" * 600_000, "text/csv")})
    assert r.status_code == 413 and "upload limit" in r.text
    assert dataset_shown(client.get("/").text) == "tutmiss"
    still_up(client)


def test_two_files_in_one_upload_get_a_message():
    client = make_client()
    r = client.post("/upload", files=[("file", ("a.csv", b"x\n1\n", "text/csv")),
                                      ("file", ("b.csv", b"y\n2\n", "text/csv"))])
    assert r.status_code == 200 and "Too many files" in r.text
    assert dataset_shown(r.text) == "tutmiss"
    still_up(client)


def test_serve_takes_the_upload_limit_and_refuses_a_bad_one(monkeypatch, capsys):
    from statjr_py import cli
    from statjr_py.web import app as web
    seen = {}
    monkeypatch.setattr(web, "serve", lambda host, port, **kw: seen.update(kw, host=host, port=port))
    assert cli.main(["serve", "--max-upload", "5", "--allow-host", "box.lan", "--idle-timeout", "30"]) == 0
    assert seen["max_upload_mb"] == 5 and seen["allow_hosts"] == ["box.lan"] and seen["idle_timeout"] == 1800
    assert cli.main(["serve", "--max-upload", "0"]) == 2 and "--max-upload" in capsys.readouterr().err
    assert make_app().state.sessions.memory_limit == 800 * 2 ** 20  # max(4 x 200 MB, 64 MB)
    assert make_app(max_upload_mb=1).state.sessions.memory_limit == 64 * 2 ** 20


def test_a_long_form_field_is_refused():
    client = make_client()
    r = client.post("/set", data={"text": "x" * (3 * 2 ** 20)})
    assert r.status_code == 413
    still_up(client)


# ------------------------------------------------ 5. files claiming more than they hold
def test_a_small_dta_claiming_two_billion_rows_is_refused_fast(tmp_path, monkeypatch):
    import pyreadstat
    fake = crafted_dta(tmp_path / "huge.dta")
    assert fake.stat().st_size < 4096
    real_read = pyreadstat.read_dta
    full_reads = []

    def spy(path, *args, **kwargs):  # a full read of this file would allocate 30 GB
        if not kwargs.get("metadataonly"):
            full_reads.append(path)
            raise MemoryError("test: the data of a file this size must not be read")
        return real_read(path, *args, **kwargs)

    client = make_client()
    still_up(client)  # the session and its default dataset exist before the spy goes in
    monkeypatch.setattr(pyreadstat, "read_dta", spy)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.monotonic()
    page = client.post("/upload", files={"file": ("huge.dta", fake.read_bytes(), "application/octet-stream")})
    assert time.monotonic() - start < 3
    assert (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024 < 2 ** 30
    assert page.status_code == 200 and full_reads == []
    assert "2000000000 rows" in page.text and "huge.dta" in page.text
    assert dataset_shown(page.text) == "tutmiss"
    still_up(client)


def test_an_honest_dta_over_the_memory_cap_is_refused(tmp_path):
    import pyreadstat
    path = tmp_path / "wide.dta"
    pyreadstat.write_dta(pd.DataFrame(np.zeros((40_000, 5), dtype=np.int8), columns=list("abcde")), str(path))
    client = make_client(max_memory_mb=1)
    page = client.post("/upload", files={"file": ("wide.dta", path.read_bytes(), "application/octet-stream")}).text
    assert "MB in memory" in page and dataset_shown(page) == "tutmiss"
    still_up(client)


def test_a_csv_that_would_parse_into_an_absurd_frame_is_refused():
    wide = ",".join(f"c{i}" for i in range(1000)) + "\n" + ("1," * 999 + "1\n") * 100
    client = make_client(max_memory_mb=1)
    page = client.post("/upload", files={"file": ("wide.csv", wide.encode(), "text/csv")}).text
    assert "MB in memory" in page and dataset_shown(page) == "tutmiss"
    page = client.post("/upload", files={"file": ("wide.txt", wide.replace(",", " ").encode(), "text/plain")}).text
    assert "MB in memory" in page and dataset_shown(page) == "tutmiss"
    still_up(client)


# ------------------------------------------------ 6. sessions: no cookie, no session
@pytest.fixture
def reads(monkeypatch):
    """Count dataset file reads."""
    calls = []
    real = statjr_py.datasets._read

    def counting(*args, **kwargs):
        calls.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(statjr_py.datasets, "_read", counting)
    return calls


def test_requests_without_a_cookie_create_no_session(reads):
    app = make_app()
    client = client_for(app)
    for _ in range(5):
        st = client.get("/status")
        assert st.status_code == 200 and st.json()["status"] == "Ready" and "set-cookie" not in st.headers
        out = client.get("/output/x")
        assert out.status_code == 404 and "set-cookie" not in out.headers
        assert client.get("/dataset/view").status_code == 404
        assert client.get("/dataset/download").status_code == 404
    assert reads == [] and len(app.state.sessions) == 0
    still_up(client)


def test_fresh_sessions_share_the_default_dataset(reads):
    app = make_app()
    for _ in range(5):
        still_up(client_for(app))
    assert len(reads) <= 1 and len(app.state.sessions) == 5


def test_idle_sessions_expire():
    client = make_client(idle_timeout=0.3)
    client.post("/template", data={"name": "1LevelMod"})
    assert "1LevelMod on" in client.get("/").text
    time.sleep(0.5)
    assert "1LevelMod on" not in client.get("/").text  # a new session


def test_sessions_are_capped_and_page_views_cannot_evict_a_working_user():
    app = make_app(max_sessions=3)
    user = client_for(app)
    user.post("/template", data={"name": "1LevelMod"})
    for _ in range(20):  # a page that makes the browser fetch / over and over, cookie-less
        client_for(app).get("/")
    assert len(app.state.sessions) <= 3
    assert "1LevelMod on" in user.get("/").text
    others = [client_for(app) for _ in range(3)]
    for other in others:
        other.post("/template", data={"name": "2LevelMod"})
    assert len(app.state.sessions) == 3
    assert "1LevelMod on" not in user.get("/").text  # the least recently used went first
    assert "2LevelMod on" in others[-1].get("/").text


# ------------------------------------------------ 7. results stay with their run
@pytest.fixture
def slow_run(monkeypatch):
    """RunStatJR replaced by one that waits for ``gate`` and returns one table."""
    gate, finished = threading.Event(), threading.Event()

    def fake(template, dataset, invars=None, *args, **kwargs):
        gate.wait(10)
        results = Results()
        results.add("ModelResults", pd.DataFrame({"term": ["<script>alert(1)</script>"], "mean": [1.0]}))
        results.add("<b>note</b>", "text with <script>alert(2)</script>", "text")
        threading.Timer(0.05, finished.set).start()
        return results

    monkeypatch.setattr(statjr_py.engine, "RunStatJR", fake)
    return gate, finished


def start_working(client):
    client.post("/template", data={"name": "1LevelMod"})
    client.post("/set", data={"text": "{'y': 'normexam', 'D': 'Normal', 'x': 'cons,standlrtmiss'}"})
    client.post("/run")
    assert client.get("/status").json()["status"] == "Working"


@pytest.mark.parametrize("change", [("/template", "2LevelMod"), ("/dataset", "tutorial")])
def test_results_of_a_run_are_not_shown_for_a_new_template_or_dataset(slow_run, change):
    gate, finished = slow_run
    client = make_client()
    start_working(client)
    client.post(change[0], data={"name": change[1]})
    gate.set()
    assert finished.wait(5)
    time.sleep(0.1)
    page = client.get("/").text
    assert "ModelResults" not in page
    assert client.get("/output/ModelResults").status_code == 404
    assert client.get("/download").status_code == 404
    assert client.get("/status").json()["status"] != "done"
    still_up(client)


def test_output_names_and_contents_are_escaped_and_sandboxed(slow_run):
    gate, finished = slow_run
    client = make_client()
    gate.set()
    client.post("/template", data={"name": "1LevelMod"})
    client.post("/set", data={"text": "{'y': 'normexam', 'D': 'Normal', 'x': 'cons,standlrtmiss'}"})
    client.post("/run")
    assert finished.wait(5)
    time.sleep(0.1)
    page = client.get("/").text
    assert "ModelResults" in page and "<b>note</b>" not in page
    for name in ("ModelResults", "<b>note</b>"):
        view = client.get(f"/output/{name}")
        assert view.status_code == 200 and "<script>alert" not in view.text
        assert "script-src" not in view.headers["content-security-policy"]
        assert view.headers["x-content-type-options"] == "nosniff"
    zipped = client.get("/download")
    assert zipped.headers["content-disposition"].isascii()


# ------------------------------------------------ 8. hostile file names
def raw_upload(client, filename: bytes, content: bytes):
    """POST /upload with ``filename`` as raw bytes (httpx would percent-encode NUL, CR, LF and quotes)."""
    boundary = b"XyZzY"
    body = (b"--" + boundary + b'\r\nContent-Disposition: form-data; name="file"; filename="' + filename
            + b'"\r\nContent-Type: text/csv\r\n\r\n' + content + b"\r\n--" + boundary + b"--\r\n")
    return client.post("/upload", content=body,
                       headers={"Content-Type": "multipart/form-data; boundary=XyZzY"})


@pytest.mark.parametrize("filename", [
    b"a\x00b.csv", b"x" * 300 + b".csv", b"../../etc/evil.csv", b"..\\..\\evil.csv", b"C:\\Users\\me\\evil.csv",
    "données_日本.csv".encode(), b"caf\xe9 \xff.csv", b"a%22b;c%0D%0AX-Injected: 1.csv", b"...csv", b"<b>x</b>.csv",
], ids=["nul", "300-chars", "slashes", "backslashes", "windows-path", "non-latin-1", "not-utf-8", "escapes",
        "dots", "markup"])
def test_hostile_upload_names_are_sanitised(filename):
    client = make_client()
    r = raw_upload(client, filename, b"score,age\n1,2\n3,4\n")
    assert r.status_code == 200 and 'class="message"' not in r.text
    name = dataset_shown(r.text)
    assert name and name != "tutmiss" and len(name) <= 80
    assert not set(name) & set("/\\\x00\r\n\"<>;%")
    dl = client.get("/dataset/download")
    assert dl.status_code == 200
    disposition = dl.headers["content-disposition"]
    assert re.fullmatch(r'attachment; filename="[A-Za-z0-9._-]+"(; filename\*=UTF-8\'\'[A-Za-z0-9%._~-]+)?',
                        disposition), disposition
    client.post("/dataset", data={"name": "tutorial"})
    page = client.post("/dataset", data={"name": name})  # chosen again by its sanitised name
    assert page.status_code == 200 and 'class="message"' not in page.text and dataset_shown(page.text) == name
    assert "score" in client.get("/dataset/view").text
    still_up(client)


def test_an_upload_with_a_bad_suffix_after_a_nul_is_refused():
    client = make_client()
    page = raw_upload(client, b"evil.csv\x00.exe", b"a\n1\n").text
    assert "unknown file type" in page and "\x00" not in page
    assert dataset_shown(page) == "tutmiss"
    still_up(client)


# ------------------------------------------------ 9. column names and cells are escaped
def test_a_script_column_name_is_escaped_everywhere():
    evil = "<script>alert(1)</script>"
    csv = f"{evil},y\n1,<img src=x onerror=alert(2)>\n2,3\n".encode()
    client = make_client()
    client.post("/upload", files={"file": ("evil.csv", csv, "text/csv")})
    client.post("/template", data={"name": "1LevelMod"})
    page = client.get("/")
    view = client.get("/dataset/view")
    for r in (page, view):
        assert r.status_code == 200
        assert "<script>alert" not in r.text and "<img src=x" not in r.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text
        assert "frame-ancestors" in r.headers["content-security-policy"]
    assert "'unsafe-inline'" not in page.headers["content-security-policy"].split("script-src")[1].split(";")[0]
    still_up(client)
