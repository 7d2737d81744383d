"""ImputeModel: imputed datasets and input checks on the seed's worked example."""
import sys

import numpy as np
import pandas as pd
import pytest

from statjr_py import InputError, RunStatJR
from statjr_py.examples import WORKED_IMPUTATION

SEED_IMPUTATION = {**WORKED_IMPUTATION, "impute1st": "300"}  # the seed's model, a shorter run
OPTS = {"diagnostics": False, "seed": 2, "nchains": 2}


@pytest.fixture(scope="module")
def run(tutmiss):
    return RunStatJR("ImputeModel", tutmiss, SEED_IMPUTATION, OPTS)


def datasets(res):
    used = res["ImputedDatasets"]
    return [res[name] for name in used.loc[used["used"], "dataset"]]


def test_dataset_names_and_order(run):
    used = run["ImputedDatasets"]
    assert list(used["dataset"]) == ["impute_datafile_chain0_iter300", "impute_datafile_chain1_iter300",
                                     "impute_datafile_chain0_iter350", "impute_datafile_chain1_iter350"]
    assert used["used"].all()
    for name in used["dataset"]:
        assert name in run and name.replace("datafile", "L2Data") in run


def test_observed_values_bit_identical_and_missing_filled(run, tutmiss):
    for data in datasets(run):
        assert list(data.columns) == list(tutmiss.columns)
        for col in tutmiss.columns:
            obs = tutmiss[col].notna().to_numpy()
            a, b = tutmiss[col].to_numpy()[obs], data[col].to_numpy()[obs]
            assert a.tobytes() == b.tobytes(), col
            assert data[col].dtype == tutmiss[col].dtype
        for col in ["standlrtmiss", "girlmiss", "schgendmiss"]:
            assert data[col].notna().all()
        assert data["avslrtmiss"].isna().sum() == tutmiss["avslrtmiss"].isna().sum()  # not a response


def test_categorical_imputations_in_range_and_level2_constant(run):
    for data in datasets(run):
        assert set(data["girlmiss"].unique()) <= {0.0, 1.0}
        assert set(data["schgendmiss"].unique()) <= {0.0, 1.0, 2.0}
        assert (data.groupby("school")["schgendmiss"].nunique() == 1).all()


def test_imputations_differ_between_datasets(run, tutmiss):
    a, b = datasets(run)[:2]
    miss = tutmiss["standlrtmiss"].isna()
    assert not np.array_equal(a.loc[miss, "standlrtmiss"], b.loc[miss, "standlrtmiss"])


def test_callers_data_unchanged(tutmiss):
    before = tutmiss.copy(deep=True)
    RunStatJR("ImputeModel", tutmiss, {**SEED_IMPUTATION, "numimpute": "1", "impute1st": "20"}, OPTS)
    pd.testing.assert_frame_equal(tutmiss, before)


def test_level2_table_one_row_per_unit(run, tutmiss):
    l2 = run["impute_L2Data_chain0_iter300"]
    assert len(l2) == tutmiss["school"].nunique()
    assert list(l2.columns) == ["school", "schgendmiss"]


def test_outputs_and_parameter_names(run):
    terms = list(run["ModelResults"]["term"])
    assert terms[:3] == ["beta(normexam,cons)", "beta(standlrtmiss,cons)", "beta(standlrtmiss,vrband_1)"]
    assert "gamma(schgendmiss_0,cons)" in terms and "omega_e(normexam,girlmiss)" in terms
    assert "omega_e(girlmiss,girlmiss)" not in terms  # fixed at 1
    assert "omega_u(schgendmiss_0,schgendmiss_0)" not in terms
    assert "omega_u(girlmiss,girlmiss)" in terms  # random-effect variance of a binary is free
    for name in ["out", "ImputeModel.cpp", "equation.tex", "algorithm.tex", "script.py", "ModelParameters"]:
        assert name in run
    assert "'nchains': 2" in run["script.py"] and "processes" not in run["script.py"]


