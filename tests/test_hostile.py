"""Hostile input through the API: names, data, bounds, options, Ctrl-C, the cache.

Every case ends in a correct result or an InputError naming the culprit;
nothing a user supplies is ever executed.  (The web server's cases are in
test_hostile_web.py, the outputs' and the CLI's in test_hostile_outputs.py
and test_hostile_cli.py.)
"""
import ast
import os
import subprocess
import sys
import textwrap
import time
import warnings

import numpy as np
import pandas as pd
import pytest

from statjr_py import DataWarning, InputError, RunStatJR
from statjr_py.codegen import cpp_name, tex

FAST = {"burnin": 10, "iterations": 30, "nchains": 1, "diagnostics": False}
SENTINEL = "/tmp/statjr_hostile_sentinel"
PAYLOAD = f'x\nstatic int p = std::system("touch {SENTINEL}");\n//'
HOSTILE = [
    PAYLOAD,
    "a\rstatic int q = 1;",
    'q"uote',
    "it's",
    "back\\slash",
    "end*/comment",
    "{{ 7*7 }}",
    "{% if true %}x{% endif %}",
    "#include <cstdlib>",
    "naïve_é",
    "long" * 2500,   # 10,000 characters
    "a}b{c$d&e#f^g_h%i~j",
]


@pytest.fixture(autouse=True)
def no_sentinel():
    if os.path.exists(SENTINEL):
        os.unlink(SENTINEL)
    yield
    assert not os.path.exists(SENTINEL), "a column name was executed"


def _with_name(frame: pd.DataFrame, old: str, new: str) -> pd.DataFrame:
    return frame.rename(columns={old: new})


def test_cpp_name_keeps_only_identifier_characters():
    for name in HOSTILE:
        out = cpp_name(name)
        assert set(out) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
        assert out


def test_tex_escapes_every_special_character():
    assert tex("a_b") == r"a\_b"
    assert tex("x\ny") == "x y"
    escaped = tex("a}b{c$d&e#f^g_h%i~j\\")
    # no unescaped special character is left
    stripped = escaped.replace(r"\textbackslash{}", "").replace(r"\textasciicircum{}", "")
    stripped = stripped.replace(r"\textasciitilde{}", "")
    for ch in "{}$&#_%":
        assert stripped.count(ch) == stripped.count("\\" + ch)


def test_the_cpp_renderer_refuses_a_raw_name(tmp_path):
    from statjr_py.codegen import render_file

    path = tmp_path / "t.cpp.j2"
    path.write_text("// {{ name }}\nint x = 1;\n")
    with pytest.raises(ValueError, match="cpp_name"):
        render_file(path, {"name": PAYLOAD})
    path.write_text("// {{ name | cpp_name }}\nint x = 1;\n")
    assert "system" in render_file(path, {"name": PAYLOAD})  # as letters in a comment
    assert "\n" not in render_file(path, {"name": PAYLOAD}).split("\n")[0]


