"""Hostile command lines: every mistake is one ``statjr: error:`` line, never a traceback.

Output paths are checked before the run starts, so an hour of sampling is
never lost to a typo in ``--out``; input strings that Python's parsers choke
on (deep nesting) and values of the wrong shape are refused up front; Ctrl-C
exits 130 as shells expect.  ``RunStatJR`` is replaced by a stub that records
whether the run started, so these tests run no sampler.
"""
import errno

import pandas as pd
import pytest

from statjr_py import Results
from statjr_py.cli import main

INVARS = "{'y': 'normexam', 'D': 'Normal', 'x': 'cons,standlrt'}"
SMALL = "{'burnin': 10, 'iterations': 50, 'nchains': 1, 'diagnostics': False}"
MANIFEST = ".statjr-manifest.json"


def fake_results(extra: str | None = None) -> Results:
    res = Results()
    res.add("ModelResults", pd.DataFrame({"term": ["cons"], "mean": [0.0]}), "table")
    res.add("Inputs", INVARS, "text")
    if extra:
        res.add(extra, "x", "text")
    return res


@pytest.fixture
def runs(monkeypatch):
    """Replace RunStatJR; the list records each run that started."""
    calls = []

    def fake(template, dataset, invars=None, estoptions=None, **kw):
        calls.append((template, invars, estoptions))
        return fake_results()

    monkeypatch.setattr("statjr_py.engine.RunStatJR", fake)
    return calls


def run(*extra):
    return main(["run", "1LevelMod", "--dataset", "tutorial", "--invars", INVARS,
                 "--estoptions", SMALL, "--no-input", *extra])


def one_error_line(capsys, pattern=None):
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err[:2000]
    assert lines[0].startswith("statjr: error: "), lines[0][:300]
    assert "Traceback" not in err
    if pattern is not None:
        import re
        assert re.search(pattern, lines[0]), lines[0][:300]
    return lines[0]


# ------------------------------------------------------ output paths, up front
def test_out_under_a_regular_file_is_refused_before_the_run(runs, tmp_path, capsys):
    (tmp_path / "afile").write_text("x")
    assert run("--out", str(tmp_path / "afile" / "o")) == 2
    one_error_line(capsys, r"--out .*afile.*not a folder")
    assert runs == []


def test_out_that_is_a_file_is_refused(runs, tmp_path, capsys):
    (tmp_path / "results").write_text("x")
    assert run("--out", str(tmp_path / "results")) == 2
    one_error_line(capsys, r"--out .*results.*is a file")
    assert runs == [] and (tmp_path / "results").read_text() == "x"


def test_zip_under_a_regular_file_is_refused_before_the_run(runs, tmp_path, capsys):
    (tmp_path / "afile").write_text("x")
    assert run("--zip", str(tmp_path / "afile" / "all.zip")) == 2
    one_error_line(capsys, r"--zip .*afile")
    assert runs == []


def test_zip_over_a_file_that_is_not_a_zip_is_refused(runs, tmp_path, capsys):
    (tmp_path / "data.csv").write_text("a,b\n")
    assert run("--zip", str(tmp_path / "data.csv")) == 2
    one_error_line(capsys, r"--zip .*data\.csv.*not a zip")
    assert runs == [] and (tmp_path / "data.csv").read_text() == "a,b\n"


@pytest.mark.parametrize("flag", ["--out", "--zip"])
def test_empty_output_path_is_refused(flag, runs, capsys):
    assert run(flag, "") == 2
    one_error_line(capsys, flag + " '': empty")
    assert runs == []


def test_zip_inside_the_out_folder_is_refused(runs, tmp_path, capsys):
    out = tmp_path / "o"
    assert run("--out", str(out), "--zip", str(out / "all.zip")) == 2
    one_error_line(capsys, r"--zip .*inside --out")
    assert runs == []


def test_out_with_foreign_files_is_refused_before_the_run(runs, tmp_path, capsys):
    (tmp_path / "paper").mkdir()
    (tmp_path / "paper" / "paper.tex").write_text("draft")
    assert run("--out", str(tmp_path / "paper")) == 2
    one_error_line(capsys, r"--out .*paper.*paper\.tex.*--overwrite")
    assert runs == []
    assert sorted(p.name for p in (tmp_path / "paper").iterdir()) == ["paper.tex"]


def test_overwrite_flag_writes_among_foreign_files(runs, tmp_path, capsys):
    (tmp_path / "paper").mkdir()
    (tmp_path / "paper" / "paper.tex").write_text("draft")
    assert run("--out", str(tmp_path / "paper"), "--overwrite") == 0
    assert (tmp_path / "paper" / "paper.tex").read_text() == "draft"
    assert (tmp_path / "paper" / "ModelResults.csv").is_file()
    assert (tmp_path / "paper" / MANIFEST).is_file()


def test_oserror_while_writing_outputs_is_one_line(runs, tmp_path, monkeypatch, capsys):
    def full(self, folder, overwrite=False, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Results, "save", full)
    code = run("--out", str(tmp_path / "o"))
    assert code in (1, 2)
    one_error_line(capsys, "No space left on device")


def test_oserror_while_zipping_is_one_line(runs, tmp_path, monkeypatch, capsys):
    def denied(self, path, overwrite=False):
        raise PermissionError(errno.EACCES, "Permission denied", str(path))

    monkeypatch.setattr(Results, "to_zip", denied)
    assert run("--zip", str(tmp_path / "all.zip")) in (1, 2)
    one_error_line(capsys, "Permission denied")


