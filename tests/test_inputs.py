"""Validation of invars, estoptions, templates and datasets."""
import numpy as np
import pandas as pd
import pytest

from statjr_py import InputError, RunStatJR
from statjr_py.engine import prepare
from statjr_py.inputs import Integer, Text, VariableList, YesNo, next_question
from statjr_py.registry import get_template

OK = {"y": "normexam", "D": "Normal", "x": "cons,standlrt"}
SMALL = {"burnin": 10, "iterations": 20, "nchains": 1}


def test_native_python_values_are_accepted():
    job = prepare("1LevelMod", "tutorial", {"y": "normexam", "D": "normal", "x": ["cons", "standlrt"]})
    assert job.answers.strings == {"y": "normexam", "D": "Normal", "x": "cons,standlrt"}


def test_template_names_match_case_insensitively():
    assert get_template("1levelMOD").name == "1LevelMod"


def test_unknown_template_lists_known_ones():
    with pytest.raises(InputError, match="1LevelMod") as info:
        get_template("1LevelMud")
    assert "did you mean '1LevelMod'" in str(info.value)


def test_unknown_key():
    with pytest.raises(InputError, match="'z'.*does not ask"):
        prepare("1LevelMod", "tutorial", {**OK, "z": "1"})


def test_missing_answer_names_question():
    with pytest.raises(InputError, match="input 'x' is missing.*Explanatory variables"):
        prepare("1LevelMod", "tutorial", {"y": "normexam", "D": "Normal"})


def test_value_outside_choices():
    with pytest.raises(InputError, match="'D' = 'Gaussian'.*choose one of 'Normal'"):
        prepare("1LevelMod", "tutorial", {**OK, "D": "Gaussian"})


def test_unknown_variable_suggests_close_match():
    with pytest.raises(InputError, match="did you mean 'standlrt'"):
        prepare("1LevelMod", "tutorial", {**OK, "x": "cons,standrt"})


def test_non_numeric_and_bad_estoptions():
    with pytest.raises(InputError, match="'burnin' = 'lots'.*not a number"):
        prepare("1LevelMod", "tutorial", OK, {"burnin": "lots"})
    with pytest.raises(InputError, match="'iterations' = 0"):
        prepare("1LevelMod", "tutorial", OK, {"iterations": 0})
    with pytest.raises(InputError, match="'chains'.*unknown option.*did you mean 'nchains'"):
        prepare("1LevelMod", "tutorial", OK, {"chains": 2})


def test_integer_question_parsing():
    q = Integer("numimpute", "Number of imputed data sets:", minimum=1)
    assert q.parse("4", []) == 4 and q.parse(4.0, []) == 4
    for bad in ["four", "2.5", "0", True]:
        with pytest.raises(InputError, match="'numimpute'"):
            q.parse(bad, [])


def test_yes_no_and_varlist_parsing():
    assert YesNo("a", "?").parse("Yes", []) is True and YesNo("a", "?").parse(False, []) is False
    with pytest.raises(InputError, match="'Yes' or 'No'"):
        YesNo("a", "?").parse("maybe", [])
    v = VariableList("x", "?").parse("cons, vrband.cat", ["vrband"])
    assert [str(x) for x in v] == ["cons", "vrband.cat"]
    with pytest.raises(InputError, match="listed twice"):
        VariableList("x", "?").parse("vrband,vrband", ["vrband"])
    with pytest.raises(InputError, match="cannot be categorical"):
        VariableList("x", "?", allow_cat=False).parse("vrband.cat", ["vrband"])


def test_next_question_follows_dependencies():
    def inputs(ask):
        d = ask(Text("D", "Distribution?", choices=["Normal", "Binomial"]))
        if d == "Binomial":
            ask(Text("link", "Link?", choices=["logit", "probit"]))
        ask(Integer("n", "How many?"))

    answers, q = next_question(inputs, {}, [])
    assert q.key == "D"
    answers, q = next_question(inputs, {"D": "Binomial"}, [])
    assert q.key == "link"
    answers, q = next_question(inputs, {"D": "Normal"}, [])
    assert q.key == "n"
    answers, q = next_question(inputs, {"D": "Normal", "n": "3"}, [])
    assert q is None and answers["n"] == 3


def test_callers_dataframe_is_never_changed(tutorial):
    frame = tutorial.copy()
    frame.loc[0, "standlrt"] = np.nan  # forces listwise deletion inside the template
    before = frame.copy(deep=True)
    RunStatJR("1LevelMod", frame, OK, SMALL)
    pd.testing.assert_frame_equal(frame, before)


def test_datasets_from_paths(tmp_path, tutorial):
    csv = tmp_path / "t.csv"
    tutorial.head(200).to_csv(csv, index=False)
    txt = tmp_path / "t.txt"
    tutorial.head(200).to_csv(txt, index=False, sep=" ")
    a = RunStatJR("1LevelMod", str(csv), OK, SMALL)["ModelResults"]
    b = RunStatJR("1LevelMod", str(txt), OK, SMALL)["ModelResults"]
    pd.testing.assert_frame_equal(a, b)
    assert "dataset='" + str(csv) + "'" in RunStatJR("1LevelMod", str(csv), OK, SMALL)["script.py"]


def test_unknown_dataset():
    with pytest.raises(InputError, match="did you mean 'tutorial'"):
        prepare("1LevelMod", "tutorail", OK)


def test_unreadable_dataset(tmp_path):
    bad = tmp_path / "bad.dta"
    bad.write_text("not stata")
    with pytest.raises(InputError, match="could not be read"):
        prepare("1LevelMod", str(bad), OK)


def test_collinear_design(tutorial):
    frame = tutorial.assign(one=1.0)
    with pytest.raises(InputError, match="collinear"):
        RunStatJR("1LevelMod", frame, {**OK, "x": "cons,one"}, SMALL)


def test_answers_are_checked_against_the_data_as_they_are_given(tutmiss):
    """The CLI and the web page walk the questions after each answer: a predictor with
    missing values, or a category count that does not fit the codes, is refused at once,
    before later questions are answered."""
    tmpl = get_template("ImputeModel")
    cols = list(tutmiss.columns)
    partial = {"numlevs": "Yes", "L2ID": "school", "yimp1": "normexam", "bin1_1": "Normal",
               "ximp1_0": "cons,standlrtmiss"}
    with pytest.raises(InputError, match="'ximp1_0': explanatory variable 'standlrtmiss' has missing"):
        next_question(tmpl.inputs, partial, cols, tutmiss)
    partial = {"numlevs": "Yes", "L2ID": "school", "yimp1": "normexam,schgendmiss",
               "bin1_1": "Normal", "bin1_2": "Unordered", "ncatsschgendmiss": "2"}
    with pytest.raises(InputError, match="'ncatsschgendmiss' = 2: .*has codes 0, 1, 2"):
        next_question(tmpl.inputs, partial, cols, tutmiss)