@pytest.mark.parametrize("name", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_predictor_name_in_every_sink(tutorial, name):
    frame = _with_name(tutorial, "standlrt", name)
    res = RunStatJR("1LevelMod", frame, {"y": "normexam", "D": "Normal", "x": ["cons", name]}, FAST)
    table = res["ModelResults"]
    assert list(table["term"]) == ["cons", name, "sigma2_e"]
    assert name not in res["1LevelMod.cpp"]
    assert tex(name) in res["equation.tex"]
    assert "\n" not in tex(name)
    # script.py parses, and its invars literal gives back the name exactly
    tree = ast.parse(res["script.py"])
    call = next(n for n in ast.walk(tree) if isinstance(n, ast.Call)
                and getattr(n.func, "id", "") == "RunStatJR")
    invars = ast.literal_eval(next(k.value for k in call.keywords if k.arg == "invars"))
    assert invars["x"] == f"cons,{name}"
    # the data file it suggests keeps the name (a .dta would rename it)
    from statjr_py.stata import _stata_legal
    assert ("dataset='data.dta'" if _stata_legal(name) else "dataset='data.csv'") in res["script.py"]
    # the frame the caller gave is untouched
    assert name in frame.columns and "standlrt" not in frame.columns


def test_hostile_response_names_in_the_imputation_model(tutmiss):
    """One compile for all of them: names never reach the C++ source."""
    from statjr_py import build

    sources = set()
    for name in [PAYLOAD, "end*/comment", "{{ 7*7 }}", "#include <cstdlib>", "naïve_é"]:
        frame = _with_name(tutmiss, "standlrtmiss", name)
        res = RunStatJR("ImputeModel", frame,
                        {"numlevs": "Yes", "L2ID": "school", "yimp1": [name], "bin1_1": "Normal",
                         "ximp1_0": "cons", "want2": "No", "condmarg": "Yes", "numimpute": "2",
                         "impute1st": "20", "imputeevery": "5"},
                        {"processes": 1, "diagnostics": False})
        cpp = res["ImputeModel.cpp"]
        assert "system" not in cpp and "7*7" not in cpp
        sources.add(cpp)
        done = res["impute_datafile_chain0_iter20"]
        assert done[name].notna().all()
        observed = frame[name].notna()
        assert (done.loc[observed, name].to_numpy() == frame.loc[observed, name].to_numpy()).all()
    assert len(sources) == 1
    before = build.compile_count()
    assert build.compile_count() == before


def test_a_name_with_a_comma_gets_an_input_error(tutorial):
    frame = _with_name(tutorial, "standlrt", "a,b")
    with pytest.raises(InputError, match="comma"):
        RunStatJR("1LevelMod", frame, {"y": "normexam", "D": "Normal", "x": ["cons", "a,b"]}, FAST)


# --------------------------------------------------------------- collisions
@pytest.mark.parametrize("name", ["sigma2_e", "deviance", "chain", "iteration"])
def test_a_variable_named_like_a_parameter_is_refused(tutorial, name):
    frame = _with_name(tutorial, "standlrt", name)
    with pytest.raises(InputError, match=f"'{name}'.*rename"):
        RunStatJR("1LevelMod", frame, {"y": "normexam", "D": "Normal", "x": ["cons", name]}, FAST)


def test_sigma2_u_and_omega_names_in_two_level_templates(tutorial):
    frame = _with_name(tutorial, "standlrt", "sigma2_u")
    with pytest.raises(InputError, match="sigma2_u"):
        RunStatJR("2LevelMod", frame, {"y": "normexam", "L2ID": "school", "D": "Normal",
                                       "x": "cons,sigma2_u"}, FAST)
    frame = _with_name(tutorial, "standlrt", "omega_u(cons,cons)")
    with pytest.raises(InputError, match="omega_u"):
        RunStatJR("2LevelRS", frame, {"y": "normexam", "L2ID": "school", "x": "cons,omega_u(cons,cons)",
                                      "z": "cons"}, FAST)


def test_2levelimpute_refuses_a_parameter_name_before_imputing(tutmiss):
    from statjr_py import build

    frame = _with_name(tutmiss, "standlrtmiss", "sigma2_e")
    before = build.compile_count()
    with pytest.raises(InputError, match="sigma2_e"):
        RunStatJR("2LevelImpute", frame,
                  {"numlevs": "Yes", "L2ID": "school", "MOIlevel": "2 levels", "MOIdist": "Normal",
                   "MOIslope": "No", "y": "normexam", "x": "cons,sigma2_e",
                   "yimp1": "normexam,sigma2_e", "bin1_1": "Normal", "bin1_2": "Normal",
                   "ximp1_0": "cons", "ximp1_1": "cons", "want2": "No", "condmarg": "Yes",
                   "numimpute": "2", "impute1st": "20", "imputeevery": "5"})
    assert build.compile_count() == before


def test_a_dummy_clashing_with_a_column_is_refused(tutorial):
    frame = tutorial.copy()
    frame["vrband_1"] = 0.5
    with pytest.raises(InputError, match="vrband_1"):
        RunStatJR("1LevelMod", frame, {"y": "normexam", "D": "Normal",
                                       "x": "cons,vrband.cat,vrband_1"}, FAST)


def test_level2_id_named_n_keeps_both_columns(tutorial):
    frame = _with_name(tutorial, "school", "n")
    res = RunStatJR("2LevelMod", frame, {"y": "normexam", "L2ID": "n", "D": "Normal",
                                         "x": "cons,standlrt"}, FAST)
    table = res["ResidualsLevel2"]
    assert {"n", "n_rows"} <= set(table.columns)
    assert table["n_rows"].sum() == len(frame)


# ----------------------------------------------------------------- bad data
BAD_Y = {
    "inf": (lambda y: y.where(y.index != 7, np.inf), "infinite.*row 8"),
    "-inf": (lambda y: y.where(y.index != 3, -np.inf), "infinite.*row 4"),
    "1e300": (lambda y: y.where(y.index != 5, 1e300), "row 6.*too large"),
    "all missing": (lambda y: y * np.nan, "no observed values"),
    "text": (lambda y: y.astype(object).where(y.index != 2, "abc"), "non-numeric.*'abc'.*row 3"),
}


@pytest.mark.parametrize("case", list(BAD_Y))
def test_bad_response_values_stop_before_compiling(tutorial, case):
    from statjr_py import build

    change, pattern = BAD_Y[case]
    frame = tutorial.copy()
    frame["normexam"] = change(frame["normexam"])
    before = build.compile_count()
    with pytest.raises(InputError, match=f"input 'y'.*normexam.*{pattern}"):
        RunStatJR("1LevelMod", frame, {"y": "normexam", "D": "Normal", "x": "cons,standlrt"}, FAST)
    assert build.compile_count() == before


def test_bad_predictor_and_imputation_variable(tutmiss):
    frame = tutmiss.copy()
    frame["standlrtmiss"] = frame["standlrtmiss"].where(frame.index != 10, np.inf)
    with pytest.raises(InputError, match="input 'yimp1'.*standlrtmiss.*infinite.*row 11"):
        RunStatJR("ImputeModel", frame, {"numlevs": "No", "yimp1": "standlrtmiss", "bin1_1": "Normal",
                                         "ximp1_0": "cons", "numimpute": "2", "impute1st": "10",
                                         "imputeevery": "5"})
    frame = tutmiss.copy()
    frame["standlrtmiss"] = np.nan
    with pytest.raises(InputError, match="no observed values"):
        RunStatJR("ImputeModel", frame, {"numlevs": "No", "yimp1": "standlrtmiss", "bin1_1": "Normal",
                                         "ximp1_0": "cons", "numimpute": "2", "impute1st": "10",
                                         "imputeevery": "5"})


def test_empty_dataset(tutorial):
    with pytest.raises(InputError, match="no rows"):
        RunStatJR("1LevelMod", tutorial.iloc[:0], {"y": "normexam", "D": "Normal", "x": "cons"}, FAST)


def test_separation_warns_and_the_run_goes_on(tutorial):
    frame = tutorial.copy()
    frame["pass"] = (frame["normexam"] > 0).astype(int)
    frame.loc[frame["vrband"] == 1, "pass"] = 1  # band 1 always passes: quasi-separation
    with pytest.warns(DataWarning, match="separated by 'vrband_1'"):
        res = RunStatJR("1LevelMod", frame, {"y": "pass", "D": "Binomial", "x": "cons,vrband.cat"},
                        FAST)
    assert len(res["ModelResults"]) == 3


def test_no_separation_no_warning(tutorial):
    frame = tutorial.copy()
    frame["pass"] = (frame["normexam"] > 0).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)
        RunStatJR("1LevelMod", frame, {"y": "pass", "D": "Binomial", "x": "cons,standlrt"}, FAST)


