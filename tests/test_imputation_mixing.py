"""ImputeModel's covariance constraints and the mixing of its random-effect variances.

Masks: which elements of Omega_e and Omega_u are free is decided once, in
Python (ImputeModel's ``covariance_masks``), and handed to the C++ sampler as
data; the sampler must follow them, not a rule of its own.

Mixing: step 6 of the sweep (docs/imputation.md) must make the worked
example's girlmiss random-effect variance mix an order of magnitude faster
and leave the posterior as it was: checked here against the exact posterior
of a small probit model, and on richer models by tests/test_impute_simulation.py
(recovery of known parameters) and bench/imputation_mixing.py (the old
sampler's long runs).
"""
import numpy as np
import pytest

from statjr_py import build
from statjr_py.codegen import sampler_source
from statjr_py.engine import prepare
from statjr_py.examples import WORKED_IMPUTATION
from statjr_py.run import Sampler

SHORT = {**WORKED_IMPUTATION, "numimpute": "2", "impute1st": "20", "imputeevery": "5"}


@pytest.fixture(scope="module")
def worked(tutmiss):
    """The worked example's spec and compiled sampler."""
    job = prepare("ImputeModel", tutmiss, SHORT, {"processes": 1})
    spec = job.template.model(job.data, job.answers)
    module = build.build(sampler_source(job.template.cpp_file(), spec.context, spec.arrays,
                                        "ImputeModel"))
    return spec, module


def test_masks_state_the_constraints(worked):
    spec, _ = worked
    a = spec.arrays
    free_e, value_e = a["Oe_free"].reshape(3, 3), a["Oe_value"].reshape(3, 3)
    free_u, value_u = a["Ou_free"].reshape(5, 5), a["Ou_value"].reshape(5, 5)
    assert a["Oe_free"].dtype == np.int32 and a["Oe_value"].dtype == np.float64
    # girlmiss (Binary, coordinate 2) has unit level-1 variance; nothing else is fixed
    assert free_e.tolist() == [[1, 1, 1], [1, 1, 1], [1, 1, 0]] and value_e[2, 2] == 1.0
    # schgendmiss (Unordered, 3 categories): coordinates 3 and 4, unit variances, correlation 1/2
    expect = np.ones((5, 5), dtype=np.int32)
    expect[3:, 3:] = 0
    assert (free_u == expect).all()
    assert value_u[3, 3] == value_u[4, 4] == 1.0 and value_u[3, 4] == value_u[4, 3] == 0.5
    # the recorded names are the free elements of the upper triangles
    names = [p for p in spec.names if p.startswith(("omega_e(", "omega_u("))]
    assert len(names) == np.triu(free_e).sum() + np.triu(free_u).sum() == 5 + 12


def test_sampler_follows_the_masks(worked):
    """A sampler given other masks records other parameters or refuses them."""
    spec, module = worked
    Sampler(module, spec.arrays, 1).close()
    held, at = spec.arrays["Oe_free"].copy(), spec.arrays["Oe_value"].copy()
    held[0], at[0] = 0, 1.0  # normexam's variance held too: one parameter fewer than the names
    with pytest.raises(Exception, match="parameter count mismatch"):
        Sampler(module, dict(spec.arrays, Oe_free=held, Oe_value=at), 1)
    lopsided = spec.arrays["Ou_free"].copy()
    lopsided[0 * 5 + 3] = 0  # (0, 3) held but not (3, 0)
    with pytest.raises(Exception, match="not symmetric"):
        Sampler(module, dict(spec.arrays, Ou_free=lopsided), 1)
    loose = spec.arrays["Ou_free"].copy()
    loose[[0 * 5 + 1, 1 * 5 + 0]] = 0  # a covariance held between two free variances
    with pytest.raises(Exception, match="join two fixed variances"):
        Sampler(module, dict(spec.arrays, Ou_free=loose), 1)


# ------------------------------------------------------------------------
# Step 6 of the sweep (cpp/statjr/impute_level2.cpp): moves on each
# categorical coordinate's random-effect column.

def test_girlmiss_variance_mixes(tutmiss):
    """The worked example's slowest parameters mix an order of magnitude faster.

    On its first 20 pupils per school (1270 rows, the single-sex schools
    kept), 3 chains of 3000 iterations after 3000 of adaptation, bulk ESS
    per 1000 iterations measured on 2026-11-30 with seeds 1-5:
    omega_u(girlmiss,girlmiss) 1.1-2.9 without step 6 and 14.5-32 with it
    (seed 1: 32); beta(girlmiss,cons) 1.6-3.6 and 141-272 (seed 1: 272).
    The thresholds sit well above the old sampler's largest value and
    below the new one's smallest.
    """
    from statjr_py import RunStatJR

    part = tutmiss.groupby("school", group_keys=False).head(20)
    res = RunStatJR("ImputeModel", part, {**WORKED_IMPUTATION, "numimpute": "3", "impute1st": "6000",
                                          "imputeevery": "1"},
                    {"nchains": 3, "seed": 1, "diagnostics": False, "check_convergence": False})
    table = res["ModelResults"].set_index("term")
    per_1000 = table["ess_bulk"] / 9.0  # 3 chains x 3000 kept iterations
    assert per_1000["omega_u(girlmiss,girlmiss)"] > 8, per_1000["omega_u(girlmiss,girlmiss)"]
    assert per_1000["beta(girlmiss,cons)"] > 40, per_1000["beta(girlmiss,cons)"]


