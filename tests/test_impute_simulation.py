"""ImputeModel recovers known parameters, with either algorithm.

Data: tests/impute_sim.py, all four response types at level 1 and Normal,
Binary and Unordered at level 2, 20% of values missing at random (depending
on the fully observed x, x2), 150 schools of 20 pupils, seed 1.

Recovery: each of the 70 parameters must satisfy
|posterior mean - truth| < 3.8 sqrt(sd^2 + MCSE^2).  Under a calibrated
posterior a single parameter misses with probability 1.4e-4, so the whole
test fails by chance with probability about 1% (Bonferroni over 70).

Same posterior: the conditional and the marginal algorithm agree for every
parameter within 3.8 sqrt(MCSE_1^2 + MCSE_2^2), again a family-wise 1%.
"""
import numpy as np
import pytest

from statjr_py import RunStatJR

import impute_sim as sim

Z = 3.8
OPTS = {"diagnostics": False, "seed": 5, "processes": 2}


@pytest.fixture(scope="module")
def data():
    return sim.simulate(1)[1]


@pytest.fixture(scope="module")
def fits(data):
    out = {}
    for cm in ("Yes", "No"):
        res = RunStatJR("ImputeModel", data, {**sim.INVARS, "condmarg": cm, "numimpute": "2",
                                              "impute1st": "6000", "imputeevery": "10"}, OPTS)
        out[cm] = res["ModelResults"].set_index("term")
    return out


@pytest.mark.parametrize("cm", ["Yes", "No"])
def test_recovers_known_parameters(fits, cm):
    table, truth = fits[cm], sim.truth()
    assert set(table.index) == set(truth), "parameter names differ from the simulation's"
    assert (table["rhat"] < 1.1).all(), table.loc[table["rhat"] >= 1.1, "rhat"]
    for term, value in truth.items():
        row = table.loc[term]
        assert abs(row["mean"] - value) < Z * np.hypot(row["sd"], row["mcse"]), (term, row["mean"], value)


def test_conditional_and_marginal_agree(fits):
    a, b = fits["Yes"], fits["No"]
    for term in a.index:
        diff = abs(a.loc[term, "mean"] - b.loc[term, "mean"])
        assert diff < Z * np.hypot(a.loc[term, "mcse"], b.loc[term, "mcse"]), term


def test_imputations_of_simulated_data(data):
    res = RunStatJR("ImputeModel", data, {**sim.INVARS, "numimpute": "2", "impute1st": "200",
                                          "imputeevery": "20"}, OPTS)
    for name in res["ImputedDatasets"]["dataset"]:
        d = res[name]
        assert set(d["y_bin"].unique()) <= {0.0, 1.0}
        assert set(d["y_ord"].unique()) <= {0.0, 1.0, 2.0}
        assert set(d["y_cat"].unique()) <= {0.0, 1.0, 2.0}
        assert (d.groupby("school")[["w_norm", "w_bin", "w_cat"]].nunique() == 1).all().all()
        assert d.notna().all().all()
