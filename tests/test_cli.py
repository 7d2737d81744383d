"""The statjr command: output, and errors as exit code 2 with one line."""
import re
import subprocess
import sys

import pytest

from statjr_py.cli import main


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch):
    """The bar fits the terminal; these tests read it at a known width, whatever runs them."""
    monkeypatch.setenv("COLUMNS", "160")

TREE_STRING = "{'y': 'normexam', 'D': 'Normal', 'x': 'cons,standlrt'}"
SMALL = "{'burnin': 20, 'iterations': 100, 'nchains': 1}"


def test_list(capsys):
    assert main(["list"]) == 0
    assert "1LevelMod" in capsys.readouterr().out


def test_run_with_tree_input_string(capsys, tmp_path):
    code = main(["run", "1LevelMod", "--dataset", "tutorial", "--invars", TREE_STRING,
                 "--estoptions", SMALL, "--out", str(tmp_path / "o"), "--zip", str(tmp_path / "a.zip")])
    assert code == 0
    out = capsys.readouterr().out
    assert "ModelResults" in out and "standlrt" in out
    assert (tmp_path / "o" / "ModelResults.csv").is_file()
    assert (tmp_path / "o" / "script.py").is_file()
    assert (tmp_path / "a.zip").is_file()


def test_second_run_into_the_same_out_replaces_the_first(capsys, tmp_path):
    # A rerun without the diagnostic plots must not leave the first run's plots
    # beside the new tables, where they would pass for the second run's.
    out = tmp_path / "o"
    args = ["run", "1LevelMod", "--dataset", "tutorial", "--invars", TREE_STRING, "--out", str(out)]
    assert main(args + ["--estoptions", SMALL]) == 0
    assert (out / "standlrt.svg").is_file()
    no_plots = SMALL[:-1] + ", 'diagnostics': False}"
    assert main(args + ["--estoptions", no_plots]) == 0
    assert not list(out.glob("*.svg"))
    assert (out / "ModelResults.csv").is_file() and (out / ".statjr-manifest.json").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o"]


def test_run_with_json(capsys):
    assert main(["run", "1LevelMod", "--dataset", "tutorial", "--invars",
                 '{"y": "normexam", "D": "Normal", "x": ["cons"]}', "--estoptions", SMALL]) == 0


@pytest.mark.parametrize("args, pattern", [
    (["run", "1LevelMud", "--dataset", "tutorial"], "did you mean '1LevelMod'"),
    (["run", "1LevelMod", "--dataset", "nosuch", "--invars", TREE_STRING], "no such file"),
    (["run", "1LevelMod", "--dataset", "tutorial", "--invars", "{'y': 'normexm'}"], "did you mean 'normexam'"),
    (["run", "1LevelMod", "--dataset", "tutorial", "--invars", "not a dict"], "not a dict"),
    (["run", "1LevelMod", "--dataset", "tutorial", "--invars", TREE_STRING, "--estoptions",
      "{'burnin': 'x'}"], "'burnin'"),
    (["run", "1LevelMod", "--dataset", "tutorial", "--invars", "{'y': 'normexam'}", "--no-input"],
     "input 'D' is missing"),
    # estoptions that are not a dict: the fix names estimation options, not questions
    (["run", "1LevelMod", "--dataset", "tutorial", "--invars", TREE_STRING, "--estoptions", "[1, 2]"],
     "'burnin'"),
    (["run", "1LevelMod", "--dataset", "tutorial", "--invars", '{"y": ' + "[" * 5000 + "]" * 5000 + "}"],
     "--invars "),
    (["run", "1LevelMod", "--dataset", "tutorial", "--invars", "{1: 'normexam'}"], "--invars key 1"),
    (["run", "1LevelMod", "--dataset", "tutorial", "--invars", TREE_STRING, "--out", __file__ + "/o"],
     "not a folder"),
])
def test_user_errors_exit_2_with_one_line(args, pattern, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "Traceback" not in err
    assert pattern in err


def test_console_script_without_terminal_lists_missing_question():
    proc = subprocess.run([sys.executable, "-m", "statjr_py.cli", "run", "1LevelMod",
                           "--dataset", "tutorial", "--invars", "{'y': 'normexam', 'D': 'Normal'}"],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert proc.returncode == 2
    assert "input 'x' is missing" in proc.stderr and "Traceback" not in proc.stderr


def test_inputs_command(capsys):
    assert main(["inputs", "1LevelMod", "--dataset", "tutorial", "--invars", "{'y': 'normexam'}"]) == 0
    out = capsys.readouterr().out
    assert "next: D" in out and "Normal" in out


def test_interactive_prompts_ask_every_question(monkeypatch, capsys):
    # On a terminal, missing answers are asked one at a time; a bad answer is
    # reported and asked again; questions with defaults are left to them.
    replies = iter(["normexam", "Gaussian", "Normal", "cons,standlrt"])
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda prompt="": next(replies))
    assert main(["run", "1LevelMod", "--dataset", "tutorial", "--estoptions", SMALL]) == 0
    err = capsys.readouterr().err
    assert "choose one of 'Normal'" in err
    assert "Current input string: {'y': 'normexam', 'D': 'Normal', 'x': 'cons,standlrt'}" in err
    assert "RunStatJR(template='1LevelMod'" in err


def test_terminal_run_of_the_readme_command_asks_nothing(monkeypatch, capsys):
    # The worked example's input string leaves out questions that have defaults
    # (iterations, smc): pasted on a terminal it must run without prompting.
    from statjr_py.examples import WORKED_EXAMPLE
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda prompt="": pytest.fail(f"asked {prompt}"))
    inv = {**WORKED_EXAMPLE, "impute1st": "20", "imputeevery": "5", "numimpute": "2", "iterations": "50"}
    assert main(["run", "2LevelImpute", "--dataset", "tutmiss", "--invars", repr(inv),
                 "--estoptions", "{'diagnostics': False}"]) == 0
    assert "ResultsTable:Imputation" in capsys.readouterr().out


