"""The fast paths of issue #16 keep their behaviour: the CLI's messages, exact CSV
values, the lazily loaded template registry and the precompiled-header cache."""
import logging

import numpy as np
import pandas as pd
import pytest

from statjr_py.cli import main
from statjr_py.csvout import frame_csv

TREE_STRING = "{'y': 'normexam', 'D': 'Normal', 'x': 'cons,standlrt'}"
SMALL = "{'burnin': 20, 'iterations': 100, 'nchains': 1, 'diagnostics': False}"


def test_verbose_run_says_outputs_written_once(capsys, caplog, tmp_path):
    # `statjr -v` printed "N outputs written" from the CLI and logged it from Results.save
    with caplog.at_level(logging.INFO):
        assert main(["-v", "run", "1LevelMod", "--dataset", "tutorial", "--invars", TREE_STRING,
                     "--estoptions", SMALL, "--out", str(tmp_path / "o")]) == 0
    printed = capsys.readouterr()
    logged = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    said = (printed.out + printed.err).count("outputs written") + sum("outputs written" in m for m in logged)
    assert said == 1


# ---------------------------------------------------------------- CSV text
def _random_doubles(n, seed):
    """Every kind of float64: random bit patterns (subnormals, huge, NaN payloads) and the edge values."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 2 ** 64 - 1, size=n, dtype=np.uint64, endpoint=True).view(np.float64)
    edges = [0.0, -0.0, np.inf, -np.inf, np.nan, 1.0, 0.1, 1e16, 1e-5, 1e15, 2.0 ** 53, 5e-324,
             np.finfo(float).max, -np.finfo(float).tiny]
    return np.concatenate([x, edges])


@pytest.mark.parametrize("frame", [
    pd.DataFrame({"chain": np.zeros(3, dtype=np.int64), "beta(x,cons)": [0.5, np.nan, -1e-300],
                  'a "quoted" name': [1.0, 2.0, 3.0]}),
    pd.DataFrame({"only": [1.0, np.nan, 2.0]}),  # a lone empty field is quoted, not a blank line
    pd.DataFrame({1: [1, 2], 2: np.array([np.iinfo(np.int64).min, 2 ** 63 - 1])}),
    pd.DataFrame({"u": np.array([0, 2 ** 64 - 1], dtype=np.uint64), "i": np.array([1, -2], dtype=np.int32)}),
    pd.DataFrame(np.ones((2, 2)), columns=["x", "x"]),
    pd.DataFrame({"f32": np.array([0.1], dtype=np.float32)}),  # pandas' route
    pd.DataFrame({"a": [1.0], "s": ["text, with comma"]}),  # pandas' route
    pd.DataFrame({"a": pd.Series([], dtype=float)}),
    pd.DataFrame(),
], ids=["names", "one-column", "int-names", "uint-int32", "duplicates", "float32", "strings", "no-rows",
        "nothing"])
def test_frame_csv_is_pandas_text(frame):
    assert frame_csv(frame) == frame.to_csv(index=False)


def test_frame_csv_values_round_trip_exactly():
    x = _random_doubles(20_000, 16)
    frame = pd.DataFrame({"x": x, "y": x[::-1].copy(), "n": np.arange(x.size)})
    text = frame_csv(frame)
    assert text == frame.to_csv(index=False)
    rows = [line.split(",") for line in text.splitlines()[1:]]
    back = np.array([float(r[0]) if r[0] else np.nan for r in rows])
    same_bits = back.view(np.uint64) == x.view(np.uint64)
    assert np.all(same_bits | (np.isnan(back) & np.isnan(x)))
    assert [int(r[2]) for r in rows] == list(range(x.size))


def test_saved_chains_read_back_exactly(tmp_path):
    from statjr_py import Results

    res = Results()
    draws = np.random.default_rng(3).normal(size=(500, 3)) * np.array([1e-8, 1.0, 1e8])
    res["out"] = pd.DataFrame(draws, columns=["a", "b", "c"])
    res.save(tmp_path / "o")
    back = pd.read_csv(tmp_path / "o" / "out.csv")
    assert np.array_equal(back.to_numpy(), draws)


# ---------------------------------------------------------------- registry
def _child(code, env=None):
    import os
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, **(env or {})})
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_one_template_imports_only_its_own_file():
    out = _child("import sys; from statjr_py import get_template; get_template('imputemodel'); "
                 "print(sorted(m.rsplit('_', 2)[-2] for m in sys.modules if m.startswith('statjr_templates.')))")
    assert out.split() == ["['ImputeModel']"]


def test_names_the_files_do_not_spell_out_are_found_by_importing_all(tmp_path):
    (tmp_path / "dyn.py").write_text(
        "from statjr_py import Template\n\n"
        "class Dyn(Template):\n"
        "    name = ''.join(['Dyn', 'Named'])\n")
    (tmp_path / "shadow.py").write_text(
        "from statjr_py import Template\n\n"
        "class Mine(Template):\n"
        '    name = "1LevelMod"  # a user\'s template shadows the bundled one\n')
    out = _child("from statjr_py import get_template, templates; "
                 "print(get_template('dynnamed').name, type(get_template('1levelmod')).__name__, "
                 "templates()['1LevelMod'].__name__)", {"STATJR_TEMPLATES": str(tmp_path)})
    assert out.split() == ["DynNamed", "Mine", "Mine"]


# ---------------------------------------------------------------- rank normalisation without SciPy
def test_normal_quantile_matches_scipy():
    from scipy import special

    from statjr_py.diagnostics import normal_quantile

    p = np.concatenate([np.linspace(1e-300, 1 - 1e-16, 100_001), [1e-300, 1e-20, 0.075, 0.925, 0.5],
                        np.random.default_rng(5).uniform(size=10_000)])
    assert np.allclose(normal_quantile(p), special.ndtri(p), rtol=1e-14, atol=1e-14)
    assert np.isnan(normal_quantile(np.array([0.0, 1.0, -0.5, np.nan]))).all()


def test_average_ranks_match_scipy_rankdata():
    from scipy import stats

    from statjr_py.diagnostics import average_ranks

    x = np.round(np.random.default_rng(6).normal(size=(4, 1000)), 1)  # many ties
    assert np.array_equal(average_ranks(x), stats.rankdata(x, method="average").reshape(x.shape))
    assert np.isnan(average_ranks(np.array([1.0, np.nan]))).all()


def test_imputation_model_alone_runs_without_scipy_stats():
    out = _child("import sys; from statjr_py import get_template, load_dataset; "
                 "from statjr_py.diagnostics import ess_bulk, rhat; import numpy as np; "
                 "x = np.random.default_rng(1).normal(size=(3, 200)); ess_bulk(x); rhat(x); "
                 "print('scipy.stats' in sys.modules)")
    assert out.split() == ["False"]


def test_importing_the_cli_skips_what_a_run_may_not_need():
    # scipy (whose import took a second), jinja2 (only to render) and cffi (only to build)
    out = _child("import sys, statjr_py, statjr_py.cli; "
                 "print(sorted(m for m in ('scipy', 'jinja2', 'cffi', 'matplotlib') if m in sys.modules))")
    assert out.split() == ["[]"]


# ---------------------------------------------------------------- ending the process
def test_the_console_script_still_does_what_an_exit_does(tmp_path):
    # main() without argv ends the process itself (skipping the interpreter's teardown):
    # atexit functions still run, buffered output still arrives, the status is kept
    code = ("import atexit, sys, threading, time; from statjr_py import cli; "
            "atexit.register(lambda: print('atexit ran', flush=True)); "
            "t = threading.Thread(target=lambda: (time.sleep(0.3), print('thread finished'))); t.start(); "
            "sys.stdout.write('buffered, no newline'); sys.argv = ['statjr'] + sys.argv[1:]; cli.main()")
    import subprocess
    import sys

    ok = subprocess.run([sys.executable, "-c", code, "list"], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert "1LevelMod" in ok.stdout and "buffered, no newline" in ok.stdout
    assert "thread finished" in ok.stdout and ok.stdout.rstrip().endswith("atexit ran")
    bad = subprocess.run([sys.executable, "-c", code, "run", "1LevelMud", "--dataset", "tutorial"],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "did you mean '1LevelMod'" in bad.stderr and "atexit ran" in bad.stdout


def test_main_with_argv_returns(capsys):
    assert main(["list"]) == 0  # and the test process is still here
    assert "1LevelMod" in capsys.readouterr().out
