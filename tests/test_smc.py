"""Substantive-model-compatible imputation (2LevelImpute's smc).

Known parameters: a random slope on x, which is 30% missing at random on the
outcome and an auxiliary (bench/coverage.py's mar_x_slope scenario, 150
schools).  The joint model alone cannot carry the random slope into the
imputations (docs/validation.md); with smc the model of interest fitted
inside the sampler must recover every parameter: |posterior mean - truth| <
3.8 sqrt(sd^2 + MCSE^2), a family-wise 1% over its 8 parameters.  The same
for a level-2 Unordered covariate missing for whole schools.
"""
import sys
from pathlib import Path

import numpy as np
import pytest

from statjr_py import InputError, RunStatJR

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import coverage as cov  # noqa: E402

Z = 3.8


@pytest.fixture(scope="module")
def slope_data():
    frame, truth, xs = cov.simulate(7, "mar_x_slope", J=150, nj=20)
    return frame, truth, xs


def run_and_check(scenario, frame, truth, xs, seed):
    """Run 2LevelImpute with smc; every MOI parameter of the sampler within Z of the truth."""
    inv = cov.invars(scenario, xs, m=2, first=3000, every=10, burnin=100, iters=500, smc=True)
    res = RunStatJR("2LevelImpute", frame, inv, {"diagnostics": False, "processes": 2, "seed": seed})
    post = res["Imputation_Model_ModelResults"].set_index("term")
    for term, value in truth.items():
        row = post.loc[f"MOI:{term}"]
        assert abs(row["mean"] - value) < Z * np.hypot(row["sd"], row["mcse"]), (term, row["mean"], value)
    return res


def test_smc_recovers_random_slope_model(slope_data):
    frame, truth, xs = slope_data
    res = run_and_check("mar_x_slope", frame, truth, xs, seed=4)
    # the imputed datasets are complete and keep every observed value
    for name in res["Imputation_Model_ImputedDatasets"]["dataset"]:
        data = res[f"Imputation_Model_{name}"]
        assert data["x"].notna().all()
        obs = frame["x"].notna()
        assert (data.loc[obs, "x"].to_numpy() == frame.loc[obs, "x"].to_numpy()).all()


def test_smc_imputes_a_missing_outcome(slope_data):
    frame, truth, xs = slope_data
    frame = frame.copy()
    frame.loc[frame.index[::10], "y"] = np.nan
    inv = cov.invars("mar_x_slope", xs, m=2, first=50, every=10, burnin=20, iters=100, smc=True)
    res = RunStatJR("2LevelImpute", frame, inv, {"diagnostics": False})
    data = res["Imputation_Model_impute_datafile_chain0_iter50"]
    assert data["y"].notna().all()
    assert res["ResultsTable:CompleteCases"]["n"].iloc[0] < len(frame)


@pytest.mark.parametrize("change, pattern", [
    ({"MOIlevel": "1 level"}, "needs a two-level Normal model of interest"),
    ({"condmarg": "No"}, "compatible imputation \\(smc\\) uses the conditional algorithm"),
])
def test_smc_input_checks(slope_data, change, pattern):
    frame, truth, xs = slope_data
    inv = {**cov.invars("mar_x_slope", xs, m=2, first=20, every=10, burnin=10, iters=20, smc=True), **change}
    if change.get("MOIlevel") == "1 level":
        inv.pop("MOIslope"), inv.pop("z")
    with pytest.raises(InputError, match=pattern):
        RunStatJR("2LevelImpute", frame, inv, {"diagnostics": False})


def test_smc_recovers_level2_unordered_effects():
    """A level-2 Unordered covariate missing for whole schools (mar_wc, 300
    schools): the model of interest fitted inside the sampler recovers its
    category effects and the other parameters.  The finite-sample bias seen
    with 50 schools (docs/validation.md) is about 0.04 x 50/300 here, under a
    tenth of a posterior sd."""
    frame, truth, xs = cov.simulate(11, "mar_wc", J=300, nj=20)
    res = run_and_check("mar_wc", frame, truth, xs, seed=5)
    school = frame.groupby("school")["wc"].first()
    for name in res["Imputation_Model_ImputedDatasets"]["dataset"]:
        imputed = res[f"Imputation_Model_{name}"].groupby("school")["wc"]
        assert (imputed.nunique() == 1).all()  # one category per school
        assert set(imputed.first()) <= {0.0, 1.0, 2.0}
        seen = school.notna()
        assert (imputed.first()[seen] == school[seen]).all()
