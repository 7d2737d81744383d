"""1LevelMod against closed-form OLS: the engine's end-to-end proof.

With a flat prior on beta and a vague Gamma prior on the precision, the
marginal posterior of beta is a multivariate t centred exactly on the OLS
estimate, with scale s^2 (X'X)^-1 (n-k)/(n-k-2).  So the posterior mean must
match OLS within Monte Carlo error, and the posterior sd the OLS standard
error within a few per cent.  The OLS reference is computed here in closed
form with numpy (independent of the sampler).  For the record, statsmodels
0.15.0 OLS ``normexam ~ standlrt`` on tutorial gives intercept -0.001191
(se 0.012642) and standlrt 0.595057 (se 0.012730), residual variance
0.648739 (python -c "import statsmodels.formula.api as smf, pandas as pd;
print(smf.ols('normexam ~ standlrt', pd.read_csv('tutorial.csv')).fit().summary())",
pandas 3.1.1, 2026-11-25).
"""
import numpy as np
import pytest

from statjr_py import RunStatJR

INVARS = {"y": "normexam", "D": "Normal", "x": "cons,standlrt"}
K_MCSE = 4  # |posterior mean - reference| < 4 MCSE fails by chance with p < 1e-4


def ols(frame, y, xs):
    X = np.column_stack([np.ones(len(frame)) if x == "cons" else frame[x].to_numpy(float) for x in xs])
    yv = frame[y].to_numpy(float)
    beta, *_ = np.linalg.lstsq(X, yv, rcond=None)
    resid = yv - X @ beta
    n, k = X.shape
    s2 = resid @ resid / (n - k)
    se = np.sqrt(np.diag(s2 * np.linalg.inv(X.T @ X)))
    return beta, se, s2


@pytest.fixture(scope="module")
def fit():
    return RunStatJR("1LevelMod", "tutorial", INVARS,
                     {"burnin": 200, "iterations": 4000, "nchains": 2, "seed": 11})


def test_means_match_ols_within_mc_error(fit, tutorial):
    beta, se, s2 = ols(tutorial, "normexam", ["cons", "standlrt"])
    table = fit["ModelResults"].set_index("term")
    for term, b in zip(["cons", "standlrt"], beta):
        assert abs(table.loc[term, "mean"] - b) < K_MCSE * table.loc[term, "mcse"], term
    # sigma2_e: posterior mean of the variance is RSS/(n-k-2) ~ s2 (n-k)/(n-k-2)
    n = len(tutorial)
    expected = s2 * (n - 2) / (n - 4)
    assert abs(table.loc["sigma2_e", "mean"] - expected) < K_MCSE * table.loc["sigma2_e", "mcse"]


def test_sds_match_ols_standard_errors(fit, tutorial):
    _, se, _ = ols(tutorial, "normexam", ["cons", "standlrt"])
    table = fit["ModelResults"].set_index("term")
    for term, s in zip(["cons", "standlrt"], se):
        # relative Monte Carlo error of a posterior sd: ~ 1/sqrt(2 ESS)
        rel = 1 / np.sqrt(2 * table.loc[term, "ess_bulk"])
        assert abs(table.loc[term, "sd"] / s - 1) < K_MCSE * rel, term


def test_model_results_columns(fit):
    table = fit["ModelResults"]
    assert list(table["term"]) == ["cons", "standlrt", "sigma2_e"]
    for col in ["term", "kind", "mean", "sd", "ess_bulk", "ess_tail", "mcse", "2.5%", "97.5%", "rhat"]:
        assert col in table.columns
    assert (table["rhat"] < 1.05).all()


def test_categorical_dummies_named_by_code(tutorial):
    res = RunStatJR("1LevelMod", "tutorial",
                    {"y": "normexam", "D": "Normal", "x": "cons,vrband.cat"},
                    {"burnin": 100, "iterations": 500, "nchains": 1})
    assert list(res["ModelResults"]["term"]) == ["cons", "vrband_1", "vrband_2", "sigma2_e"]


def test_fixed_seed_reproduces_exactly():
    opts = {"burnin": 50, "iterations": 300, "nchains": 2, "seed": 5}
    a = RunStatJR("1LevelMod", "tutorial", INVARS, opts)["out"]
    b = RunStatJR("1LevelMod", "tutorial", INVARS, opts)["out"]
    c = RunStatJR("1LevelMod", "tutorial", INVARS, {**opts, "seed": 6})["out"]
    assert a.equals(b)
    assert not a.equals(c)


def test_every_run_returns_its_sources(fit):
    for name in ["script.py", "Inputs", "1LevelMod.cpp", "equation.tex", "algorithm.tex", "out"]:
        assert name in fit
    assert "RunStatJR(template='1LevelMod'" in fit["script.py"]
    assert "struct Model" in fit["1LevelMod.cpp"]
    assert r"\text{standlrt}" in fit["equation.tex"]
    assert fit["Inputs"] == "{'y': 'normexam', 'D': 'Normal', 'x': 'cons,standlrt'}"


def test_dic_closed_form(fit, tutorial):
    # D(thetabar) is the Normal deviance at the posterior means: recompute it.
    t = fit["ModelResults"].set_index("term")["mean"]
    y = tutorial["normexam"].to_numpy(float)
    mu = t["cons"] + t["standlrt"] * tutorial["standlrt"].to_numpy(float)
    dev = len(y) * np.log(2 * np.pi * t["sigma2_e"]) + ((y - mu) ** 2).sum() / t["sigma2_e"]
    mf = fit["ModelFit"].iloc[0]
    assert mf["D(thetabar)"] == pytest.approx(dev, rel=1e-9)
    assert 2.0 < mf["pD"] < 4.0  # three parameters
