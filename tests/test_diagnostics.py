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


# ------------------------------------------------- chains too short to diagnose
# A smoke test keeps a handful of draws per chain; every diagnostic must then
# be NaN (or a plot panel saying so), never an exception.  Before the fix the
# MCSE curve's first point (20 draws) lay beyond a shorter run's last draw and
# its batch-means reshape failed, so no such run could be plotted or saved.
SHORT = [(nchains, ndraws) for nchains in (1, 3) for ndraws in (1, 2, 3, 5, 6, 7)]


@pytest.mark.parametrize("nchains,ndraws", SHORT)
def test_diagnostics_of_chains_too_short_to_estimate_are_nan(nchains, ndraws):
    x = np.random.default_rng(ndraws).normal(size=(nchains, ndraws))
    # split halves of 3 or fewer draws: no ESS (Geyer's sequence needs lag pairs)
    for value in (dg.ess_bulk(x), dg.ess_tail(x), dg.mcse(x)):
        assert np.isnan(value)
    row = dg.summarise(x[:, :, None], ["p"]).iloc[0]
    assert np.isnan(row[["ess_bulk", "ess_tail", "mcse"]].astype(float)).all()
    if ndraws < 4:  # halves of one draw: no within-chain variance, so no R-hat
        assert np.isnan(dg.rhat(x)) and np.isnan(row["rhat"])
    ks, errs = dg.mcse_curve(x.ravel(), points=20)
    if x.size < dg.MCSE_CURVE_MIN_DRAWS:  # 20 draws in all
        assert ks.tolist() == [x.size] and np.isnan(errs).all()
    else:
        assert ks[0] == dg.MCSE_CURVE_MIN_DRAWS and ks[-1] == x.size and np.isfinite(errs).all()
    ends, pooled, within, ratio = dg.brooks_gelman(x, points=25)
    assert (ends <= ndraws).all()
    if ndraws < dg.MIN_DRAWS:
        assert np.isnan(np.concatenate([pooled, within, ratio])).all()


def test_mcse_curve_starts_at_20_draws_and_stays_within_the_run():
    x = np.random.default_rng(8).normal(size=21)
    ks, errs = dg.mcse_curve(x, points=20)
    assert ks[0] == 20 and ks[-1] == 21 and np.isfinite(errs).all()


def _svg_texts(svg: str) -> list[str]:
    import xml.etree.ElementTree as ET
    return [t.text or "" for t in ET.fromstring(svg.encode()).iter("{http://www.w3.org/2000/svg}text")]


@pytest.mark.parametrize("nchains,ndraws", SHORT)
@pytest.mark.parametrize("constant", [False, True])
def test_six_panel_plot_of_a_short_chain_says_too_few_draws(nchains, ndraws, constant):
    import warnings

    from statjr_py.plots import six_panel_svg
    x = (np.full((nchains, ndraws), 2.5) if constant
         else np.random.default_rng(ndraws).normal(size=(nchains, ndraws)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no numpy "degrees of freedom" warnings either
        texts = _svg_texts(six_panel_svg("p", x))
    notes = [t for t in texts if t.startswith("too few draws")]
    short = ndraws < dg.MIN_DRAWS
    # MCSE under 20 draws in all; density, ACF, PACF and (chains > 1) BGR when short
    assert len(notes) == ((x.size < 20) + short * (3 + (nchains > 1)) + (ndraws < 2))
    assert all(f": {ndraws} per chain, needs " in t or f": {x.size} in all, needs 20" in t
               for t in notes)
    if constant and not short:
        assert any(t.startswith("all draws equal (2.5)") for t in texts)


@pytest.mark.parametrize("nchains,ndraws", [(3, 1), (1, 6), (3, 6)])
def test_results_of_a_very_short_run_save_every_output(nchains, ndraws, tmp_path):
    from statjr_py import Results
    from statjr_py.sdk import add_diagnostic_plots
    rng = np.random.default_rng(9)
    draws = rng.normal(size=(nchains, ndraws, 3))
    draws[:, :, 2] = 1.0  # a parameter whose draws are all equal
    names = ["a", "b", "c"]
    res = Results()
    res.add("ModelResults", dg.summarise(draws, names))
    add_diagnostic_plots(res, draws, names, first_iteration=11, thinning=1)
    paths = res.save(tmp_path / "out")
    assert len(paths) == len(list(res)) == 4
    for name in names:  # every plot is under 20 draws in all: its MCSE panel says so
        svg = (tmp_path / "out" / f"{name}.svg").read_text()
        assert any(t.startswith("too few draws") for t in _svg_texts(svg))


def test_a_table_whose_ess_cannot_be_estimated_warns():
    import pandas as pd

    from statjr_py import ConvergenceWarning
    table = pd.DataFrame({"term": ["a", "b"], "rhat": [np.nan, 1.0], "ess_bulk": [np.nan, 500.0]})
    with pytest.warns(ConvergenceWarning, match=r"a has R-hat nan and bulk ESS nan \(too few draws"):
        assert dg.warn_convergence(table, "T", "run longer")
    assert dg.convergence_problems(table, 1.05, 100)["term"].tolist() == ["a"]


def test_draws_that_are_not_finite_are_said_to_be_so_not_too_few():
    # A diverged sampler (NaN among 2000 draws a chain) is not a short run: the
    # warning and the plot say what happened instead of "too few draws" or a crash.
    import xml.dom.minidom

    from statjr_py import ConvergenceWarning
    from statjr_py.plots import six_panel_svg

    draws = np.random.default_rng(2).normal(size=(3, 2000, 2))
    draws[0, 5, 1] = np.nan
    table = dg.summarise(draws, ["fine", "diverged"])
    with pytest.warns(ConvergenceWarning, match=r"diverged has .* bulk ESS nan \(some of its draws are "
                                                r"not finite numbers: the sampler diverged\)"):
        assert dg.warn_convergence(table, "T", "run longer")
    svg = six_panel_svg("diverged", draws[:, :, 1])
    xml.dom.minidom.parseString(svg)
    assert "1 of 6000 draws are not finite" in svg and "too few draws" not in svg