def test_prompts_offer_defaults_and_back_undoes(monkeypatch, capsys):
    """Every question is asked with its default offered (Enter takes it); 'back' undoes."""
    from pathlib import Path

    from statjr_py import registry
    monkeypatch.setenv("STATJR_TEMPLATES", str(Path(__file__).parent / "templates"))
    registry.clear_cache()
    prompts = []
    replies = iter(["normal", "", "back", "0.5", ""])

    def reply(prompt=""):
        prompts.append(prompt)
        return next(replies)
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", reply)
    try:
        assert main(["run", "RngCheck", "--dataset", "tutorial", "--estoptions", SMALL]) == 0
    finally:
        registry.clear_cache()
    assert prompts[1].startswith("a [0.0]") and prompts[3].startswith("a [0.0]")
    assert prompts[4].startswith("b [1.0]")
    err = capsys.readouterr().err
    assert "Current input string: {'dist': 'normal', 'a': '0.5', 'b': '1.0'}" in err


def test_one_progress_bar_names_each_stage_through_writing(capsys, tmp_path):
    from statjr_py.examples import WORKED_EXAMPLE
    inv = {**WORKED_EXAMPLE, "impute1st": "100", "imputeevery": "10", "numimpute": "2",
           "iterations": "200", "burnin": "20"}
    assert main(["run", "2LevelImpute", "--dataset", "tutmiss", "--invars", repr(inv), "--progress",
                 "--out", str(tmp_path / "out")]) == 0
    err = capsys.readouterr().err.replace("\r", "\n")
    stages = [line.split(":")[0] for line in err.splitlines() if "%" in line]
    assert stages[0] == "imputation and complete cases"
    assert "model of interest on each imputed dataset" in stages and stages[-1] == "writing outputs"
    assert "100% of" in [ln for ln in err.splitlines() if ln.startswith("writing outputs")][-1]


def test_bar_fits_a_narrow_terminal_and_names_the_stage():
    # A line as wide as the terminal wraps, and every redraw then leaves a line behind.
    import io

    from statjr_py.cli import ProgressBar

    class Narrow(io.StringIO):
        def fileno(self):
            raise OSError("not a terminal")

    for columns in (20, 40, 80, 200):
        out = Narrow()
        bar = ProgressBar(out)
        bar._columns = lambda c=columns: c
        bar(5, 38850, "model of interest on each imputed dataset")
        bar(38850, 38850, "model of interest on each imputed dataset")
        bar.close()
        for line in out.getvalue().replace("\r", "\n").splitlines():
            shown = line.replace("\033[K", "")
            assert len(shown) <= columns - 1, (columns, shown)
        if columns >= 80:  # the stage's name whole; the count gives way first
            assert "model of interest on each imputed dataset: [" in out.getvalue()
        assert "100%" in out.getvalue()
        if columns >= 120:
            assert "100% of 38850 iterations" in out.getvalue()


def test_a_new_stage_is_drawn_at_once_and_log_lines_clear_the_bar():
    import io
    import logging

    from statjr_py.cli import ProgressBar, _BarClearingHandler

    out = io.StringIO()
    bar = ProgressBar(out)
    bar(0, 100, "imputation")
    bar(0, 100, "compiling ImputeModel")  # within 0.1 s of the last draw, but a new stage
    assert "compiling ImputeModel: [" in out.getvalue()
    handler = _BarClearingHandler(out)
    handler.setFormatter(logging.Formatter("statjr: %(message)s"))
    record = logging.LogRecord("statjr_py.build", logging.INFO, __file__, 1, "compiled x", None, None)
    handler.emit(record)
    # the log line starts on a cleared line, not after the bar's text
    assert "\r\033[Kstatjr: compiled x\n" in out.getvalue()
    bar.close()
    assert ProgressBar.active is None


