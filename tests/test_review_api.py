"""Faults a hostile review found in the API, each now an InputError before any compile
or a correct result (the web and file cases are in test_review_web.py / test_review_io.py)."""
import numpy as np
import pandas as pd
import pytest

from statjr_py import InputError, RunStatJR, build
from statjr_py.examples import WORKED_EXAMPLE

FAST = {"burnin": 10, "iterations": 30, "nchains": 1, "diagnostics": False}
OLS = {"y": "normexam", "D": "Normal"}


def refused_before_compiling(pattern, *args):
    before = build.compile_count()
    with pytest.raises(InputError, match=pattern):
        RunStatJR(*args)
    assert build.compile_count() == before


def test_an_identifier_ticked_as_categorical(tutorial):
    frame = tutorial[["normexam", "cons"]].copy()
    frame["g"] = np.arange(len(frame)) % 1200
    refused_before_compiling(r"'g.cat' has 1200 categories, more than 50", "1LevelMod", frame,
                             {**OLS, "x": "g.cat"}, FAST)


def test_a_response_at_both_levels(tutmiss):
    inv = {"numlevs": "Yes", "L2ID": "school", "yimp1": "normexam,schgendmiss", "bin1_1": "Normal",
           "bin1_2": "Ordered", "ncatsschgendmiss": "3", "ximp1_0": "cons", "ximp1_1": "cons",
           "want2": "Yes", "yimp2": "schgendmiss", "bin2_1": "Ordered"}
    refused_before_compiling("'yimp2': 'schgendmiss' is already a level-1 response", "ImputeModel",
                             tutmiss, inv)


def test_a_category_never_observed(tutmiss):
    frame = tutmiss.copy()
    frame.loc[frame["schgendmiss"] == 2, "schgendmiss"] = np.nan
    inv = {**WORKED_EXAMPLE, "impute1st": "20", "imputeevery": "5", "numimpute": "2"}
    refused_before_compiling("never observed in category 2", "2LevelImpute", frame, inv)


def test_categorical_terms_of_a_normal_response(tutmiss):
    frame = tutmiss.copy()
    frame["standlrtmiss"] = np.round(frame["standlrtmiss"].clip(-1, 1))  # three values
    inv = {**WORKED_EXAMPLE, "x": "cons,standlrtmiss.cat,girlmiss", "numimpute": "2"}
    refused_before_compiling("'standlrtmiss.cat' is imputed as a Normal response", "2LevelImpute",
                             frame, inv)


@pytest.mark.parametrize("values,pattern", [
    (lambda n: pd.Series([10 ** 400] + [1] * (n - 1), dtype=object), "not real numbers"),
    (lambda n: pd.Series(np.arange(n) + 1j), "complex"),
    (lambda n: pd.Series(pd.date_range("2000-01-01", periods=n)), "dates or times"),
    (lambda n: pd.Series(np.where(np.arange(n) == 4, 1e-170, 1.0)), "row 5.*too small"),
])
def test_values_that_are_not_usable_numbers(tutorial, values, pattern):
    frame = tutorial.copy()
    frame["standlrt"] = values(len(frame))
    refused_before_compiling(f"input 'x'.*standlrt.*{pattern}", "1LevelMod", frame,
                             {**OLS, "x": "cons,standlrt"}, FAST)


def test_a_log_offset_that_overflows(tutorial):
    frame = tutorial.copy()
    frame["count"] = 1
    frame["off"] = 800.0
    refused_before_compiling("input 'offset'.*800.*log scale", "1LevelMod", frame,
                             {"y": "count", "D": "Poisson", "offset": "off", "x": "cons"}, FAST)


def test_a_huge_but_finite_predictor_is_not_called_collinear(tutorial):
    frame = tutorial.copy()
    frame["standlrt"] = frame["standlrt"] * 1e100
    res = RunStatJR("1LevelMod", frame, {**OLS, "x": "cons,standlrt"}, FAST)
    assert list(res["ModelResults"]["term"]) == ["cons", "standlrt", "sigma2_e"]


def test_level2_id_named_like_a_residual_column_keeps_the_ids(tutorial):
    frame = tutorial.rename(columns={"school": "u_cons_mean"})
    res = RunStatJR("2LevelMod", frame, {"y": "normexam", "L2ID": "u_cons_mean", "D": "Normal",
                                         "x": "cons"}, FAST)
    table = res["ResidualsLevel2"]
    assert sorted(table["u_cons_mean"]) == sorted(frame["u_cons_mean"].unique())
    assert "u_cons_mean_" in table.columns


def test_names_that_answers_cannot_hold_and_long_names(tutorial):
    frame = tutorial.rename(columns={"standlrt": " lead"})
    with pytest.raises(InputError, match="cannot be named in an answer.*rename"):
        RunStatJR("1LevelMod", frame, {**OLS, "x": "cons,lead"}, FAST)
    with pytest.raises(InputError) as err:
        RunStatJR("1LevelMod", tutorial, {**OLS, "x": "cons," + "z" * 900_000}, FAST)
    assert len(str(err.value)) < 1000


def test_2levelimpute_checks_the_memory_of_all_its_fits(tutmiss, monkeypatch):
    from statjr_py import run
    monkeypatch.setattr(run, "available_memory", lambda: 200 * 2 ** 20)
    inv = {**WORKED_EXAMPLE, "numimpute": "10", "iterations": str(10 ** 6)}
    with pytest.raises(InputError, match="2LevelImpute: 10 fits.*GiB of memory"):
        RunStatJR("2LevelImpute", tutmiss, inv)