# -------------------------------------------------------------- interruption
def test_ctrl_c_during_the_run_exits_130(monkeypatch, capsys):
    def interrupted(*args, **kw):
        raise KeyboardInterrupt

    monkeypatch.setattr("statjr_py.engine.RunStatJR", interrupted)
    assert run() == 130
    assert capsys.readouterr().err == "statjr: interrupted\n"


def test_ctrl_c_at_a_prompt_exits_130(monkeypatch, capsys):
    def ctrl_c(prompt=""):
        raise KeyboardInterrupt

    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", ctrl_c)
    assert main(["run", "1LevelMod", "--dataset", "tutorial"]) == 130
    assert capsys.readouterr().err.strip().splitlines()[-1] == "statjr: interrupted"


def test_end_of_input_at_a_prompt_exits_2_with_one_error_line(monkeypatch, capsys):
    def eof(prompt=""):
        raise EOFError

    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", eof)
    assert main(["run", "1LevelMod", "--dataset", "tutorial"]) == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith("statjr: error: ") and "--invars" in last


# ------------------------------------------------- --invars and --estoptions
DEEP_JSON = '{"y": ' + "[" * 10_000 + "]" * 10_000 + "}"


@pytest.mark.parametrize("flag, text", [
    ("--invars", DEEP_JSON),                                 # json: RecursionError
    ("--invars", "{'y': " + "-" * 100_000 + "1}"),           # literal_eval: MemoryError
    ("--invars", "{'y': 1" + "+1" * 100_000 + "}"),          # literal_eval: RecursionError
    ("--estoptions", '{"burnin": ' + "[" * 10_000 + "]" * 10_000 + "}"),
], ids=["json-lists", "unary-minus", "sum", "estoptions-json-lists"])
def test_deeply_nested_text_is_one_line(flag, text, runs, capsys):
    args = ["run", "1LevelMod", "--dataset", "tutorial", "--no-input", "--invars", INVARS]
    assert main(args + [flag, text]) == 2
    line = one_error_line(capsys, flag + " ")
    assert len(line) < 400
    assert runs == []


@pytest.mark.parametrize("flag, text, pattern", [
    ("--invars", "{'y': {'a': 1}, 'D': 'Normal', 'x': 'cons'}", r"--invars 'y' = .*a dict"),
    ("--invars", "{'y': 'normexam', 'D': 'Normal', 'x': [['cons']]}", r"--invars 'x' = .*list inside"),
    ("--invars", "{'y': {1, 2}, 'D': 'Normal', 'x': 'cons'}", r"--invars 'y' = .*a set"),
    ("--invars", "{'y': b'normexam', 'D': 'Normal', 'x': 'cons'}", r"--invars 'y' = .*bytes"),
    ("--invars", '{"y": "normexam", "D": "Normal", "x": ' + "[" * 500 + "]" * 500 + "}",
     r"--invars 'x' = .*list inside"),
    ("--estoptions", "{'burnin': [500]}", r"--estoptions 'burnin' = \[500\]: .*single value"),
    ("--estoptions", "{'diagnostics': {'on': True}}", r"--estoptions 'diagnostics' = .*dict"),
    ("--estoptions", "{'seed': 1j}", r"--estoptions 'seed' = 1j"),
], ids=["dict", "nested-list", "set", "bytes", "json-500-deep", "est-list", "est-dict", "complex"])
def test_values_of_the_wrong_shape_are_one_line(flag, text, pattern, runs, capsys):
    args = ["run", "1LevelMod", "--dataset", "tutorial", "--no-input"]
    args += ["--invars", text] if flag == "--invars" else ["--invars", INVARS, flag, text]
    assert main(args) == 2
    one_error_line(capsys, pattern)
    assert runs == []


@pytest.mark.parametrize("flag, text, pattern", [
    ("--invars", "{1: 'normexam', 'D': 'Normal'}", r"--invars key 1: .*strings"),
    ("--invars", "{None: 'x'}", r"--invars key None"),
    ("--invars", "{(1, 2): 'x'}", r"--invars key \(1, 2\)"),
    ("--estoptions", "{1: 2}", r"--estoptions key 1: .*strings"),
    ("--estoptions", "{True: 500}", r"--estoptions key True"),
])
def test_non_string_keys_are_one_line(flag, text, pattern, runs, capsys):
    args = ["run", "1LevelMod", "--dataset", "tutorial", "--no-input"]
    args += ["--invars", text] if flag == "--invars" else ["--invars", INVARS, flag, text]
    assert main(args) == 2
    one_error_line(capsys, pattern)
    assert runs == []


@pytest.mark.parametrize("flag, text, pattern", [
    ("--invars", "[1, 2]", r"--invars = '\[1, 2\]': a list, not a dict"),
    ("--invars", "5", r"--invars = '5': a number, not a dict"),
    ("--estoptions", "[1, 2]", r"--estoptions = .*a list, not a dict.*'burnin'"),
    ("--estoptions", "500", r"--estoptions = .*a number, not a dict.*'burnin'"),
])
def test_invars_and_estoptions_of_the_wrong_type(flag, text, pattern, runs, capsys):
    args = ["run", "1LevelMod", "--dataset", "tutorial", "--no-input"]
    args += ["--invars", text] if flag == "--invars" else ["--invars", INVARS, flag, text]
    assert main(args) == 2
    one_error_line(capsys, pattern)
    assert runs == []


def test_inputs_command_refuses_nested_invars_too(capsys):
    assert main(["inputs", "1LevelMod", "--invars", DEEP_JSON]) == 2
    one_error_line(capsys, "--invars ")
