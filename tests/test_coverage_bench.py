"""bench/coverage.py: a smoke run in CI, and a slow coverage check.

The full study (docs/validation.md) is not a test.  The slow check repeats
two of its SMC scenarios at 400 replications and holds them to the issue's
goals widened by Monte Carlo error: coverage of every fixed effect within
0.95 +- 3.3 MCSE (about +-3.6 points) and |bias| < 0.1 empirical SE + 3.3
MCSE of the bias (3.3: a family-wise 1% over the 11 fixed effects and two
criteria).  Run it with `python -m pytest -m slow`.
"""
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import coverage as cov  # noqa: E402


def test_smoke_run_and_report(tmp_path):
    out = tmp_path / "cov.csv"
    assert cov.main(["--reps", "2", "--scenarios", "mar_wc", "--smc", "--workers", "1",
                     "--out", str(out)]) == 0
    rows = pd.read_csv(out)
    assert set(rows["method"]) == {"MI", "CC"}
    assert set(rows["term"]) == {"cons", "x", "xb", "w", "sigma2_u", "sigma2_e", "wc_0", "wc_1"}
    assert rows["seed"].nunique() == 2
    assert (tmp_path / "cov_summary.csv").exists()
    table = cov.report([out], tmp_path / "cov.png")
    assert table.count("| mar_wc | MI |") == 8 and (tmp_path / "cov.png").stat().st_size > 0


def test_smoke_run_ordered_scenario(tmp_path):
    """The xo scenarios impute each dataset twice (Ordered, Unordered) and fit the complete data."""
    out = tmp_path / "xo.csv"
    assert cov.main(["--reps", "1", "--scenarios", "mar_xo_nonmono", "--workers", "1", "--m", "2",
                     "--first", "50", "--every", "10", "--burnin", "50", "--iters", "100",
                     "--out", str(out)]) == 0
    rows = pd.read_csv(out)
    assert set(rows["method"]) == {"MI-Ordered", "MI-Unordered", "CC", "CD"}
    assert set(rows["term"]) == {"cons", "xo_0", "xo_1", "sigma2_u", "sigma2_e"}
    assert rows["seed"].unique().tolist() == [cov.replication_seed("mar_xo_nonmono", 0)]
    # the two imputations differ; complete cases and complete data are fitted once each
    est = rows.set_index(["method", "term"])["estimate"]
    assert est["MI-Ordered", "xo_1"] != est["MI-Unordered", "xo_1"]
    table = cov.report([out], tmp_path / "xo.png")
    assert table.count("| mar_xo_nonmono | MI-Ordered |") == 5 and (tmp_path / "xo.png").stat().st_size > 0
    # the paired table: the category effects of each method beside the complete data
    assert "| mar_xo_nonmono | xo_1 (0.4) | MI-Ordered |" in table
    assert table.count("| mar_xo_nonmono | xo_0 (-0.1) | CD |") == 1


@pytest.mark.parametrize("scenario", ["mar_xo_mono", "mar_xo_nonmono"])
def test_ordered_scenario_data_match_their_truth(scenario):
    """Closed-form checks of simulate_ordered on 400 schools of 30 (12000 pupils).

    xo thresholds a unit-variance latent at -0.5 and 0.5, so its categories have
    probabilities Phi(-0.5) = 0.3085, 0.3829, 0.3085 (binomial SE 0.0042-0.0044);
    least squares of y on xo's dummies in the complete data estimates the true
    category effects (SE about 0.03 with the school effect ignored, so 0.15 is
    5 SE).  Missingness (MAR on y, 30% at the mean) removes about a third.
    """
    full, truth, xs = cov.simulate(11, scenario, J=400, missing=1e-9)
    assert xs == ["cons", "xo.cat"] and not full.isna().any().any()
    share = full["xo"].value_counts(normalize=True).sort_index().to_numpy()
    assert np.abs(share - [0.3085, 0.3829, 0.3085]).max() < 4 * 0.0044
    X = np.column_stack([np.ones(len(full)), full["xo"] == 0, full["xo"] == 1]).astype(float)
    b = np.linalg.lstsq(X, full["y"].to_numpy(), rcond=None)[0]
    assert np.abs(b - [truth["cons"], truth["xo_0"], truth["xo_1"]]).max() < 0.15
    gone, _, _ = cov.simulate(11, scenario, J=400)
    assert gone["y"].equals(full["y"]) and 0.25 < gone["xo"].isna().mean() < 0.45
    # MAR on y: pupils whose xo is missing have higher y
    assert full["y"][gone["xo"].isna()].mean() > full["y"][gone["xo"].notna()].mean() + 0.3


