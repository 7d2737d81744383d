"""Datasets in and outputs out, after the hostile review: text files that would load
shifted or renamed, paths no file system takes, identifiers that cannot be units, and
values a .dta would keep wrong without a word.
"""
import os
import warnings

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from statjr_py import DataWarning, InputError, Results
from statjr_py.cli import main
from statjr_py.datasets import level2_index, load_dataset
from statjr_py.results import check_output_folder, check_zip_path
from statjr_py.stata import dta_bytes


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def read_back(content: bytes, tmp_path):
    path = tmp_path / "back.dta"
    path.write_bytes(content)
    return pyreadstat.read_dta(str(path))[0]


# ------------------------------------------------ 5. rows longer than the header
@pytest.mark.parametrize("name, text, line", [
    ("ragged.csv", "y,x\n1,2,3,4\n5,6,7,8\n", 2),   # loaded as y=3, x=4 before
    ("later.csv", "y,x\n1,2\n3,4\n5,6,7\n", 4),
    ("comma.csv", "y,x\n1,2,\n5,6,7\n", 3),        # pandas kept 1,2 / 5,6 and dropped the 7
    ("ragged.txt", "y x\n1 2 3\n4 5 6\n", 2),
])
def test_a_row_longer_than_the_header_is_refused_naming_the_file_and_line(tmp_path, name, text, line):
    path = write(tmp_path, name, text)
    with pytest.raises(InputError, match=rf"dataset '.*{name}': line {line} has \d+ fields but the "
                                         r"header names 2 columns.*add their names to the header"):
        load_dataset(path)


def test_short_rows_get_missing_values_and_trailing_commas_pass(tmp_path):
    short = load_dataset(write(tmp_path, "short.csv", "y,x,z\n1,2\n3,4,5\n")).frame
    assert list(short.columns) == ["y", "x", "z"] and list(short["y"]) == [1, 3]
    assert pd.isna(short["z"].iloc[0]) and short["z"].iloc[1] == 5
    trailing = load_dataset(write(tmp_path, "trailing.csv", "y,x\n1,2,\n3,4,\n")).frame
    assert trailing.to_dict("list") == {"y": [1, 3], "x": [2, 4]}
    quoted = load_dataset(write(tmp_path, "quoted.csv", 'y,x\n"a,b",2\n3,4\n')).frame
    assert list(quoted["y"]) == ["a,b", "3"] and list(quoted["x"]) == [2, 4]


# ------------------------------------------------ 6. repeated header names
@pytest.mark.parametrize("name, text", [("dups.csv", "y,y,x\n1,2,3\n"), ("dups.txt", "y y x\n1 2 3\n")])
def test_a_repeated_header_name_is_refused_not_renamed(tmp_path, name, text):
    with pytest.raises(InputError, match=rf"dataset '.*{name}': column names 'y' appear more than once"):
        load_dataset(write(tmp_path, name, text))


# ------------------------------------------------ 7. paths no file system takes
LONG = "d" * 300


def results():
    res = Results()
    res.add("ModelResults", pd.DataFrame({"term": ["cons"], "mean": [0.0]}))
    return res


@pytest.mark.parametrize("call", [
    lambda tmp: results().save(tmp / LONG),
    lambda tmp: results().save(tmp / LONG / "inner"),
    lambda tmp: results().to_zip(tmp / (LONG + ".zip")),
    lambda tmp: check_output_folder(tmp / LONG, what="--out"),
    lambda tmp: check_zip_path(tmp / (LONG + ".zip"), what="--zip"),
    lambda tmp: load_dataset(str(tmp / LONG) + ".csv"),
    lambda tmp: results().save(os.path.join(str(tmp), *["e" * 200] * 25)),  # over PATH_MAX
    lambda tmp: results().to_zip(os.path.join(str(tmp), *["e" * 200] * 25) + ".zip"),
    lambda tmp: load_dataset(os.path.join(str(tmp), *["e" * 200] * 25) + ".csv"),
], ids=["save", "save-inner", "to_zip", "--out", "--zip", "dataset", "save-path-max", "zip-path-max",
        "dataset-path-max"])
