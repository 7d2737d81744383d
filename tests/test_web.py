"""The web interface: server routes, and the worked example in headless Chromium.

Browser tests use Debian's chromium (/usr/bin/chromium) through Playwright; they
skip with a reason where it is not installed (.ci/run installs it).
"""
import re
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("starlette")
from starlette.testclient import TestClient  # noqa: E402

from statjr_py.web.app import create_app  # noqa: E402

PORT = 8765
ORIGIN = f"http://127.0.0.1:{PORT}"


def make_client():
    """A client with the Host and Origin of the server's own page, as a browser tab sends them."""
    return TestClient(create_app(port=PORT), base_url=ORIGIN, headers={"Origin": ORIGIN})

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ANSWERS = {  # the worked example, with small iteration counts
    "numlevs": "Yes", "L2ID": "school", "MOIlevel": "2 levels", "MOIdist": "Normal", "MOIslope": "No",
    "y": "normexam", "x": ["cons", "standlrtmiss", "girlmiss", "schgendmiss.cat"],
    "yimp1": ["normexam", "standlrtmiss", "girlmiss"], "bin1_1": "Normal", "bin1_2": "Normal",
    "bin1_3": "Binary", "ximp1_0": ["cons"], "ximp1_1": ["cons", "vrband.cat"], "ximp1_2": ["cons"],
    "want2": "Yes", "yimp2": ["schgendmiss"], "bin2_1": "Unordered", "ncatsschgendmiss": "3",
    "ximp2_0_0": ["cons"], "ximp2_0_1": ["cons"], "condmarg": "Yes", "numimpute": "2",
    "impute1st": "100", "imputeevery": "20", "smc": "No", "burnin": "20", "iterations": "200",
    "imputationplots": "No",
}


def wait_for_run(client, polls=120, every=0.5):
    """Poll /status until the run is no longer Working; its last answer."""
    for _ in range(polls):
        st = client.get("/status").json()
        if st["status"] != "Working":
            return st
        time.sleep(every)
    return st


def test_a_bad_answer_keeps_the_old_one_and_names_are_escaped():
    client = make_client()
    client.post("/template", data={"name": "1LevelMod"})
    client.post("/answer", data={"key": "y", "kind": "variable", "value": "normexam"})
    page = client.post("/answer", data={"key": "y", "kind": "variable", "value": "nosuchvariable"}).text
    assert "nosuchvariable" in page  # the message names the bad value
    assert "&#39;y&#39;: &#39;normexam&#39;" in page.split('id="input-string"')[1].split("</pre>")[0]
    missing = client.get("/output/<script>alert(1)</script>")
    assert missing.status_code == 404 and "<script>" not in missing.text


def test_routes_without_a_browser():
    client = make_client()
    page = client.get("/")
    assert page.status_code == 200 and "Stat-JR: TREE" in page.text
    client.post("/template", data={"name": "1levelmod"})
    page = client.get("/")
    assert "1LevelMod on tutmiss" in page.text and 'name="key" value="y"' in page.text
    client.post("/answer", data={"key": "y", "kind": "variable", "value": "normexam"})
    client.post("/answer", data={"key": "D", "kind": "text", "value": "Normal"})
    client.post("/answer", data={"key": "x", "kind": "varlist", "value": ["cons", "vrband"], "cat": ["vrband"]})
    page = client.get("/")
    assert "&#39;x&#39;: &#39;cons,vrband.cat&#39;" in page.text and 'id="run"' in page.text
    assert client.get("/download").status_code == 404  # nothing run yet
    assert client.get("/status").json()["status"] == "Ready"
    client.post("/remove", data={"key": "D"})
    assert "&#39;D&#39;" not in client.get("/").text.split('id="input-string"')[1].split("</pre>")[0]
    client.post("/set", data={"text": "{'y': 'normexam', 'D': 'Normal', 'x': 'cons,standlrtmiss'}"})
    client.post("/run")
    st = wait_for_run(client)
    assert st["status"] == "done", st
    page = client.get("/")
    assert "ModelResults" in page.text
    assert "standlrtmiss" in client.get("/output/ModelResults").text
    assert client.get("/output/standlrtmiss.svg").headers["content-type"].startswith("image/svg")
    assert client.get("/download").headers["content-type"] == "application/zip"
    assert client.get("/dataset/download").content[:1] in (b"u", b"q", b"r", b"s", b"<")


