"""Imputation diagnostics: variance components against statsmodels, and the
worked example's table and plots."""
import numpy as np
import pandas as pd
import pytest

from statjr_py import RunStatJR
from statjr_py.examples import WORKED_EXAMPLE
from statjr_py.impdiag import variance_components


def test_variance_components_equal_reml_for_balanced_units():
    """For balanced units the ANOVA estimator is the REML estimate (Searle et al. 1992, 4.7)."""
    import statsmodels.formula.api as smf

    rng = np.random.default_rng(8)
    J, n = 60, 12
    unit = np.repeat(np.arange(J), n)
    y = 2.0 + rng.normal(0, np.sqrt(0.5), J)[unit] + rng.normal(0, 1, J * n)
    within, between, icc = variance_components(y, unit)
    fit = smf.mixedlm("y ~ 1", pd.DataFrame({"y": y, "g": unit}), groups="g").fit(reml=True)
    assert within == pytest.approx(fit.scale, rel=1e-4)
    assert between == pytest.approx(float(fit.cov_re.iloc[0, 0]), rel=1e-3)
    assert icc == pytest.approx(between / (between + within))


def test_worked_example_has_imputation_diagnostics(tutmiss):
    inv = {**WORKED_EXAMPLE, "impute1st": "200", "imputeevery": "20", "iterations": "300"}
    res = RunStatJR("2LevelImpute", tutmiss, inv, {"seed": 4})
    table = res["Imputation_Diagnostics"].set_index(["variable", "statistic"])
    assert table.loc[("standlrtmiss", "n"), "imputed"] == tutmiss["standlrtmiss"].isna().sum()
    assert table.loc[("schgendmiss", "n"), "observed"] == tutmiss.groupby("school")[
        "schgendmiss"].first().notna().sum()  # level 2: each school once
    shares = table.xs("girlmiss", level="variable").filter(like="share_", axis=0)
    assert shares["completed"].sum() == pytest.approx(1.0)
    # the completed data keep the between-school variance of standlrt (a two-level imputation)
    obs, comp = table.loc[("standlrtmiss", "var_between"), ["observed", "completed"]]
    assert comp == pytest.approx(obs, rel=0.25)
    by_unit = res["Imputation_MissingByUnit"]
    assert len(by_unit) == tutmiss["school"].nunique() and by_unit["n"].sum() == len(tutmiss)
    for name in ("standlrtmiss", "girlmiss", "schgendmiss"):
        svg = str(res[f"Imputation_Diagnostics_{name}.svg"])
        assert svg.lstrip().startswith("<?xml") and "observed" in svg
