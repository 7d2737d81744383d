"""Structure at compile time, data at run time.

A generated sampler compiles in only the model's structure (numbers of
coefficients, response types, link); the numbers of rows, level-2 units and
missing values are read from the arrays.  So the same model on other data,
here tutmiss without five of its schools, renders the same C++ and compiles
nothing, and its results are those of the smaller data.
"""
import numpy as np
import pytest

from statjr_py import InputError, RunStatJR, build

FAST = {"burnin": 50, "iterations": 100, "nchains": 1, "seed": 2, "diagnostics": False}
#: The worked example's imputation model (README), with a short schedule.
IMPUTE = {"numlevs": "Yes", "L2ID": "school", "yimp1": "normexam,standlrtmiss,girlmiss",
          "bin1_1": "Normal", "bin1_2": "Normal", "bin1_3": "Binary", "ximp1_0": "cons",
          "ximp1_1": "cons,vrband.cat", "ximp1_2": "cons", "want2": "Yes", "yimp2": "schgendmiss",
          "bin2_1": "Unordered", "ncatsschgendmiss": "3", "ximp2_0_0": "cons", "ximp2_0_1": "cons",
          "condmarg": "Yes", "numimpute": "2", "impute1st": "20", "imputeevery": "5"}
CASES = {
    "ImputeModel": (IMPUTE, {"processes": 1, "seed": 2, "diagnostics": False}),
    "2LevelMod": ({"y": "normexam", "L2ID": "school", "D": "Normal", "x": "cons,standlrt,girl"}, FAST),
    "2LevelRS": ({"y": "normexam", "L2ID": "school", "x": "cons,standlrt,girl", "z": "cons,standlrt"},
                 FAST),
}


@pytest.fixture(scope="module")
def smaller(tutmiss):
    """tutmiss without its first five schools (60 schools, fewer rows and missing values)."""
    drop = np.sort(tutmiss["school"].unique())[:5]
    return tutmiss[~tutmiss["school"].isin(drop)].reset_index(drop=True)


@pytest.mark.parametrize("template", list(CASES))
def test_new_data_same_model_compiles_nothing(tutmiss, smaller, template):
    invars, opts = CASES[template]
    full = RunStatJR(template, tutmiss, invars, opts)
    before = build.compile_count()
    part = RunStatJR(template, smaller, invars, opts)
    assert build.compile_count() == before
    assert part[f"{template}.cpp"] == full[f"{template}.cpp"]
    # The results are the smaller data's: one residual row per remaining school,
    # every missing value of the remaining rows filled.
    if template == "ImputeModel":
        done = part["impute_datafile_chain0_iter20"]
        assert len(done) == len(smaller)
        for name in ("standlrtmiss", "girlmiss", "schgendmiss"):
            assert smaller[name].isna().any() and done[name].notna().all()
    else:
        assert len(part["ResidualsLevel2"]) == smaller["school"].nunique() == 60
        assert part["ModelFit"]["n"].iloc[0] == len(smaller)


def test_inconsistent_arrays_are_refused(tutorial):
    """Sizes come from the arrays, so the sampler checks them against each other."""
    from statjr_py.codegen import sampler_source
    from statjr_py.engine import prepare
    from statjr_py.run import Sampler

    job = prepare("2LevelMod", tutorial, CASES["2LevelMod"][0], FAST)
    spec = job.template.model(job.data, job.answers)
    module = build.build(sampler_source(job.template.cpp_file(), spec.context, spec.arrays,
                                        "2LevelMod"))
    Sampler(module, spec.arrays, 1).close()
    bad = dict(spec.arrays, start=spec.arrays["start"][:-1])  # the last unit's rows left over
    with pytest.raises(InputError, match="do not cover the rows"):
        Sampler(module, bad, 1)
    bad = dict(spec.arrays, X=spec.arrays["X"][:-1])
    with pytest.raises(InputError, match="X has"):
        Sampler(module, bad, 1)
