"""Numerical accuracy of the Normal samplers' sufficient statistics.

A residual sum of squares expanded from raw cross-products (y'y - 2b'X'y +
b'X'Xb) cancels catastrophically when the response is far from zero: with y
near 1e7 the old 1LevelMod gave sigma2_e = 0.53 for a true 1 and, near 1e8,
31.6, without any error.  The kernels now form their cross-products from a
centred design and the residuals of a reference fit (cpp/statjr/centring.hpp).

Checks, on y = shift + x + N(0, 1) (and a two-level version with u_j ~
N(0, 0.25)), for shift = 1e7 and 1e8:

* the same seed on the shifted and the unshifted data gives the same draws,
  the intercept moved by the shift, to 1e-6.  y's own rounding at 1e8 is
  1.5e-8, and the chains agreed to about 1e-8 when this was written (the
  Gibbs steps are smooth in the data, so a perturbation does not grow); the
  old code was off by 0.5 to 30.
* 1LevelMod against statsmodels OLS on the same data: the posterior mean of
  sigma2_e is (b0 + RSS/2) / (a0 + (n - K)/2 - 1) exactly (tau is
  Gamma(a0 + (n - K)/2, b0 + RSS/2) with beta integrated out), so only Monte
  Carlo error is allowed: 4 MCSE.  Coefficients within 4 MCSE + 0.05 SE of OLS
  (their posterior mean is the OLS estimate; the 0.05 SE covers the MCSE's
  own error).
* every parameter within 4 sqrt(sd^2 + MCSE^2) of its true value: the
  data's sampling error sits inside the posterior sd.
"""
import numpy as np
import pandas as pd
import pytest

from statjr_py import RunStatJR

OPTS = {"burnin": 200, "iterations": 2000, "nchains": 2, "seed": 11, "diagnostics": False}
SHIFTS = [1e7, 1e8]
MODELS = {
    "1LevelMod": {"y": "y1", "D": "Normal", "x": "cons,x"},
    "2LevelMod": {"y": "y2", "L2ID": "school", "D": "Normal", "x": "cons,x"},
    "2LevelRS": {"y": "y2", "L2ID": "school", "x": "cons,x", "z": "cons,x"},
}
TRUTH = {"x": 1.0, "sigma2_e": 1.0, "sigma2_u": 0.25, "omega_u(cons,cons)": 0.25}


@pytest.fixture(scope="module")
def sim():
    rng = np.random.default_rng(20261130)
    J, nj = 50, 20
    school = np.repeat(np.arange(J), nj)
    x = rng.normal(size=J * nj)
    u = rng.normal(0.0, 0.5, J)[school]
    e = rng.normal(size=J * nj)
    return pd.DataFrame({"school": school, "cons": 1.0, "x": x, "y1": x + e, "y2": x + u + e})


@pytest.fixture(scope="module")
def unshifted(sim):
    return {name: RunStatJR(name, sim, invars, OPTS) for name, invars in MODELS.items()}


def shifted(frame, shift):
    return frame.assign(y1=frame["y1"] + shift, y2=frame["y2"] + shift)


@pytest.mark.parametrize("shift", SHIFTS)
@pytest.mark.parametrize("name", list(MODELS))
def test_same_draws_far_from_zero(sim, unshifted, name, shift):
    far = RunStatJR(name, shifted(sim, shift), MODELS[name], OPTS)["out"]
    near = unshifted[name]["out"]
    for col in near.columns:
        if col in ("chain", "iteration", "deviance"):
            continue
        moved = far[col] - (shift if col == "cons" else 0.0)
        assert np.max(np.abs(moved - near[col])) < 1e-6, col


@pytest.mark.parametrize("shift", SHIFTS)
def test_one_level_against_ols(sim, shift):
    import statsmodels.api as sm

    frame = shifted(sim, shift)
    table = RunStatJR("1LevelMod", frame, MODELS["1LevelMod"], OPTS)["ModelResults"].set_index("term")
    ols = sm.OLS(sim["y1"], sim[["cons", "x"]]).fit()  # the same model, unshifted
    n, k = len(sim), 2
    expected = (0.001 + ols.ssr / 2) / (0.001 + (n - k) / 2 - 1)
    row = table.loc["sigma2_e"]
    assert abs(row["mean"] - expected) < 4 * row["mcse"], (row["mean"], expected)
    for term, est in ols.params.items():
        row = table.loc[term]
        target = est + (shift if term == "cons" else 0.0)
        assert abs(row["mean"] - target) < 4 * row["mcse"] + 0.05 * ols.bse[term], (term, row["mean"])
    for term, value in TRUTH.items():
        if term in table.index:
            row = table.loc[term]
            assert abs(row["mean"] - value) < 4 * np.hypot(row["sd"], row["mcse"]), term


@pytest.mark.parametrize("shift", SHIFTS)
@pytest.mark.parametrize("name", ["2LevelMod", "2LevelRS"])
def test_two_level_recovers_the_truth(sim, name, shift):
    table = RunStatJR(name, shifted(sim, shift), MODELS[name], OPTS)["ModelResults"].set_index("term")
    row = table.loc["cons"]
    assert abs(row["mean"] - shift) < 4 * np.hypot(row["sd"], row["mcse"])
    for term, value in TRUTH.items():
        if term in table.index:
            row = table.loc[term]
            assert abs(row["mean"] - value) < 4 * np.hypot(row["sd"], row["mcse"]), (term, row["mean"])


