"""Stata labels travel (issue #17, item 6): from a .dta, through a run, into the outputs.

A labelled copy of the bundled tutmiss data is written with pyreadstat itself
(not statjr-py's writer), run through ImputeModel, 2LevelImpute and
1LevelMod briefly, and the saved .dta outputs are read back with pyreadstat:
the variable and value labels must be those of the original columns and the
imputed categories must use the labelled codes.  The label texts are the MLwiN
tutorial's codings (schgend 1 = mixed, 2 = boys, 3 = girls; tutmiss's
schgendmiss recodes them 0, 1, 2, which the cross-tabulation below confirms).
"""
import html
import zipfile

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from statjr_py import DataWarning, RunStatJR, load_dataset
from statjr_py.examples import WORKED_EXAMPLE, WORKED_IMPUTATION
from statjr_py.stata import LABELS_KEY, Labels, dta_bytes, labels_of, with_labels

VARIABLE_LABELS = {"schgendmiss": "School gender (with missing values)",
                   "standlrtmiss": "London Reading Test at 11 (with missing values)",
                   "normexam": "Exam score at 16, normalised"}
VALUE_LABELS = {"schgendmiss": {0: "mixed", 1: "boys", 2: "girls"},
                "vrband": {1: "top 25%", 2: "middle 50%", 3: "bottom 25%"},
                "girlmiss": {0: "boy", 1: "girl"}}
SHORT = {"impute1st": "60", "imputeevery": "10", "numimpute": "2"}
OPTS = {"seed": 5, "nchains": 2, "processes": 1, "diagnostics": False, "check_convergence": False}


@pytest.fixture(scope="module")
def labelled(tmp_path_factory, tutmiss):
    # schgendmiss's codes are schgend's less one: 0 is mixed (schgend 1), as labelled
    both = tutmiss.dropna(subset=["schgendmiss"])
    assert (both["schgendmiss"] == both["schgend"] - 1).all()
    path = tmp_path_factory.mktemp("labels") / "tutlab.dta"
    frame = tutmiss.copy()
    frame.attrs = {}
    pyreadstat.write_dta(frame, str(path),
                         column_labels=[VARIABLE_LABELS.get(c) for c in frame.columns],
                         variable_value_labels=VALUE_LABELS)
    return path


def read_back(data: bytes, tmp_path, name="x.dta"):
    spot = tmp_path / name
    spot.write_bytes(data)
    return pyreadstat.read_dta(str(spot))


def check_dta_labels(frame, meta, original):
    """Labels of every column present are the original's; codes of labelled columns are labelled ones."""
    for col in frame.columns:
        assert meta.column_names_to_labels[col] == VARIABLE_LABELS.get(col), col
        if col in VALUE_LABELS:
            assert meta.variable_value_labels[col] == VALUE_LABELS[col], col
            codes = set(frame[col].dropna().unique())
            assert codes <= set(VALUE_LABELS[col]), (col, codes)
        else:
            assert col not in meta.variable_value_labels
    if original is not None:
        assert list(frame.columns) == list(original.columns)


def test_dta_labels_are_read_and_kept_with_the_frame(labelled):
    data = load_dataset(labelled)
    assert data.labels.variables == VARIABLE_LABELS
    assert data.labels.values == {k: {float(c): t for c, t in v.items()} for k, v in VALUE_LABELS.items()}
    again = load_dataset(data.frame)  # a frame passed on keeps them, the caller's untouched
    assert again.labels == data.labels and again.frame is not data.frame


def test_bundled_data_carry_the_mlwin_labels(tutmiss):
    """datasets/build_datasets.py labels the bundled data; a dummy's row reads its category."""
    labels = labels_of(tutmiss)
    assert labels.values["schgendmiss"] == {0: "mixed", 1: "boys", 2: "girls"}
    res = RunStatJR("1LevelMod", tutmiss, {"y": "normexam", "D": "Normal", "x": "cons,schgend.cat"},
                    {"burnin": 10, "iterations": 20, "nchains": 1, "check_convergence": False})
    table = res["ModelResults"].set_index("term")
    assert table.loc["schgend_1", "label"] == "mixed" and table.loc["schgend_2", "label"] == "boys"


