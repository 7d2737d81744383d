"""Outputs and input checks of the MOI templates."""
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from statjr_py import InputError, RunStatJR

RI = {"y": "normexam", "L2ID": "school", "D": "Normal", "x": "cons,standlrt"}
SMALL = {"burnin": 50, "iterations": 200, "nchains": 2, "seed": 1}


@pytest.fixture(scope="module")
def ri():
    return RunStatJR("2LevelMod", "tutorial", RI, SMALL)


def test_outputs_present(ri):
    for name in ["ModelResults", "ModelParameters", "ModelFit", "ResidualsLevel2", "out",
                 "2LevelMod.cpp", "equation.tex", "algorithm.tex", "script.py", "Inputs",
                 "cons.svg", "standlrt.svg", "sigma2_u.svg", "sigma2_e.svg"]:
        assert name in ri, name
    assert list(ri["ModelResults"]["term"]) == ["cons", "standlrt", "sigma2_u", "sigma2_e"]
    assert {"DIC", "pD", "Dbar", "D(thetabar)"} <= set(ri["ModelFit"].columns)
    # tutorial is labelled (datasets/build_datasets.py): a label column follows the term
    assert list(ri["ModelParameters"].columns) == ["term", "label", "kind", "mean", "sd"]


def test_svg_is_well_formed_with_six_panels(ri):
    text = str(ri["sigma2_u.svg"])
    root = ET.fromstring(text)
    assert root.tag.endswith("svg")
    for title in ["Trace", "Kernel density", "ACF", "PACF", "MCSE of the mean", "Brooks-Gelman-Rubin"]:
        assert title in text


def test_residual_table_covers_every_school(ri, tutorial):
    table = ri["ResidualsLevel2"]
    assert len(table) == tutorial["school"].nunique()
    assert list(table.columns) == ["school", "n", "u_cons_mean", "u_cons_sd"]
    assert table["n"].sum() == len(tutorial)
    assert (table["u_cons_sd"] > 0).all()


def test_chains_table(ri):
    out = ri["out"]
    assert list(out.columns[:2]) == ["chain", "iteration"]
    assert len(out) == 2 * 200 and out["iteration"].min() == 51


def test_save_and_zip_write_every_output(ri, tmp_path):
    paths = ri.save(tmp_path / "o")
    assert len(paths) == len(ri)
    assert (tmp_path / "o" / "sigma2_u.svg").is_file()
    assert (tmp_path / "o" / "2LevelMod.cpp").is_file()
    import zipfile
    z = ri.to_zip(tmp_path / "all.zip")
    assert len(zipfile.ZipFile(z).namelist()) == len(ri)


def test_one_chain_gets_the_rhat_of_its_halves():
    res = RunStatJR("2LevelMod", "tutorial", RI, {**SMALL, "nchains": 1, "diagnostics": False})
    assert res["ModelResults"]["rhat"].notna().all()
    assert not any(name.endswith(".svg") for name in res)


def test_binomial_response_out_of_range(tutorial):
    with pytest.raises(InputError, match="not allowed for a Binomial response"):
        RunStatJR("2LevelMod", tutorial, {**RI, "y": "vrband", "D": "Binomial"}, SMALL)


def test_poisson_response_negative(tutorial):
    with pytest.raises(InputError, match="non-negative whole numbers"):
        RunStatJR("1LevelMod", tutorial, {"y": "normexam", "D": "Poisson", "x": "cons"}, SMALL)


def test_link_only_asked_for_binomial():
    with pytest.raises(InputError, match="does not ask for 'link'"):
        RunStatJR("2LevelMod", "tutorial", {**RI, "link": "logit"}, SMALL)


def test_unknown_l2id():
    with pytest.raises(InputError, match="'L2ID' = 'schol'.*did you mean 'school'"):
        RunStatJR("2LevelMod", "tutorial", {**RI, "L2ID": "schol"}, SMALL)


def test_missing_values_are_left_out_with_a_warning(tutmiss):
    from statjr_py import DataWarning
    with pytest.warns(DataWarning, match="left out"):
        res = RunStatJR("2LevelMod", tutmiss, {**RI, "x": "cons,standlrtmiss"},
                        {**SMALL, "diagnostics": False})
    assert res["ModelFit"]["n"].iloc[0] == tutmiss["standlrtmiss"].notna().sum()


def test_normal_two_level_equals_rs_with_cons():
    # 2LevelRS with z = cons and 2LevelMod Normal are the same model and prior.
    opts = {"burnin": 500, "iterations": 3000, "nchains": 2, "seed": 9, "diagnostics": False}
    a = RunStatJR("2LevelMod", "tutorial", RI, opts)["ModelResults"].set_index("term")
    b = RunStatJR("2LevelRS", "tutorial", {**{k: v for k, v in RI.items() if k != "D"}, "z": "cons"},
                  opts)["ModelResults"].set_index("term")
    assert abs(a.loc["sigma2_u", "mean"] - b.loc["omega_u(cons,cons)", "mean"]) < \
        4 * np.hypot(a.loc["sigma2_u", "mcse"], b.loc["omega_u(cons,cons)", "mcse"])


@pytest.mark.parametrize("template, extra", [("2LevelMod", {"D": "Normal"}), ("2LevelRS", {"z": "cons,standlrt"})])
def test_fixed_effects_mix_as_one_block_with_the_random_effects(template, extra):
    # beta is drawn with u integrated out (cpp/statjr/twolevel.hpp).  Drawn
    # given u, the intercept's ESS on these data was about 5% of the draws
    # (750 of 15000); as one block it is close to the number of draws.
    inv = {"y": "normexam", "L2ID": "school", "x": "cons,standlrt,girl", **extra}
    opts = {"burnin": 500, "iterations": 3000, "nchains": 2, "seed": 3, "diagnostics": False}
    table = RunStatJR(template, "tutorial", inv, opts)["ModelResults"].set_index("term")
    for term in ("cons", "standlrt", "girl"):
        assert table.loc[term, "ess_bulk"] > 0.5 * 6000, (term, table.loc[term, "ess_bulk"])


def test_plots_are_drawn_when_first_needed(tmp_path):
    """A run lists its plots at once; each is drawn on first use (str, a notebook, save)."""
    from statjr_py import SVG
    res = RunStatJR("2LevelMod", "tutorial", RI, {**SMALL, "nchains": 2})
    svgs = [name for name in res if res.kind(name) == "svg"]
    assert svgs and all(isinstance(res[n], SVG) and not res[n].drawn for n in svgs)
    assert res[svgs[0]]._repr_svg_().lstrip().startswith("<?xml")
    assert res[svgs[0]].drawn and not res[svgs[1]].drawn
    res.save(tmp_path / "out")
    assert all(res[n].drawn for n in svgs)
    assert (tmp_path / "out" / svgs[1]).read_text() == str(res[svgs[1]])
