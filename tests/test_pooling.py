"""Rubin's rules against a hand calculation and against mitml."""
import json
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from statjr_py.pooling import rubin

QHAT = np.array([[1.00, 0.50, -2.0], [1.10, 0.42, -1.7], [0.95, 0.55, -2.3], [1.05, 0.47, -1.9]])
UHAT = np.array([[0.010, 0.004, 0.09], [0.012, 0.005, 0.08], [0.011, 0.004, 0.10], [0.009, 0.006, 0.07]])
DFC = [100, 50, 20]

# mitml 0.4.4 testEstimates(qhat = t(QHAT), uhat = t(UHAT), df.com = DFC), R 4.2.2,
# 2026-11-25: bench/references/rubin_mitml.R
MITML = {
    "estimate": [1.025, 0.485, -1.975],
    "se": [0.1253328900701, 0.0919691977421, 0.4038873605351],
    "df": [19.26720097078, 9.89291628695, 5.50807513918],
    "p": [1.08914151475e-07, 3.74121271243e-04, 3.46951667911e-03],
    "riv": [0.496031746032, 0.780701754386, 0.919117647059],
    "fmi": [0.391602619140, 0.525537583266, 0.601416200497],
}


def test_matches_mitml():
    res = rubin(QHAT, UHAT, DFC, terms=["a", "b", "c"])
    for col, ref in MITML.items():
        np.testing.assert_allclose(res[col], ref, rtol=1e-9, err_msg=col)


def test_hand_calculation_first_parameter():
    q, u, m, nu = QHAT[:, 0], UHAT[:, 0], 4, 100.0
    qbar, ubar, b = q.mean(), u.mean(), q.var(ddof=1)  # 1.025, 0.0105, 0.00416667
    assert b == pytest.approx(((1 - 1.025) ** 2 + (1.1 - 1.025) ** 2 + (0.95 - 1.025) ** 2
                               + (1.05 - 1.025) ** 2) / 3)
    t = ubar + (1 + 1 / m) * b
    lam = (1 + 1 / m) * b / t
    df = 1 / (1 / ((m - 1) / lam ** 2) + 1 / ((nu + 1) / (nu + 3) * nu * (1 - lam)))
    res = rubin(QHAT, UHAT, DFC).iloc[0]
    assert res["estimate"] == pytest.approx(qbar)
    assert res["se"] == pytest.approx(np.sqrt(t))
    assert res["df"] == pytest.approx(df)
    half = stats.t.ppf(0.975, df) * np.sqrt(t)
    assert res["ci_lower"] == pytest.approx(qbar - half) and res["ci_upper"] == pytest.approx(qbar + half)


def test_identical_imputations_give_complete_data_answer():
    q = np.tile([[2.0, 3.0]], (5, 1))
    u = np.tile([[0.25, 1.0]], (5, 1))
    res = rubin(q, u, [30, 40], test=[True, False])
    np.testing.assert_allclose(res["se"], [0.5, 1.0])
    nu = np.array([30.0, 40.0])
    np.testing.assert_allclose(res["df"], (nu + 1) / (nu + 3) * nu)
    assert (res["fmi"] == 0).all() and (res["riv"] == 0).all()
    assert np.isnan(res["p"].iloc[1])


def test_needs_two_imputations():
    with pytest.raises(ValueError):
        rubin(QHAT[:1], UHAT[:1], 10)


MITML_TESTS = json.loads((Path(__file__).parent / "references" / "mitml_pooling.json").read_text())


@pytest.mark.parametrize("name", sorted(MITML_TESTS["cases"]))
def test_d1_d2_agree_with_mitml(name):
    """mitml 0.4.4 testConstraints on the same estimates and covariances
    (bench/references/mitml_pooling.py; R and mitml versions and date in the JSON)."""
    from statjr_py.pooling import d1, d2
    case = MITML_TESTS["cases"][name]
    got = {"D1": d1(case["estimates"], case["covariances"], case["df_complete"]),
           "D2": d2(case["estimates"], case["covariances"])}
    for method, ref in ((m, case[m]) for m in ("D1", "D2")):
        for key, value in ref.items():
            if np.isfinite(value):
                assert got[method][key] == pytest.approx(value, rel=1e-6, abs=1e-9), (method, key)
            else:  # mitml gives NaN for Reiter's df when k(m-1) <= 4; we fall back to Li et al.
                assert method == "D1" and np.isfinite(got[method][key])


def test_d1_is_the_wald_test_when_imputations_agree():
    """With B = 0, D1 is the complete-data Wald statistic / k (closed form)."""
    from statjr_py.pooling import d1
    q = np.array([0.3, -0.2])
    u = np.array([[0.01, 0.002], [0.002, 0.02]])
    res = d1([q, q, q], [u, u, u])
    assert res["riv"] == pytest.approx(0, abs=1e-12)
    assert res["F"] == pytest.approx(q @ np.linalg.solve(u, q) / 2)


def test_distribution_functions_equal_scipy_stats():
    """pooling takes its t and F tails from scipy.special (cheaper to import);
    they must be scipy.stats' values, with F(k, inf) as chi-square(k)/k (R's pf)."""
    from scipy import stats

    from statjr_py.pooling import _f_sf, _t_quantile, _t_sf

    for df in (1.5, 3.0, 45.37, 1e4, np.inf):
        assert _t_quantile(0.975, df) == pytest.approx(stats.t.ppf(0.975, df), rel=1e-12)
        for x in (0.0, 0.7, 2.1, 9.0):
            assert _t_sf(x, df) == pytest.approx(stats.t.sf(x, df), rel=1e-10, abs=1e-300)
    for k in (1, 2, 5):
        for v in (2.5, 45.37, 494.6):
            for f in (0.0, 0.3, 2.29, 40.0):
                assert _f_sf(f, k, v) == pytest.approx(stats.f.sf(f, k, v), rel=1e-10, abs=1e-300)
        assert _f_sf(2.29, k, np.inf) == pytest.approx(stats.chi2.sf(2.29 * k, k), rel=1e-12)
        assert _f_sf(-0.4, k, 30.0) == 1.0