def test_unlabelled_data_leave_tables_as_they_were(tutmiss):
    tutmiss = tutmiss.copy()
    tutmiss.attrs = {}  # the bundled copy is labelled (datasets/build_datasets.py)
    res = RunStatJR("1LevelMod", tutmiss, {"y": "normexam", "D": "Normal", "x": "cons,vrband.cat"},
                    {"burnin": 10, "iterations": 20, "nchains": 1, "check_convergence": False})
    assert "label" not in res["ModelResults"].columns
    assert list(res["ModelParameters"].columns) == ["term", "kind", "mean", "sd"]


@pytest.fixture(scope="module")
def imputed(labelled):
    return RunStatJR("ImputeModel", str(labelled), {**WORKED_IMPUTATION, **SHORT}, OPTS)


def test_imputed_dta_files_carry_the_labels(imputed, labelled, tmp_path):
    original, _ = pyreadstat.read_dta(str(labelled))
    listing = imputed["ImputedDatasets"]
    assert len(listing) >= 2
    for name in listing["dataset"]:
        frame, meta = read_back(dta_bytes(imputed[name]), tmp_path)
        check_dta_labels(frame, meta, original)
        assert frame["schgendmiss"].notna().all() and frame["girlmiss"].notna().all()
        # observed cells are the original's, imputed ones are labelled codes
        obs = original["schgendmiss"].notna()
        assert (frame.loc[obs, "schgendmiss"] == original.loc[obs, "schgendmiss"]).all()
        l2, meta2 = read_back(dta_bytes(imputed[name.replace("datafile", "L2Data")]), tmp_path)
        check_dta_labels(l2, meta2, None)
        assert list(l2.columns) == ["school", "schgendmiss"]