# ------------------------------------------------------------------- bounds
IMPUTE = {"numlevs": "No", "yimp1": "standlrtmiss", "bin1_1": "Normal", "ximp1_0": "cons",
          "numimpute": "2", "impute1st": "10", "imputeevery": "5"}


@pytest.mark.parametrize("key,value,pattern", [
    ("numimpute", "1e9", "at most 1000"),
    ("numimpute", "1001", "at most 1000"),
    ("impute1st", "1e13", "at most"),
])
def test_counts_are_bounded_at_the_question(tutmiss, key, value, pattern):
    with pytest.raises(InputError, match=f"input '{key}'.*{pattern}"):
        RunStatJR("ImputeModel", tutmiss, {**IMPUTE, key: value})


def test_category_count_is_bounded(tutmiss):
    with pytest.raises(InputError, match="input 'ncatsvrband'.*at most 50"):
        RunStatJR("ImputeModel", tutmiss, {**IMPUTE, "yimp1": "vrband", "bin1_1": "Unordered",
                                           "ncatsvrband": "100000"})


@pytest.mark.parametrize("options,pattern", [
    ({"iterations": 10 ** 13}, "'iterations'.*<= 1000000000"),
    ({"seed": 2 ** 63}, "'seed'.*<= 9223372036854775807"),
    ({"seed": -1}, "'seed'.*>= 0"),
    ({"seed": 1.5}, "'seed'.*whole number"),
    ({"nchains": float("nan")}, "'nchains'.*whole number"),
    ({"burnin": [1, 2]}, "'burnin'.*not a number"),
    ({"burnin": {"a": 1}}, "'burnin'.*not a number"),
    ({1: 2}, "estoptions key 1.*strings"),
])
def test_bad_estoptions(options, pattern):
    with pytest.raises(InputError, match=pattern):
        RunStatJR("1LevelMod", "tutorial", {"y": "normexam", "D": "Normal", "x": "cons"}, options)