@pytest.mark.parametrize("both", [False, True], ids=["stdout", "stdout and stderr"])
def test_a_reader_that_goes_away_does_not_cost_the_outputs(tmp_path, both):
    # `statjr run ... --out DIR | head -1` (and `2>&1 | head -1`, the bar included): the
    # tables and the bar hit a closed pipe; the outputs are still written, and status 0 says so.
    cmd = [sys.executable, "-m", "statjr_py.cli", "run", "1LevelMod", "--dataset", "tutorial",
           "--invars", TREE_STRING, "--estoptions", SMALL, "--out", str(tmp_path / "out"), "--progress"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT if both else subprocess.PIPE)
    err = b""
    proc.stdout.close()  # the reader is gone before anything is printed
    if not both:
        err = proc.stderr.read()
    assert proc.wait(timeout=300) == 0, err.decode()
    assert b"Traceback" not in err and b"BrokenPipe" not in err
    assert (tmp_path / "out" / "ModelResults.csv").is_file()


def test_compiling_models_are_the_stage_while_they_compile():
    # Two models compile at once (2LevelImpute's imputation model and its complete-case
    # fit); the stage names both, then one, then the run's own stage comes back.
    from statjr_py.run import Progress

    seen = []
    progress = Progress(lambda done, total, stage: seen.append(stage))
    progress.plan(10)
    progress.set_stage("imputation and complete cases")
    with progress.compiling("ImputeModel"):
        with progress.compiling("2LevelMod"):
            pass
    assert seen == ["imputation and complete cases", "compiling ImputeModel",
                    "compiling ImputeModel, 2LevelMod", "compiling ImputeModel",
                    "imputation and complete cases"]


def test_a_first_run_names_what_it_compiles_and_for_how_long(capsys, tmp_path, monkeypatch):
    # The compile seconds per model, on the bar while it compiles and after the run;
    # a run that finds its models built says nothing of compiling.
    from statjr_py import build

    monkeypatch.setenv("STATJR_CACHE", str(tmp_path / "cache"))
    build.forget_loaded()
    try:
        args = ["run", "1LevelMod", "--dataset", "tutorial", "--invars", TREE_STRING,
                "--estoptions", SMALL, "--progress"]
        assert main(args) == 0
        err = capsys.readouterr().err
        assert "compiling 1LevelMod, " in err  # before the run's iterations are known: name and clock
        assert re.search(r"statjr: compiled 1LevelMod in \d+\.\d s", err), err
        assert main(args) == 0
        err = capsys.readouterr().err
        assert "compil" not in err
    finally:
        build.forget_loaded()  # the other tests' modules come from their own cache again


def test_the_command_starts_before_numpy_and_pandas_load():
    # Ctrl-C is one line and status 130 once main() runs; the heavy imports come inside
    # it, so the window in which Ctrl-C prints a traceback is Python's own start only.
    code = ("import sys, statjr_py, statjr_py.cli; "
            "print(sorted(m for m in ('numpy', 'pandas', 'scipy') if m in sys.modules)); "
            "print(all(getattr(statjr_py, n) is not None for n in statjr_py.__all__))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == ["[]", "True"]


def test_a_stage_before_the_plan_stays_on_one_line_and_writing_clears_for_warnings():
    import io
    import logging

    from statjr_py.cli import ProgressBar, _BarClearingHandler

    out = io.StringIO()
    bar = ProgressBar(out)
    bar(0, 0, "")  # nothing planned, no stage: nothing drawn
    assert out.getvalue() == ""
    bar(0, 0, "compiling 1LevelMod")
    assert out.getvalue().startswith("\rcompiling 1LevelMod, ") and "\n" not in out.getvalue()
    bar(3020, 3020, "1LevelMod")  # the run's bar takes the same line, and ends it
    assert out.getvalue().count("\n") == 1
    bar.close()
    bar.writing(3, 12)  # writing the outputs, after the run's bar was closed
    handler = _BarClearingHandler(out)
    handler.emit(logging.LogRecord("statjr_py", logging.WARNING, __file__, 1, "a warning", None, None))
    assert "\r\033[Ka warning\n" in out.getvalue()
    bar.close()


def test_threads_waiting_for_one_compile_count_it_once():
    import threading
    import time

    from statjr_py.run import Progress

    progress = Progress(None)
    release = threading.Event()

    def wait_for_the_compile():
        with progress.compiling("2LevelMod"):
            release.wait(5)

    threads = [threading.Thread(target=wait_for_the_compile) for _ in range(3)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    time.sleep(0.3)
    release.set()
    for t in threads:
        t.join()
    assert 0.25 < progress.compiled["2LevelMod"] <= time.perf_counter() - started
