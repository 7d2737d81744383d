"""Saying when something is wrong: ConvergenceWarning and DataWarning reach the user
through warnings.warn, the CLI (one line each) and Results.warnings."""
import warnings

import pytest

from statjr_py import ConvergenceWarning, DataWarning, RunStatJR
from statjr_py.cli import main
from statjr_py.examples import WORKED_IMPUTATION

RI = {"y": "normexam", "L2ID": "school", "D": "Normal", "x": "cons,standlrt"}


def test_a_short_run_warns_naming_the_worst_parameter():
    with pytest.warns(ConvergenceWarning, match=r"2LevelMod: .* has R-hat .* bulk ESS .*raise "
                                                r"estoptions 'burnin' and 'iterations'") as rec:
        res = RunStatJR("2LevelMod", "tutorial", RI,
                        {"burnin": 0, "iterations": 30, "nchains": 2, "diagnostics": False})
    table = res["ModelResults"]
    worst = table.loc[table["rhat"].idxmax(), "term"]
    assert f": {worst} has R-hat" in str(rec[0].message)
    assert res.warnings and "R-hat" in res.warnings[0]


def test_a_long_enough_run_does_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        res = RunStatJR("2LevelMod", "tutorial", RI,
                        {"burnin": 500, "iterations": 3000, "nchains": 2, "diagnostics": False})
    assert (res["ModelResults"]["rhat"] <= 1.05).all()
    assert res.warnings == []


def test_thresholds_are_estoptions():
    opts = {"burnin": 0, "iterations": 30, "nchains": 2, "diagnostics": False}
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        RunStatJR("2LevelMod", "tutorial", RI, {**opts, "rhat_max": 100, "ess_min": 0})
        RunStatJR("2LevelMod", "tutorial", RI, {**opts, "check_convergence": False})


def test_an_unconverged_imputation_model_warns(tutmiss):
    # 100 iterations: short for this model, long enough to estimate a lag-1
    # autocorrelation (max 0.68-0.81 over seeds 1-3 on 2026-11-30; 0.45-0.66 at 20)
    inv = {**WORKED_IMPUTATION, "numimpute": "2", "impute1st": "100", "imputeevery": "1"}
    with pytest.warns(ConvergenceWarning, match="ImputeModel: .*raise impute1st"):
        res = RunStatJR("ImputeModel", tutmiss, inv, {"diagnostics": False, "processes": 2})
    table = res["ModelResults"]
    assert {"ess_bulk", "ess_tail", "rhat", "mcse", "acf_imputeevery"} <= set(table.columns)
    # with imputeevery 1 successive datasets are nearly the same draw
    assert table["acf_imputeevery"].max() > 0.5


def test_the_cli_prints_each_warning_as_one_line(capsys):
    code = main(["run", "2LevelMod", "--dataset", "tutorial", "--no-input", "--invars",
                 str(RI), "--estoptions",
                 "{'burnin': 0, 'iterations': 30, 'nchains': 2, 'diagnostics': False}"])
    assert code == 0
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if "warning" in ln]
    assert lines and all(ln.startswith("statjr: convergence warning: 2LevelMod:") for ln in lines)


def test_data_warnings_are_warnings(tutmiss):
    with pytest.warns(DataWarning, match="left out"):
        res = RunStatJR("1LevelMod", tutmiss, {"y": "normexam", "D": "Normal",
                                               "x": "cons,standlrtmiss"},
                        {"burnin": 50, "iterations": 500, "nchains": 2, "diagnostics": False})
    assert any("left out" in w for w in res.warnings)


@pytest.mark.parametrize("iterations,nchains", [(1, 3), (6, 1)])
def test_a_smoke_test_run_warns_it_is_too_short_and_saves_every_output(iterations, nchains,
                                                                        tmp_path):
    # A few iterations per chain is a legitimate smoke test: the ESS cannot be
    # estimated (NaN), which is itself a ConvergenceWarning, and every output --
    # the six-panel plots included -- is still written.  Saving such a run used to
    # stop in the MCSE curve with "cannot reshape array".
    with pytest.warns(ConvergenceWarning, match=r"bulk ESS nan \(too few draws"):
        res = RunStatJR("2LevelMod", "tutorial", RI,
                        {"burnin": 5, "iterations": iterations, "nchains": nchains, "seed": 1})
    assert res["ModelResults"]["ess_bulk"].isna().all()
    paths = res.save(tmp_path / "o")
    assert len(paths) == len(list(res)) and all(p.stat().st_size for p in paths)
    svgs = [p for p in paths if p.suffix == ".svg"]
    assert svgs and all("too few draws" in p.read_text() for p in svgs)