def test_one_level_model(tutmiss):
    inv = {"numlevs": "No", "yimp1": "normexam,standlrtmiss", "bin1_1": "Normal", "bin1_2": "Normal",
           "ximp1_0": "cons", "ximp1_1": "cons", "numimpute": "2", "impute1st": "100", "imputeevery": "10"}
    res = RunStatJR("ImputeModel", tutmiss, inv, OPTS)
    assert not any("L2Data" in k for k in res)
    assert res["impute_datafile_chain0_iter100"]["standlrtmiss"].notna().all()


@pytest.mark.parametrize("change, pattern", [
    ({"ximp1_1": "cons,avslrtmiss"}, "'avslrtmiss' has missing values; declare it as a response"),
    ({"bin1_3": "Normal", "bin1_2": "Binary"}, "'standlrtmiss' is Binary but has values"),
    ({"ncatsschgendmiss": "2"}, "code its categories 0, 1, ..., 1"),
    ({"numimpute": "0"}, "'numimpute' = '0'"),
    ({"impute1st": "many"}, "'impute1st' = 'many': not a number"),
    ({"imputeevery": "0"}, "'imputeevery' = '0'"),
    ({"yimp1": "normexam,standrtmiss,girmiss"}, "did you mean 'standlrtmiss'"),
    ({"bin1_1": "Gaussian"}, "choose one of 'Normal', 'Binary', 'Ordered', 'Unordered'"),
    ({"ximp1_0": "cons,girlmiss"}, "'girlmiss' is a response"),
])
def test_bad_input(tutmiss, change, pattern):
    invars = {**SEED_IMPUTATION, **change}
    if invars["ncatsschgendmiss"] == "2":
        del invars["ximp2_0_1"]  # two categories: one latent, one question
    with pytest.raises(InputError, match=pattern):
        RunStatJR("ImputeModel", tutmiss, invars, OPTS)


def test_level2_response_not_constant_warns(tutmiss):
    from statjr_py import DataWarning
    frame = tutmiss.copy()
    frame.loc[1, "schgendmiss"] = 2.0 if frame.loc[1, "schgendmiss"] != 2.0 else 1.0
    with pytest.warns(DataWarning, match="'schgendmiss' is not constant within level-2 units"):
        RunStatJR("ImputeModel", frame, {**SEED_IMPUTATION, "numimpute": "1", "impute1st": "10"},
                  OPTS)


def test_long_frame_in_the_mice_layout(run, tutmiss):
    long = run["impute_long"]
    used = run["ImputedDatasets"]
    M, n = int(used["used"].sum()), len(tutmiss)
    assert list(long.columns[:2]) == [".imp", ".id"] and len(long) == (M + 1) * n
    original = long[long[".imp"] == 0].drop(columns=[".imp", ".id"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(original, tutmiss.reset_index(drop=True), check_dtype=False)
    for m, name in enumerate(used.loc[used["used"], "dataset"], 1):
        part = long[long[".imp"] == m].drop(columns=[".imp", ".id"]).reset_index(drop=True)
        pd.testing.assert_frame_equal(part, run[name].reset_index(drop=True), check_dtype=False)
    assert (long[".id"].to_numpy() == np.tile(np.arange(1, n + 1), M + 1)).all()


def test_flong_for_stata(run, tutmiss):
    """impute_flong is impute_long with Stata-legal index columns, saved as .dta."""
    long, flong = run["impute_long"], run["impute_flong"]
    assert list(flong.columns[:2]) == ["_imp", "_id"]
    pd.testing.assert_frame_equal(flong.set_axis(long.columns, axis=1), long)
    assert run.kind("impute_flong") == "dataset"
    # a column of the data named _imp moves the index column aside, never over it
    from statjr_py import get_template
    stata_flong = sys.modules[type(get_template("ImputeModel")).__module__].stata_flong
    clash = stata_flong(long.rename(columns={"normexam": "_imp"}))
    assert list(clash.columns[:2]) == ["__imp", "_id"] and "_imp" in clash.columns
