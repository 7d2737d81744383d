"""Same seed, same answer: with any ``processes`` (and, in test_2levelimpute, on a
dask cluster), the imputed datasets and the pooled tables are bit-identical."""
import pandas as pd
import pytest

from statjr_py import InputError, RunStatJR
from statjr_py.examples import WORKED_EXAMPLE

SMALL = {**WORKED_EXAMPLE, "impute1st": "100", "imputeevery": "10", "burnin": "50",
         "iterations": "200", "numimpute": "3"}


def test_processes_change_nothing_but_speed(tutmiss):
    runs = [RunStatJR("2LevelImpute", tutmiss, SMALL,
                      {"seed": 11, "processes": p, "diagnostics": False}) for p in (1, 2)]
    a, b = runs
    pd.testing.assert_frame_equal(a["ResultsTable:Imputation"], b["ResultsTable:Imputation"])
    pd.testing.assert_frame_equal(a["ResultsTable:CompleteCases"], b["ResultsTable:CompleteCases"])
    listing = a["Imputation_Model_ImputedDatasets"]
    pd.testing.assert_frame_equal(listing, b["Imputation_Model_ImputedDatasets"])
    # three imputation chains by default, whatever the core count: the Stat-JR names stay
    assert list(listing["dataset"]) == ["impute_datafile_chain0_iter100",
                                        "impute_datafile_chain1_iter100",
                                        "impute_datafile_chain2_iter100"]
    for name in listing["dataset"]:
        pd.testing.assert_frame_equal(a[f"Imputation_Model_{name}"], b[f"Imputation_Model_{name}"])


def test_nchains_sets_the_imputation_chains(tutmiss):
    res = RunStatJR("2LevelImpute", tutmiss, SMALL, {"seed": 11, "nchains": 1, "diagnostics": False})
    listing = res["Imputation_Model_ImputedDatasets"]
    assert list(listing["dataset"]) == [f"impute_datafile_chain0_iter{i}" for i in (100, 110, 120)]


@pytest.mark.parametrize("key", ["burnin", "iterations"])
def test_mcmc_lengths_in_estoptions_are_not_silently_ignored(tutmiss, key):
    with pytest.raises(InputError, match=f"estoptions '{key}'.*move it to invars"):
        RunStatJR("2LevelImpute", tutmiss, SMALL, {key: 1000})