#: Units of a one-response probit random-intercept model: (zeros, ones,
#: missing).  Four units are all 0 or all 1, whose random effects only the
#: prior holds (as girlmiss in single-sex schools); eight are mixed, so the
#: posterior of the variance has tails like sigma^-7 and every moment used
#: below exists.
UNITS = [(5, 0, 1), (4, 0, 0), (0, 5, 0), (0, 4, 1), (3, 2, 0), (2, 3, 0), (4, 2, 1), (2, 4, 0),
         (3, 3, 0), (5, 1, 0), (1, 4, 0), (4, 1, 1)]


def _exact_posterior(step=0.04, half_width=160.0):
    """The posterior of (beta, sigma^2) on a grid, by quadrature.

    With z integrated out, y_ij = 1 with probability Phi(beta + u_j), u_j ~
    N(0, sigma^2), and flat priors on beta and sigma^2 (as ImputeModel's):
    p(beta, sigma^2 | y) is proportional to prod_j int prod_i
    Phi(+-(beta + u)) phi(u; sigma^2) du, each integral a convolution in
    beta, computed by FFT on a fine grid.  Missing values drop out.
    """
    from scipy import signal, stats

    t = np.arange(-half_width, half_width + step / 2, step)
    up, down = stats.norm.logcdf(t), stats.norm.logcdf(-t)
    s2 = np.exp(np.linspace(np.log(1e-3), np.log(600.0), 400))
    inner = np.abs(t) <= 12
    logp = np.zeros((len(s2), inner.sum()))
    for k, v in enumerate(s2):
        phi = stats.norm.pdf(t, scale=np.sqrt(v)) * step
        for zeros, ones, _ in UNITS:
            conv = signal.fftconvolve(np.exp(ones * up + zeros * down), phi, mode="same")
            logp[k] += np.log(np.maximum(conv[inner], 1e-300))
    logp += np.log(s2)[:, None]  # flat in sigma^2, on a grid even in log sigma^2
    w = np.exp(logp - logp.max())
    return t[inner], s2, w / w.sum()


def test_posterior_of_a_probit_random_intercept_is_exact():
    """With step 6 on, the sampler's posterior is the exact one.

    A known-posterior check of the three moves (per unit, scale, shift) and
    of the acceptance ratio's Jacobian: the posterior mean of beta and of
    log sigma^2, and the posterior probabilities below the exact quartiles
    of sigma^2, each within 4 Monte Carlo standard errors (a wrong power of g
    in the scale move, g^(Q+1) here g^2, moves log sigma^2 by tens of MCSEs).
    """
    import pandas as pd

    from statjr_py import RunStatJR
    from statjr_py.diagnostics import ess_bulk

    rows = []
    for j, (zeros, ones, missing) in enumerate(UNITS):
        rows += [(j + 1, 0.0)] * zeros + [(j + 1, 1.0)] * ones + [(j + 1, np.nan)] * missing
    frame = pd.DataFrame(rows, columns=["unit", "y"]).assign(cons=1.0)
    first = 40000
    res = RunStatJR("ImputeModel", frame,
                    {"numlevs": "Yes", "L2ID": "unit", "yimp1": "y", "bin1_1": "Binary", "ximp1_0": "cons",
                     "want2": "No", "condmarg": "Yes", "numimpute": "4", "impute1st": str(first),
                     "imputeevery": "1"},
                    {"nchains": 4, "seed": 3, "diagnostics": False, "check_convergence": False})
    out = res["out"]
    out = out[out["iteration"] > first // 2]
    chains = {k: np.stack([g[k].to_numpy() for _, g in out.groupby("chain")])
              for k in ("beta(y,cons)", "omega_u(y,y)")}
    beta_grid, s2, w = _exact_posterior()
    marginal = w.sum(axis=1)
    cdf = np.cumsum(marginal)
    checks = [("beta", chains["beta(y,cons)"], float(w.sum(axis=0) @ beta_grid)),
              ("log sigma2", np.log(chains["omega_u(y,y)"]), float(marginal @ np.log(s2)))]
    for p in (0.25, 0.5, 0.75):
        k = int(np.searchsorted(cdf, p))
        checks.append((f"P(sigma2 < {s2[k]:.3g})", (chains["omega_u(y,y)"] < s2[k]).astype(float),
                       float(cdf[k] - marginal[k] / 2)))  # the mass below the cell's centre
    for name, x, exact in checks:
        mcse = x.std() / np.sqrt(ess_bulk(x))
        assert abs(x.mean() - exact) < 4 * mcse, (name, x.mean(), exact, mcse)