def test_flong_dta_carries_the_labels_for_mi_import(imputed, labelled, tmp_path):
    """impute_flong.dta: _imp and _id for mi import flong, the data's labels kept."""
    original, _ = pyreadstat.read_dta(str(labelled))
    frame, meta = read_back(dta_bytes(imputed["impute_flong"]), tmp_path)
    assert list(frame.columns[:2]) == ["_imp", "_id"]
    check_dta_labels(frame.drop(columns=["_imp", "_id"]), meta, original)
    m0 = frame[frame["_imp"] == 0].drop(columns=["_imp", "_id"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(m0, original[m0.columns].reset_index(drop=True), check_dtype=False)


def test_saved_folder_and_zip_carry_the_labels(imputed, labelled, tmp_path):
    original, _ = pyreadstat.read_dta(str(labelled))
    files = imputed.save(tmp_path / "out")
    dtas = [p for p in files if p.suffix == ".dta"]
    assert len(dtas) == 2 * len(imputed["ImputedDatasets"]) + 1  # and impute_flong
    for path in dtas:
        frame, meta = pyreadstat.read_dta(str(path))
        check_dta_labels(frame, meta, original if "datafile" in path.name else None)
    imputed.to_zip(tmp_path / "out.zip")
    with zipfile.ZipFile(tmp_path / "out.zip") as z:
        name = imputed.filename(imputed["ImputedDatasets"]["dataset"].iloc[0])
        frame, meta = read_back(z.read(name), tmp_path)
    check_dta_labels(frame, meta, original)


def test_imputation_model_table_labels_its_category_terms(imputed):
    table = imputed["ModelResults"].set_index("term")
    assert list(imputed["ModelResults"].columns[:2]) == ["term", "label"]
    assert table.loc["gamma(schgendmiss_0,cons)", "label"] == "gamma(mixed,cons)"
    assert table.loc["beta(standlrtmiss,vrband_2)", "label"] == "beta(standlrtmiss,middle 50%)"
    assert table.loc["omega_u(normexam,schgendmiss_1)", "label"] == "omega_u(normexam,boys)"
    assert table.loc["beta(normexam,cons)", "label"] == ""
    assert imputed["ModelParameters"].set_index("term").loc["gamma(schgendmiss_0,cons)", "label"] \
        == "gamma(mixed,cons)"


@pytest.fixture(scope="module")
def pooled(labelled):
    invars = {**WORKED_EXAMPLE, **SHORT, "burnin": "20", "iterations": "60"}
    return RunStatJR("2LevelImpute", str(labelled), invars, OPTS)


def test_2levelimpute_tables_read_the_value_labels(pooled):
    for name in ("ResultsTable:Imputation", "ResultsTable:CompleteCases", "CombinedResults",
                 "Model1_ModelResults", "Model2_ModelParameters", "CompleteCasesModel_ModelResults"):
        table = pooled[name]
        assert list(table.columns[:2]) == ["term", "label"], name
        labels = dict(zip(table["term"], table["label"]))
        assert labels["schgendmiss_0"] == "mixed" and labels["schgendmiss_1"] == "boys", name
        assert labels["standlrtmiss"] == VARIABLE_LABELS["standlrtmiss"], name
        assert labels["cons"] == "" and labels["girlmiss"] == "", name
    tests = pooled["ResultsTable:Tests"]
    assert list(tests.columns[:3]) == ["test", "terms", "label"]
    assert set(tests["label"]) == {"mixed+boys"}


def test_2levelimpute_imputed_dta_files_carry_the_labels(pooled, labelled, tmp_path):
    original, _ = pyreadstat.read_dta(str(labelled))
    names = [n for n in pooled if pooled.kind(n) == "dataset"]
    assert any(n.startswith("Imputation_Model_impute_datafile") for n in names)
    for name in names:
        frame, meta = read_back(dta_bytes(pooled[name]), tmp_path)
        check_dta_labels(frame, meta, original if "datafile" in name else None)


def test_labels_of_a_dataframe_and_the_callers_frame_untouched(tutmiss):
    tutmiss = tutmiss.copy()
    tutmiss.attrs = {}  # the bundled copy is labelled (datasets/build_datasets.py)
    frame = with_labels(tutmiss, values={"vrband": {1: "top", 2: "middle", 3: "bottom"}},
                        variables={"vrband": "verbal reasoning band"})
    assert LABELS_KEY not in tutmiss.attrs  # with_labels copies
    before = frame.copy(deep=True)
    res = RunStatJR("1LevelMod", frame, {"y": "normexam", "D": "Normal", "x": "cons,vrband.cat"},
                    {"burnin": 10, "iterations": 20, "nchains": 1, "check_convergence": False})
    pd.testing.assert_frame_equal(frame, before)
    assert labels_of(frame) == labels_of(before)
    table = dict(zip(res["ModelResults"]["term"], res["ModelResults"]["label"]))
    assert table["vrband_1"] == "top" and table["vrband_2"] == "middle" and table["cons"] == ""


HOSTILE = "</td><script>alert(1)</script> */ #include <x> \\end{document} $\\x$ {{ 1 }}"


def test_hostile_label_texts_stay_out_of_code_and_are_escaped(tutmiss):
    from statjr_py.interop import results_html

    frame = with_labels(tutmiss, values={"vrband": {1: HOSTILE, 2: "b", 3: "c"}},
                        variables={"normexam": HOSTILE, "standlrt": HOSTILE})
    res = RunStatJR("1LevelMod", frame, {"y": "normexam", "D": "Normal", "x": "cons,standlrt,vrband.cat"},
                    {"burnin": 10, "iterations": 20, "nchains": 1, "check_convergence": False})
    labels = dict(zip(res["ModelResults"]["term"], res["ModelResults"]["label"]))
    assert labels["vrband_1"] == HOSTILE and labels["standlrt"] == HOSTILE
    for name in res:
        if res.kind(name) in ("cpp", "tex", "python", "text"):
            assert "alert(1)" not in str(res[name]), name
    page = results_html(res)
    assert "<script>alert(1)" not in page and html.escape(HOSTILE) in page


def test_label_texts_stata_cannot_hold_are_made_fit(tmp_path):
    long_value = "v" * 40000
    frame = with_labels(pd.DataFrame({"a": [0, 1, 2], "t": ["x", "y", "z"], "r": [0.5, 1.0, 2.0]}),
                        variables={"a": "nul\x00inside " + "w" * 100},
                        values={"a": {0: long_value, 1: "one", 2.5: "half"}, "t": {1: "text"},
                                "r": {1: "one"}})
    with pytest.warns(DataWarning) as caught:
        data = dta_bytes(frame)
    said = " ".join(str(w.message) for w in caught)
    assert "'a': 1 value labels of codes that are not whole numbers" in said
    assert "'t' is written as text: its value labels are left out" in said
    back, meta = read_back(data, tmp_path)
    assert meta.column_names_to_labels["a"] == ("nul\ufffdinside " + "w" * 100)[:80]
    assert meta.variable_value_labels["a"] == {0: "v" * 32000, 1: "one"}
    assert meta.variable_value_labels["r"] == {1: "one"}
    assert "t" not in meta.variable_value_labels
    assert list(back["a"]) == [0, 1, 2]


def test_renamed_columns_keep_their_own_labels(tmp_path):
    frame = with_labels(pd.DataFrame({"my var": [0, 1], "other var": [1.0, 2.0]}),
                        variables={"my var": "my own label"}, values={"my var": {0: "no", 1: "yes"}})
    with pytest.warns(DataWarning, match="renamed"):
        data = dta_bytes(frame)
    back, meta = read_back(data, tmp_path)
    assert list(back.columns) == ["my_var", "other_var"]
    assert meta.column_names_to_labels == {"my_var": "my own label", "other_var": "other var"}
    assert meta.variable_value_labels == {"my_var": {0: "no", 1: "yes"}}


def test_describe_matches_whole_dummy_names_only():
    labels = Labels({"x": "the x", "v": "band"}, {"v": {1: "one", 10: "ten", 2.5: "odd"},
                                                   "x_1": {}, "w": {1: "w one"}})
    terms = ["v_1", "v_10", "v_2.5", "v_1x", "beta(y,v_10)", "MOI:v_1", "x", "w_1", "cons", "v"]
    got = labels.describe(terms, columns=["v", "x", "w", "w_1"])
    # w_1 is a column of its own, so it is not w's dummy; v is a variable without .cat
    assert got == ["one", "ten", "odd", "", "beta(y,ten)", "MOI:one", "the x", "", "", "band"]
    with pytest.raises(Exception, match="not a finite number"):
        Labels(values={"v": {"a": "text code"}})
    assert not Labels() and not labels.restricted(["y"])
    assert labels.restricted(["v"]).values == {"v": {1.0: "one", 10.0: "ten", 2.5: "odd"}}


def test_labels_survive_pickling_for_other_processes(labelled):
    import pickle

    frame = load_dataset(labelled).frame
    again = pickle.loads(pickle.dumps(frame))
    assert labels_of(again) == labels_of(frame) and labels_of(again)


def test_labels_are_shared_not_copied_and_hold_no_nul():
    """pandas deep-copies attrs on most operations: a Labels is immutable and
    shared, so thousands of labels cost nothing per copy (a run had become 3x
    slower); and a NUL, which ends a text in Stata and stops R's read.csv,
    becomes U+FFFD in every sink, the label column of a table included."""
    import copy

    frame = pd.DataFrame({"y": np.arange(6.0), "g": [0, 1, 0, 1, 0, 1], "cons": 1.0})
    many = {"g": {0: "a\x00b", 1: "one"}, "y": {float(i): f"value {i}" for i in range(5000)}}
    labelled = with_labels(frame, values=many)
    labels = labels_of(labelled)
    assert copy.deepcopy(labels) is labels and labels_of(labelled.copy(deep=True)) is labels
    assert labels.values["g"][0.0] == "a\ufffdb"
    res = RunStatJR("1LevelMod", labelled, {"y": "y", "D": "Normal", "x": "cons,g.cat"},
                    {"burnin": 10, "iterations": 20, "nchains": 1, "check_convergence": False})
    assert "\x00" not in res["ModelResults"].to_csv()
    assert "a\ufffdb" in set(res["ModelResults"]["label"])


def _pyreadstat_bytes(frame, tmp_path):
    """What dta_bytes wrote before its numeric fast path: pyreadstat's own file of the safe frame."""
    from statjr_py.stata import _stata_safe

    safe, labels, values = _stata_safe(frame, "test")
    path = tmp_path / "reference.dta"
    pyreadstat.write_dta(safe, str(path), column_labels=labels, variable_value_labels=values or None)
    return path.read_bytes()


def _without_timestamp(data: bytes) -> bytes:
    import re

    return re.sub(rb"<timestamp>.*?</timestamp>", b"<timestamp/>", data, count=1, flags=re.S)


@pytest.mark.parametrize("seed", range(6))
def test_numeric_dta_is_pyreadstats_file_byte_for_byte(seed, tmp_path):
    # dta_bytes lays out float64/int64 frames itself (pyreadstat wrote them value by value);
    # the file must be pyreadstat 1.3's, byte for byte, but for the minute it was written.
    from statjr_py.stata import _numeric_dta, _stata_safe

    rng = np.random.default_rng(seed)
    rows = int(rng.integers(1, 60))
    frame = pd.DataFrame({"score": rng.normal(size=rows) * 1e3, "school": rng.integers(1, 65, rows),
                          "tiny": rng.normal(size=rows) * 1e-300,
                          "a_long_name_of_thirty_chars_xx": rng.integers(-9, 9, rows)})
    frame.loc[rng.random(rows) < 0.2, "score"] = np.nan
    frame.loc[rng.random(rows) < 0.2, "tiny"] = -0.0
    frame = with_labels(frame, variables={"score": "Exam score, étoile ☆", "school": "x" * 80},
                        values={"school": {3: "three", 1: "one", 2: ""},
                                "a_long_name_of_thirty_chars_xx": {-1: "minus"}})
    assert _numeric_dta(*_stata_safe(frame, "test")) is not None  # the fast path was taken
    assert _without_timestamp(dta_bytes(frame)) == _without_timestamp(_pyreadstat_bytes(frame, tmp_path))
    back, meta = pyreadstat.read_dta(_write(tmp_path / "fast.dta", dta_bytes(frame)))
    assert np.array_equal(back["score"].to_numpy(), frame["score"].to_numpy(), equal_nan=True)
    assert meta.variable_value_labels["school"] == {1: "one", 2: "", 3: "three"}


def _write(path, data):
    path.write_bytes(data)
    return str(path)


def test_text_columns_still_go_through_pyreadstat(tmp_path):
    from statjr_py.stata import _numeric_dta, _stata_safe

    frame = pd.DataFrame({"id": ["a", "b"], "y": [1.0, np.nan]})
    assert _numeric_dta(*_stata_safe(frame, "test")) is None
    back, _ = pyreadstat.read_dta(_write(tmp_path / "t.dta", dta_bytes(frame)))
    assert back["id"].tolist() == ["a", "b"]


@pytest.mark.parametrize("frame", [
    pd.DataFrame({"y": [1.0, np.inf]}),                       # out of Stata's range: written as missing
    pd.DataFrame({"id": np.array([2 ** 60, 1], dtype=np.int64)}),  # beyond 2**53: written as text
    pd.DataFrame({"bad name": [1.0, 2.0]}),                   # renamed
    with_labels(pd.DataFrame({"y": [1.0, 2.0]}), values={"y": {1.5: "half"}}),  # label of a non-integer
], ids=["infinite", "huge integer", "illegal name", "fractional code"])
def test_frames_stata_cannot_hold_as_they_are_still_warn(frame, tmp_path):
    # the numeric fast paths must leave every conversion, and its warning, to _stata_safe
    with pytest.warns(DataWarning):
        data = dta_bytes(frame)
    back, _ = pyreadstat.read_dta(_write(tmp_path / "w.dta", data))
    assert len(back) == 2


def test_value_labels_of_a_32_character_name_are_written_or_said_to_be_left_out(tmp_path):
    # pyreadstat names a label set after its variable and a counter; with a
    # 32-character name that is 33 characters, which Stata refuses
    import warnings

    import pyreadstat

    from statjr_py import DataWarning
    from statjr_py.stata import Labels, dta_bytes, with_labels

    name = "a" * 32
    frame = with_labels(pd.DataFrame({name: [0.0, 1.0, 1.0], "b": [1.0, 2.0, 3.0]}),
                        Labels(values={name: {0: "no", 1: "yes"}}))
    path = tmp_path / "numbers.dta"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # all numbers: written whole, no warning
        path.write_bytes(dta_bytes(frame))
    _, meta = pyreadstat.read_dta(str(path))
    assert meta.variable_value_labels == {name: {0: "no", 1: "yes"}}
    assert len(meta.variable_to_label[name]) <= 32

    frame = with_labels(frame.assign(t=["x", "y", "z"]), Labels(values={name: {0: "no", 1: "yes"}}))
    path = tmp_path / "with_text.dta"
    with pytest.warns(DataWarning, match="value labels of 'a{32}' are left out"):
        path.write_bytes(dta_bytes(frame))
    data, meta = pyreadstat.read_dta(str(path))
    assert list(data[name]) == [0.0, 1.0, 1.0] and meta.variable_value_labels == {}