def test_estoptions_of_the_wrong_type():
    with pytest.raises(InputError, match="estoptions = .*must be a dict"):
        RunStatJR("1LevelMod", "tutorial", {"y": "normexam", "D": "Normal", "x": "cons"}, [1, 2])


def test_stored_draws_that_cannot_fit_are_refused_before_compiling(monkeypatch):
    from statjr_py import build, run

    monkeypatch.setattr(run, "available_memory", lambda: 10 * 2 ** 20)
    before = build.compile_count()
    with pytest.raises(InputError, match="GiB of memory.*lower estoptions 'iterations'"):
        RunStatJR("1LevelMod", "tutorial", {"y": "normexam", "D": "Normal", "x": "cons,standlrt"},
                  {"iterations": 10 ** 7, "nchains": 3})
    assert build.compile_count() == before


def _deep(n):
    x = "cons"
    for _ in range(n):
        x = [x]
    return x


@pytest.mark.parametrize("invars,pattern", [
    ({1: "normexam"}, "invars key 1.*strings"),
    ({"y": "normexam", "D": "Normal", "x": _deep(10_000)}, "input 'x'.*list of variables"),
    ({"y": {"a": 1}, "D": "Normal", "x": "cons"}, "input 'y'.*dict is not an answer"),
    ({"y": "normexam", "D": "Normal", "x": ["cons", 3]}, "input 'x'.*only names"),
    ({"y": "normexam", "D": ["Normal"], "x": "cons"}, "input 'D'.*list is not an answer"),
])
def test_bad_invars(invars, pattern):
    with pytest.raises(InputError, match=pattern):
        RunStatJR("1LevelMod", "tutorial", invars, FAST)


def test_invars_of_the_wrong_type():
    with pytest.raises(InputError, match="invars = .*must be a dict"):
        RunStatJR("1LevelMod", "tutorial", ["y", "normexam"], FAST)