@pytest.mark.slow
@pytest.mark.parametrize("scenario", ["mar_xc", "mar_x_slope"])
def test_smc_meets_the_goals(tmp_path, scenario):
    out = tmp_path / "cov.csv"
    cov.main(["--reps", "400", "--scenarios", scenario, "--smc", "--workers", "2", "--out", str(out)])
    s = cov.summarise(pd.read_csv(out))
    fixed = s[(s["method"] == "MI") & ~s["term"].str.startswith(("sigma2_", "omega_"))]
    for _, r in fixed.iterrows():
        mcse = np.sqrt(0.95 * 0.05 / r["reps"])
        assert abs(r["coverage"] - 0.95) < 3.3 * mcse, (r["term"], r["coverage"])
        assert abs(r["bias"]) < 0.1 * r["emp_se"] + 3.3 * r["bias_mcse"], (r["term"], r["bias"])


@pytest.mark.slow
def test_ordered_imputation_of_a_non_monotone_effect(tmp_path):
    """Issue #15 in numbers: 100 replications of mar_xo_nonmono under the JM.

    Unordered imputation is held to the goals widened by Monte Carlo error, as
    above, for both category effects.  Ordered imputation must show the bias the
    docs warn of: xo_1 (the middle category, true effect 0.4) under-estimated by
    more than one empirical SE.  The 200-replication study put it at -2.75 SEs
    (bias -0.194, MCSE 0.005; docs/validation.md, bench/results/coverage_xo.csv,
    2026-11-30), so 1 SE leaves a margin of over 20 MCSEs (0.07 SE each at 200).
    """
    out = tmp_path / "xo.csv"
    cov.main(["--reps", "100", "--scenarios", "mar_xo_nonmono", "--workers", "2", "--out", str(out)])
    s = cov.summarise(pd.read_csv(out)).set_index(["method", "term"])
    for term in ("xo_0", "xo_1"):
        r = s.loc[("MI-Unordered", term)]
        mcse = np.sqrt(0.95 * 0.05 / r["reps"])
        assert abs(r["coverage"] - 0.95) < 3.3 * mcse, (term, r["coverage"])
        assert abs(r["bias"]) < 0.1 * r["emp_se"] + 3.3 * r["bias_mcse"], (term, r["bias"])
    r = s.loc[("MI-Ordered", "xo_1")]
    assert r["bias"] < -1.0 * r["emp_se"], r["bias"]


@pytest.mark.slow
def test_smc_ordered_imputation_is_unbiased(tmp_path):
    """Under SMC an Ordered covariate's category effects are right (issue #15).

    Guards the fix to the threshold step, which had moved thresholds under
    missing values held at their imputed categories: before it, 100 SMC
    replications of mar_xo_mono gave Ordered's xo_1 an MI - CD of +0.029
    (MCSE 0.006), after it +0.007 (0.006); mar_xo_nonmono -0.025 (0.005)
    then +0.001 (0.006) (docs/validation.md, bench/results/coverage_xo_smc*.csv,
    2026-11-30).  Paired with the complete-data fits, the test asks |MI - CD| <
    0.018, 3 MCSEs; the bug's +0.029 fails it.
    """
    out = tmp_path / "xo_smc.csv"
    cov.main(["--reps", "100", "--scenarios", "mar_xo_mono", "--smc", "--workers", "2",
              "--out", str(out)])
    rows = pd.read_csv(out)
    wide = rows.pivot_table(index=["rep", "term"], columns="method", values="estimate")
    diff = (wide["MI-Ordered"] - wide["CD"]).xs("xo_1", level="term")
    assert abs(diff.mean()) < 0.018, (diff.mean(), diff.std(ddof=1) / np.sqrt(len(diff)))