def test_bad_answer_and_bad_upload_show_messages():
    client = make_client()
    client.post("/template", data={"name": "1LevelMod"})
    # each POST redirects to the page, which shows the message once
    r = client.post("/answer", data={"key": "y", "kind": "variable", "value": "normexm"})
    assert "did you mean" in r.text
    r = client.post("/upload", files={"file": ("broken.dta", b"\x00not stata at all", "application/octet-stream")})
    assert "could not be read" in r.text
    r = client.post("/upload", files={"file": ("notes.pdf", b"%PDF", "application/pdf")})
    assert "unknown file type" in r.text
    assert client.get("/").status_code == 200  # still serving


# ---------------------------------------------------------------- browser
@pytest.fixture(scope="module")
def server():
    import uvicorn
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = uvicorn.Config(create_app(port=port), host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    for _ in range(100):
        if srv.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                              args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                                    "--disable-background-networking", "--disable-component-update",
                                    "--disable-sync"])
        yield b
        b.close()


def answer_current_question(page):
    key = page.locator("#question input[name=key]").get_attribute("value")
    kind = page.locator("#question input[name=kind]").get_attribute("value")
    value = ANSWERS[key]
    if kind == "varlist":
        for v in value:
            name = v.removesuffix(".cat")
            page.locator(f"#question input[name=value][value='{name}']").check()
            if v.endswith(".cat"):
                page.locator(f"#question input[name=cat][value='{name}']").check()
    elif page.locator("#question select[name=value]").count():
        page.locator("#question select[name=value]").select_option(value)
    else:
        page.locator("#question input[name=value]").fill(value)
    page.locator("#next").click()
    return key


def test_worked_example_in_the_browser(server, browser, tmp_path):
    page = browser.new_page()
    page.goto(server)
    page.locator("#template").select_option("2LevelImpute")
    page.get_by_role("button", name="Use").last.click()
    asked = []
    for _ in range(40):
        if not page.locator("#question").count():
            break
        asked.append(answer_current_question(page))
        assert not page.locator("#message").count(), page.locator("#message").text_content()
    assert set(asked) == set(ANSWERS)
    assert "'ncatsschgendmiss': '3'" in page.locator("#input-string").text_content()
    assert "RunStatJR(template='2LevelImpute'" in page.locator("#command").text_content()
    # remove drops that answer and the ones after it, and asks it again
    page.locator("form:has(input[value='impute1st']) button").click()
    assert page.locator("#question input[name=key]").get_attribute("value") == "impute1st"
    for _ in range(10):  # impute1st and every question after it
        if not page.locator("#question").count():
            break
        answer_current_question(page)
    page.locator("#run").click()
    page.wait_for_selector("#status.done", timeout=120_000)
    assert page.get_by_role("link", name="ResultsTable:Imputation", exact=True).count() == 1
    page.get_by_role("link", name="ResultsTable:Imputation", exact=True).click()
    frame = page.frame(name="viewer")
    frame.wait_for_selector("text=schgendmiss_0")
    page.screenshot(path=str(tmp_path / "results.png"), full_page=True)
    with page.expect_download() as dl:
        page.locator("#download").click()
    assert dl.value.suggested_filename.endswith(".zip")
    page.close()


def test_bad_upload_in_the_browser(server, browser, tmp_path):
    bad = tmp_path / "broken.dta"
    bad.write_bytes(b"\x00\x01 this is not a Stata file")
    page = browser.new_page()
    page.goto(server)
    page.locator("#upload input[type=file]").set_input_files(str(bad))
    page.locator("#upload button").click()
    assert "could not be read" in page.locator("#message").text_content()
    page.goto(server)  # the server is still up
    assert page.locator("header").count() == 1
    page.close()


def test_failed_run_shows_its_message_and_the_server_goes_on(tmp_path):
    client = make_client()
    bad = tmp_path / "collinear.csv"
    bad.write_text("y,one\n" + "\n".join(f"{i % 7},{1}" for i in range(50)) + "\n")
    with bad.open("rb") as fh:
        client.post("/upload", files={"file": ("collinear.csv", fh.read(), "text/csv")})
    client.post("/template", data={"name": "1LevelMod"})
    client.post("/set", data={"text": "{'y': 'y', 'D': 'Normal', 'x': 'cons,one'}"})
    client.post("/run")
    st = wait_for_run(client, polls=100, every=0.1)
    assert st["status"] == "failed" and "collinear" in st["message"]
    page = client.get("/").text
    assert "collinear" in page and "failed" in page
    assert client.get("/status").status_code == 200