# ------------------------------------------------------------------------
# The imputation sampler's steps share no scratch (cpp/statjr/impute.hpp).
#
# Each step of the sweep is run on two samplers in the same state but with
# different histories (seeds, numbers of sweeps, and a different step run just
# before): it must leave the same state in both, bit for bit.  A step that
# read a work buffer another step left behind (as draw_beta and draw_u once
# read the Omega_e^-1 that draw_level1 had computed) would not.  The model has
# every kind of step: Normal, Ordered and Binary level-1 responses with
# missing values, an Ordered level-2 response (Cowles' step at both levels).

PURITY_HARNESS = """
namespace purity {
using M = statjr::impute::Model;
inline void step(M &m, int k) {
    switch (k) {
        case 0: m.draw_level1(); break;
        case 1: m.draw_beta(); break;
        case 2: m.draw_u(); break;
        case 3: m.draw_level2(); break;
        case 4: m.draw_gamma(); break;
        case 5: m.draw_covariances(true); break;
        default: m.draw_thresholds(true); break;
    }
}
constexpr int NSTEPS = 7;
// The model's state: what a sweep reads and writes, scratch excluded.
inline void copy_state(M &to, const M &from) {
    to.Z = from.Z; to.mu1 = from.mu1; to.U = from.U; to.W = from.W; to.mu2 = from.mu2;
    to.beta = from.beta; to.gamma = from.gamma; to.thresholds = from.thresholds;
    to.threshold_tuners = from.threshold_tuners; to.Oe = from.Oe; to.Ou = from.Ou; to.rng = from.rng;
}
inline bool same(const M &x, const M &y) {
    return x.Z == y.Z && x.mu1 == y.mu1 && x.U == y.U && x.W == y.W && x.mu2 == y.mu2 &&
           x.beta == y.beta && x.gamma == y.gamma && x.thresholds == y.thresholds &&
           x.Oe.omega == y.Oe.omega && x.Ou.omega == y.Ou.omega;
}
}  // namespace purity

struct Model {
    static constexpr int nparams = 1;
    ImputeSampler a, b;
    Model(const Data &d, std::uint64_t seed) : a(d, seed), b(d, seed + 1) {
        for (int it = 0; it < 40; ++it) a.sweep(true);
        for (int it = 0; it < 3; ++it) b.sweep(true);
    }
    void sweep(bool) {}
    void record(double *row) const { row[0] = 0.0; }
    // out[p * NSTEPS + s]: 1 when step s left the same state after step p ran on
    // the other sampler's history.
    long call(const char *, const double *, long, double *out, long nout) {
        using namespace purity;
        if (nout < NSTEPS * NSTEPS) throw std::runtime_error("output buffer too small");
        for (int p = 0; p < NSTEPS; ++p)
            for (int s = 0; s < NSTEPS; ++s) {
                M x = a.m, y = b.m;
                step(y, p);
                copy_state(y, x);
                step(x, s);
                step(y, s);
                out[p * NSTEPS + s] = same(x, y) ? 1.0 : 0.0;
            }
        return NSTEPS * NSTEPS;
    }
};
"""


def test_imputation_steps_share_no_scratch(tutmiss, tmp_path):
    from statjr_py import build
    from statjr_py.codegen import render_file, sampler_source
    from statjr_py.engine import prepare
    from statjr_py.run import Sampler

    frame = tutmiss.assign(vrband_m=(tutmiss["vrband"] - 1).where(
        np.random.default_rng(3).random(len(tutmiss)) > 0.2))
    invars = {"numlevs": "Yes", "L2ID": "school", "yimp1": "normexam,vrband_m,girlmiss,standlrtmiss",
              "bin1_1": "Normal", "bin1_2": "Ordered", "ncatsvrband_m": "3", "bin1_3": "Binary",
              "bin1_4": "Normal", "ximp1_0": "cons", "ximp1_1": "cons", "ximp1_2": "cons",
              "ximp1_3": "cons", "want2": "Yes", "yimp2": "schgendmiss", "bin2_1": "Ordered",
              "ncatsschgendmiss": "3", "ximp2_0": "cons", "condmarg": "Yes", "numimpute": "2",
              "impute1st": "10", "imputeevery": "5"}
    job = prepare("ImputeModel", frame, invars, {"processes": 1})
    spec = job.template.model(job.data, job.answers)
    body = render_file(job.template.cpp_file(), spec.context)
    body = body.replace("struct Model {", "struct ImputeSampler {", 1)
    body = body.replace("    Model(const Data &d, std::uint64_t seed)", "    ImputeSampler(const Data &d, std::uint64_t seed)", 1)
    assert "struct ImputeSampler {" in body and "ImputeSampler(const Data" in body
    harness = tmp_path / "PurityCheck.cpp.j2"
    harness.write_text("{% raw %}" + body + PURITY_HARNESS + "{% endraw %}")
    module = build.build(sampler_source(harness, {}, spec.arrays, "PurityCheck"))
    sampler = Sampler(module, spec.arrays, 5)
    try:
        ok = sampler.call("check", 49).reshape(7, 7)
    finally:
        sampler.close()
    steps = ["level1", "beta", "u", "level2", "gamma", "covariances", "thresholds"]
    bad = [(steps[p], steps[s]) for p in range(7) for s in range(7) if ok[p, s] != 1.0]
    assert not bad, f"(previous step, step) pairs whose result depended on history: {bad}"