def test_an_over_long_path_is_an_input_error(tmp_path, call):
    with pytest.raises(InputError, match=r"(longer than the 255|too long).*(shorter|nearer)"):
        call(tmp_path)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("call", [
    lambda tmp: results().save(str(tmp / "a\x00b")),
    lambda tmp: results().to_zip(str(tmp / "a\x00b.zip")),
    lambda tmp: check_output_folder(str(tmp / "a\x00b"), what="--out"),
    lambda tmp: load_dataset(str(tmp / "a\x00b.csv")),
], ids=["save", "to_zip", "--out", "dataset"])
def test_a_nul_in_a_path_is_an_input_error(tmp_path, call):
    with pytest.raises(InputError, match=r"a\\x00b.*NUL character.*remove it"):
        call(tmp_path)


@pytest.mark.parametrize("option", ["--out", "--zip", "--dataset"])
def test_the_cli_names_an_over_long_path_in_one_line(tmp_path, monkeypatch, capsys, option):
    ran = []
    monkeypatch.setattr("statjr_py.engine.RunStatJR", lambda *a, **k: ran.append(1) or results())
    monkeypatch.chdir(tmp_path)
    target = LONG + (".csv" if option == "--dataset" else ".zip" if option == "--zip" else "")
    args = ["run", "1LevelMod", "--dataset", "tutorial", "--invars",
            "{'y': 'normexam', 'D': 'Normal', 'x': 'cons,standlrt'}", "--no-input"]
    args = [target if a == "tutorial" and option == "--dataset" else a for a in args]
    if option != "--dataset":
        args += [option, target]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("statjr: error: ") and len(err.strip().splitlines()) == 1, err[:500]
    assert "longer than the 255" in err and "Traceback" not in err and ran == []


# ------------------------------------------------ 8. level-2 identifiers that cannot be units
def test_a_level2_id_holding_lists_is_an_input_error_naming_l2id():
    frame = pd.DataFrame({"school": [[1], [2], [1]], "y": [1.0, 2.0, 3.0]})
    with pytest.raises(InputError, match=r"input 'L2ID' = 'school'.*list"):
        level2_index(frame, "school")


# ------------------------------------------------ 9. values a .dta would keep wrong
def test_int64_beyond_2_53_is_written_exactly_and_said_so(tmp_path):
    ids = [2 ** 60, 2 ** 60 + 1, 2 ** 60 + 2]
    frame = pd.DataFrame({"pupil": np.array(ids, dtype="int64"), "y": [1.0, 2.0, 3.0],
                          "maybe": pd.array([2 ** 60, None, 1], dtype="Int64")})
    with pytest.warns(DataWarning, match=r"column 'pupil'.*beyond 2\*\*53.*text") as caught:
        back = read_back(dta_bytes(frame), tmp_path)
    assert "'maybe'" in str(caught[0].message)
    assert [int(v) for v in back["pupil"]] == ids  # three distinct units, as in the data
    assert list(back["maybe"]) == [str(2 ** 60), "", "1"] and list(back["y"]) == [1.0, 2.0, 3.0]


def test_int64_within_2_53_stays_numeric_without_a_warning(tmp_path):
    frame = pd.DataFrame({"id": np.array([2 ** 53, -2 ** 53, 7], dtype="int64")})
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)
        back = read_back(dta_bytes(frame), tmp_path)
    assert list(back["id"]) == [2.0 ** 53, -2.0 ** 53, 7.0]


def test_a_nul_inside_text_is_replaced_and_said_so(tmp_path):
    frame = pd.DataFrame({"note": ["before\x00after", "plain", None],
                          "kind": pd.Categorical(["a\x00", "b", "b"])})
    with pytest.warns(DataWarning, match=r"column 'note': 1 text values contain NUL.*U\+FFFD"):
        back = read_back(dta_bytes(frame), tmp_path)
    assert list(back["note"]) == ["before\ufffdafter", "plain", ""]
    assert list(back["kind"]) == ["a\ufffd", "b", "b"]


def test_int32_in_stata_s_missing_range_is_widened_not_refused(tmp_path):
    values = [-2 ** 31, 0, 2_147_483_621, 2 ** 31 - 1]
    frame = pd.DataFrame({"code": np.array(values, dtype="int32")})
    with pytest.warns(DataWarning, match=r"column 'code'.*range of Stata's long.*doubles"):
        back = read_back(dta_bytes(frame), tmp_path)
    assert list(back["code"]) == [float(v) for v in values]