def test_uploads_and_the_dataset_menu_in_the_browser(server, browser, tmp_path):
    """The page's script runs under its Content-Security-Policy: choosing a dataset submits it."""
    mine = tmp_path / "mine.csv"
    mine.write_text("score,age\n1,2\n3,4\n")
    page = browser.new_page()
    blocked = []
    page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(server)
    page.locator("#upload input[type=file]").set_input_files(str(mine))
    page.locator("#upload button").click()
    assert page.locator("#dataset").input_value() == "mine"
    page.locator("#dataset").select_option("tutorial")
    page.wait_for_function("document.getElementById('dataset').value === 'tutorial'")
    page.locator("#dataset").select_option("mine")  # an upload is chosen again by name
    page.wait_for_load_state()
    assert page.locator("#dataset").input_value() == "mine" and not page.locator("#message").count()
    assert blocked == []
    page.close()


def test_a_form_on_another_page_cannot_post_to_the_server(server, browser):
    page = browser.new_page()
    page.set_content(f'<form method="post" action="{server}/template">'
                     '<input name="name" value="1LevelMod"></form>')
    with page.expect_response(lambda r: r.url.endswith("/template")) as response:
        page.evaluate("document.forms[0].submit()")
    assert response.value.status == 403
    page.wait_for_url("**/template")
    page.goto(server)
    assert "1LevelMod on" not in page.content()
    page.close()


def test_the_page_offers_each_question_s_own_default_and_shows_warnings():
    """One source of defaults: the page preselects the template's default (smc: No),
    and a run's warnings are shown beside its outputs."""
    client = make_client()
    client.post("/template", data={"name": "2LevelImpute"})
    answers = {k: v for k, v in ANSWERS.items() if k not in ("smc", "burnin", "iterations")}
    client.post("/set", data={"text": repr(answers)})
    page = client.get("/").text
    question = page.split('id="question"')[1].split("</form>")[0]
    assert 'name="key" value="smc"' in question
    assert "<option selected>No</option>" in question and "<option selected>Yes" not in question
    # the session's default dataset is tutmiss: 1LevelMod leaves out the incomplete cases
    client.post("/template", data={"name": "1LevelMod"})
    client.post("/set", data={"text": repr({"y": "normexam", "D": "Normal",
                                            "x": "cons,standlrtmiss"})})
    client.post("/run")
    assert wait_for_run(client)["status"] == "done"
    page = client.get("/").text
    shown = page.split('id="run-warnings"')[1].split("</div>")[0]
    assert "Warning: 1LevelMod:" in shown and "left out" in shown


def test_status_reports_the_stage_and_percentage():
    client = make_client()
    client.post("/template", data={"name": "2LevelMod"})
    client.post("/set", data={"text": repr({"y": "normexam", "L2ID": "school", "D": "Normal",
                                            "x": "cons,standlrt"})})
    client.post("/dataset", data={"name": "tutorial"})
    client.post("/run")
    seen = []
    for _ in range(400):
        st = client.get("/status").json()
        if st["status"] != "Working":
            break
        if st["percent"] is not None:
            seen.append((st["stage"], st["percent"]))
        time.sleep(0.02)
    assert st["status"] == "done"
    # compiling first when the model is not built yet, then sampling; never back
    assert seen and all(stage in ("compiling 2LevelMod", "2LevelMod") and 0 <= pct <= 100
                        for stage, pct in seen)
    stages = [stage for stage, _ in seen]
    assert "compiling 2LevelMod" not in stages[stages.index("2LevelMod"):] if "2LevelMod" in stages else True


def test_the_page_says_which_models_a_run_compiled(monkeypatch, tmp_path):
    # The compile seconds per model, as the CLI prints them and Results.compile_seconds keeps them.
    from statjr_py import build

    monkeypatch.setenv("STATJR_CACHE", str(tmp_path / "cache"))
    build.forget_loaded()
    try:
        client = make_client()
        client.post("/template", data={"name": "1LevelMod"})
        client.post("/dataset", data={"name": "tutorial"})
        client.post("/set", data={"text": repr({"y": "normexam", "D": "Normal", "x": "cons,standlrt"})})
        client.post("/run")
        assert wait_for_run(client)["status"] == "done"
        shown = client.get("/").text
        assert re.search(r'<p id="compiled"><small>Compiled 1LevelMod in \d+\.\d s;', shown), shown[-2000:]
        client.post("/run")  # built now: nothing to say
        assert wait_for_run(client)["status"] == "done"
        assert 'id="compiled"' not in client.get("/").text
    finally:
        build.forget_loaded()