# -------------------------------------------------------------------- Ctrl-C
def test_sigint_stops_a_run_within_a_second(tmp_path):
    """SIGINT while chains run: KeyboardInterrupt in well under a second, chains joined."""
    script = tmp_path / "long.py"
    script.write_text(textwrap.dedent("""
        import os, signal, sys, threading, time
        from statjr_py import RunStatJR

        progress = {"t": None}
        def tick(done, total):
            if progress["t"] is None and done > 0:
                progress["t"] = time.monotonic()
                threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT)).start()
        try:
            RunStatJR("2LevelMod", "tutorial", {"y": "normexam", "L2ID": "school", "D": "Normal",
                                                "x": "cons,standlrt"},
                      {"burnin": 0, "iterations": 10 ** 8, "nchains": 2, "thinning": 1000},
                      progress=tick)
        except KeyboardInterrupt:
            stopped = time.monotonic() - progress["t"] - 0.5
            alive = [t.name for t in threading.enumerate() if t is not threading.main_thread()
                     and not t.daemon and t.is_alive() and not t.name.startswith("Thread-")]
            print(f"stopped {stopped:.3f} {len(alive)}")
            sys.exit(0)
        print("finished")
    """))
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr
    word, seconds, alive = proc.stdout.split()
    assert word == "stopped"
    assert float(seconds) < 1.0
    assert alive == "0"


# -------------------------------------------------------------- compile cache
def test_unwritable_cache_is_an_input_error(tmp_path, monkeypatch):
    from statjr_py import build

    blocker = tmp_path / "afile"
    blocker.write_text("x")
    monkeypatch.setenv("STATJR_CACHE", str(blocker / "cache"))
    build.forget_loaded()
    with pytest.raises(InputError, match="STATJR_CACHE.*cannot be used"):
        RunStatJR("1LevelMod", "tutorial", {"y": "normexam", "D": "Normal", "x": "cons"}, FAST)


def test_stale_build_folders_are_removed(tmp_path, monkeypatch):
    from statjr_py import build

    monkeypatch.setenv("STATJR_CACHE", str(tmp_path))
    build.forget_loaded()
    old = tmp_path / "_sjr_0123456789abcdef01234567.abcd"
    old.mkdir()
    os.utime(old, (time.time() - 2 * build.STALE_SECONDS,) * 2)
    RunStatJR("1LevelMod", "tutorial", {"y": "normexam", "D": "Normal", "x": "cons"}, FAST)
    assert not old.exists()
    build.forget_loaded()


def test_two_processes_compile_a_new_model_once(tmp_path):
    """The cross-process lock: both load the module, one compiles it."""
    script = textwrap.dedent("""
        import sys
        from statjr_py import RunStatJR, build
        RunStatJR("1LevelMod", "tutorial", {"y": "normexam", "D": "Normal", "x": "cons,standlrt"},
                  {"burnin": 1, "iterations": 2, "nchains": 1, "diagnostics": False})
        print(build.compile_count())
    """)
    env = {**os.environ, "STATJR_CACHE": str(tmp_path)}
    procs = [subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=env) for _ in range(2)]
    counts = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        counts.append(int(out.split()[-1]))
    assert sorted(counts) == [0, 1]


def test_level2_id_mixing_numbers_and_text_is_refused(tutorial):
    """1 and "1" in one L2ID column would be two schools; say so before compiling."""
    frame = tutorial.copy()
    frame["school"] = frame["school"].astype(object)
    frame.loc[frame["school"] == 1, "school"] = "1"
    with pytest.raises(InputError, match=r"L2ID.*mixes numbers and text \(e\.g\. 2 and '1'\)"):
        RunStatJR("2LevelMod", frame, {"y": "normexam", "L2ID": "school", "D": "Normal",
                                       "x": "cons,standlrt"}, {"burnin": 5, "iterations": 10})
