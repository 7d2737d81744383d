"""Diagnostics against closed forms and constructed chains."""
import numpy as np
import pytest

from statjr_py import diagnostics as dg


def ar1(rng, phi, n, start=0.0):
    e = rng.normal(size=n) * np.sqrt(1 - phi ** 2)
    x = np.empty(n)
    prev = start
    for i in range(n):
        prev = phi * prev + e[i]
        x[i] = prev
    return x


@pytest.mark.parametrize("phi", [0.0, 0.5, 0.9])
def test_ess_of_ar1_matches_closed_form(phi):
    # ESS/n -> (1 - phi)/(1 + phi) for AR(1).  The tolerance is 4 standard
    # errors of the mean of 30 replicate estimates, plus 2% for the
    # estimator's small finite-sample bias at n = 20000.
    rng = np.random.default_rng(1)
    n, reps = 20000, 30
    ratios = np.array([dg.ess_chain(ar1(rng, phi, n)) / n for _ in range(reps)])
    truth = (1 - phi) / (1 + phi)
    assert abs(ratios.mean() - truth) < 4 * ratios.std(ddof=1) / np.sqrt(reps) + 0.02 * truth


def test_ess_sums_over_chains_and_mcse():
    rng = np.random.default_rng(2)
    chains = rng.normal(size=(3, 5000))
    assert dg.ess(chains) == pytest.approx(sum(dg.ess_chain(c) for c in chains))
    assert dg.mcse(chains) == pytest.approx(chains.std(ddof=1) / np.sqrt(dg.ess(chains)))
    assert 0.9 < dg.ess(chains) / 15000 < 1.1


def test_pacf_of_ar1_is_phi_then_zero():
    rng = np.random.default_rng(3)
    x = ar1(rng, 0.7, 50000)
    pacf = dg.partial_autocorrelation(x, 5)
    band = 4 / np.sqrt(x.size)
    assert abs(pacf[0] - 0.7) < band
    assert np.all(np.abs(pacf[1:]) < band)


def test_rhat_near_one_for_mixed_chains_and_above_for_chains_apart():
    rng = np.random.default_rng(4)
    mixed = np.stack([ar1(rng, 0.5, 4000) for _ in range(4)])
    assert dg.rhat(mixed) < 1.01
    apart = np.stack([ar1(rng, 0.995, 1000, start=s) for s in (-20, -10, 10, 20)])
    assert dg.rhat(apart) > 1.2


def test_brooks_gelman_ratio_settles_near_one():
    rng = np.random.default_rng(5)
    chains = rng.normal(size=(3, 4000))
    _, pooled, within, ratio = dg.brooks_gelman(chains)
    assert abs(ratio[-1] - 1) < 0.05
    apart = chains + np.array([[-3.0], [0.0], [3.0]])
    assert dg.brooks_gelman(apart)[3][-1] > 2
