"""Diagnostics against closed forms and constructed chains."""
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from statjr_py import diagnostics as dg

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench" / "references"))
from arviz_diagnostics import cases  # noqa: E402  (the reference script's own draws)


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
    ratios = np.array([dg.ess_bulk(ar1(rng, phi, n)) / n for _ in range(reps)])
    truth = (1 - phi) / (1 + phi)
    assert abs(ratios.mean() - truth) < 4 * ratios.std(ddof=1) / np.sqrt(reps) + 0.02 * truth


REFERENCE = json.loads((Path(__file__).parent / "references" / "arviz_diagnostics.json").read_text())


@pytest.mark.parametrize("name", sorted(REFERENCE["cases"]))
def test_diagnostics_agree_with_arviz(name):
    """Bulk/tail ESS, rank-normalised split R-hat and MCSE equal ArviZ's on the same draws
    (bench/references/arviz_diagnostics.py; versions and date in the JSON)."""
    ref = REFERENCE["cases"][name]
    x = cases()[name]
    assert x.sum() == pytest.approx(ref["checksum"], rel=1e-12)  # the same draws
    assert dg.ess_bulk(x) == pytest.approx(ref["ess_bulk"], rel=1e-9)
    assert dg.ess_tail(x) == pytest.approx(ref["ess_tail"], rel=1e-9)
    if ref["rhat"] is not None:
        assert dg.rhat(x) == pytest.approx(ref["rhat"], rel=1e-9)
    assert dg.mcse(x) == pytest.approx(ref["mcse_sd_over_sqrt_bulk"], rel=1e-9)


def test_a_stuck_chain_gives_a_small_ess():
    """ESS combines the chains: one chain 3 sd away leaves few effective draws
    (a sum of per-chain ESS would report thousands)."""
    rng = np.random.default_rng(2)
    chains = rng.normal(size=(4, 2000))
    assert 0.9 < dg.ess_bulk(chains) / 8000 < 1.1
    chains[0] += 3.0
    assert dg.ess_bulk(chains) < 100
    assert dg.rhat(chains) > 1.3


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


@pytest.mark.parametrize("kind", ["continuous", "rounded", "discrete", "signed zeros", "infinite"])
def test_rank_normalise_is_its_definition_to_the_bit(kind):
    # rank_normalise takes a shortcut (cached scores for untied ranks); the
    # definition, Phi^-1((average rank - 3/8) / (S + 1/4)), must give the same
    # doubles, ties (averaged ranks) and -0.0 == 0.0 included.
    rng = np.random.default_rng(3)
    x = rng.normal(size=(4, 301))
    if kind == "rounded":
        x = np.round(x, 1)
    elif kind == "discrete":
        x = rng.integers(0, 3, size=x.shape).astype(float)
    elif kind == "signed zeros":
        x[rng.random(x.shape) < 0.2] = 0.0
        x[rng.random(x.shape) < 0.2] = -0.0
    elif kind == "infinite":
        x[rng.random(x.shape) < 0.05] = np.inf
        x[rng.random(x.shape) < 0.05] = -np.inf
    definition = dg.normal_quantile((dg.average_ranks(x) - 0.375) / (x.size + 0.25))
    assert dg.rank_normalise(x).tobytes() == definition.tobytes()


def test_summarise_row_is_the_separate_diagnostics_to_the_bit():
    # summarise computes the split chains, their scores and the quantiles once
    # for all its columns; each must equal the public function computed alone.
    rng = np.random.default_rng(4)
    draws = np.cumsum(rng.normal(size=(3, 1000, 2)), axis=1) * 0.05 + rng.normal(size=(3, 1, 2))
    table = dg.summarise(draws, ["a", "b"])
    for k in range(2):
        x = draws[:, :, k]
        row = table.iloc[k]
        alone = {"ess_bulk": dg.ess_bulk(x), "ess_tail": dg.ess_tail(x), "rhat": dg.rhat(x),
                 "2.5%": np.quantile(x.ravel(), 0.025), "97.5%": np.quantile(x.ravel(), 0.975)}
        for column, value in alone.items():
            assert np.float64(row[column]).tobytes() == np.float64(value).tobytes(), column


@pytest.mark.parametrize("kind", ["continuous", "rounded", "discrete"])
def test_row_quantiles_are_numpys_to_the_bit(kind):
    # brooks_gelman's quantiles skip np.quantile's set-up; they must be its numbers
    rng = np.random.default_rng(6)
    for m, w in [(1, 2), (1, 3), (2, 5), (3, 17), (4, 250), (4, 2500)]:
        x = rng.normal(size=(m, w))
        if kind == "rounded":
            x = np.round(x, 1)
        elif kind == "discrete":
            x = rng.integers(0, 4, size=x.shape).astype(float)
        for coverage in (0.8, 0.5, 0.95):
            lo, hi = (1 - coverage) / 2, 1 - (1 - coverage) / 2
            ours = dg._row_quantiles(x, lo, hi)
            assert ours.tobytes() == np.quantile(x, [lo, hi], axis=1).tobytes()
            pooled = dg._row_quantiles(x.reshape(1, -1), lo, hi)[:, 0]
            assert pooled.tobytes() == np.quantile(x, [lo, hi]).tobytes()
