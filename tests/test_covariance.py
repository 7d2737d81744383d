"""cpp/statjr/covariance.hpp against draws made here with numpy/scipy.

Prior: flat on the free elements.  Case 0, nothing fixed: the conjugate
inverse-Wishart draw IW(N - q - 1, S).  Case 1, a 2x2
block fixed entirely (unit variances, covariance 1/2, as for an Unordered
variable): the exact split, compared with numpy draws from the same
conditional.  Case 2, the block's variances fixed but its covariance free:
Metropolis on it, then the split; checked through the fixed-block marginal.
Tolerance: 5 Monte Carlo standard errors of the difference of two means
(the C++ chain's from its ESS, numpy's from independent draws).
"""
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import invwishart

from statjr_py import RunStatJR, registry
from statjr_py.diagnostics import ess

HERE = Path(__file__).resolve().parent


@pytest.fixture
def harness(monkeypatch):
    monkeypatch.setenv("STATJR_TEMPLATES", str(HERE / "templates"))
    registry.clear_cache()
    yield registry.get_template("CovarianceCheck").__class__
    registry.clear_cache()


def cxx_draws(case, n=20000):
    res = RunStatJR("CovarianceCheck", "tutorial", {"case": case},
                    {"burnin": 500, "iterations": n, "nchains": 1, "seed": 8, "diagnostics": False})
    out = res["out"].drop(columns=["chain", "iteration"])
    return out.to_numpy()


def compare(cxx, ref, q):
    k = 0
    for a in range(q):
        for b in range(a, q):
            x, y = cxx[:, k], ref[:, k]
            k += 1
            if np.ptp(x) == 0 and np.ptp(y) == 0:
                assert x[0] == y[0]
                continue
            se = np.sqrt(x.var() / ess(x) + y.var() / len(y))
            assert abs(x.mean() - y.mean()) < 5 * se, (a, b, x.mean(), y.mean())


def upper(mats):
    q = mats.shape[-1]
    return np.stack([mats[:, a, b] for a in range(q) for b in range(a, q)], axis=1)


def test_unconstrained_is_inverse_wishart(harness):
    case = harness_cases()[0]
    q = 4
    ref = invwishart.rvs(df=case["nobs"] - q - 1, scale=case["s"],
                         size=20000, random_state=np.random.default_rng(1))
    compare(cxx_draws(0), upper(ref), q)


def test_fixed_block_split_matches_conditional(harness):
    case = harness_cases()[1]
    q, rng = 4, np.random.default_rng(2)
    nu = case["nobs"] - 2 - 2 - 1  # N - k - m - 1 under the flat prior (covariance.hpp)
    A = case["s"]
    U, C = slice(0, 2), slice(2, 4)
    occ = case["start"][C, C]
    auc = A[U, U] - A[U, C] @ np.linalg.solve(A[C, C], A[C, U])
    m = np.linalg.solve(A[C, C], A[C, U])
    lc = np.linalg.cholesky(np.linalg.inv(A[C, C]))
    draws = []
    for _ in range(20000):
        ouu_c = invwishart.rvs(df=nu, scale=auc, random_state=rng)
        x = m + lc @ rng.normal(size=(2, 2)) @ np.linalg.cholesky(ouu_c).T
        o = np.empty((q, q))
        o[C, C] = occ
        o[C, U] = occ @ x
        o[U, C] = o[C, U].T
        o[U, U] = ouu_c + x.T @ occ @ x
        draws.append(o)
    cxx = cxx_draws(1)
    compare(cxx, upper(np.array(draws)), q)
    # columns: (0,0) (0,1) (0,2) (0,3) (1,1) (1,2) (1,3) (2,2) (2,3) (3,3)
    assert np.all(cxx[:, 7] == 1.0) and np.all(cxx[:, 9] == 1.0)
    assert np.all(cxx[:, 8] == 0.5)


def test_fixed_variances_free_covariance_marginal(harness):
    # The fixed block's free covariance follows its IW(nu - |U|, A_CC) marginal
    # restricted to unit variances: a density in rho we can integrate on a grid.
    case = harness_cases()[2]
    A = case["s"][2:, 2:]
    rho = np.linspace(-0.999, 0.999, 4001)
    det = 1 - rho ** 2
    tr = (A[0, 0] + A[1, 1] - 2 * rho * A[0, 1]) / det
    logd = -0.5 * case["nobs"] * np.log(det) - 0.5 * tr  # flat prior: |C|^(-N/2)
    w = np.exp(logd - logd.max())
    mean = np.sum(w * rho) / np.sum(w)
    sd = np.sqrt(np.sum(w * (rho - mean) ** 2) / np.sum(w))
    cxx = cxx_draws(2)[:, 8]  # element (2,3)
    assert abs(cxx.mean() - mean) < 5 * cxx.std() / np.sqrt(ess(cxx))
    assert abs(cxx.std() / sd - 1) < 5 / np.sqrt(2 * ess(cxx))  # relative MCSE of an sd


def harness_cases():
    import sys
    return sys.modules[registry.get_template("CovarianceCheck").__class__.__module__].CASES
