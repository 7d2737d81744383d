"""Hostile outputs: whole-or-absent saving, safe file names, Stata-legal .dta files.

A folder written by ``Results.save`` holds one complete run or nothing, never
files of two runs mixed, never a file outside the folder; a zip is complete
or absent; a dataset output with names or values Stata cannot hold is still
written (renamed or converted, with a DataWarning) instead of stopping the
save half way.  Most cases build a ``Results`` by hand, so no sampler runs.
"""
import copy
import json
import pickle
import re
import zipfile

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from statjr_py import DataWarning, InputError, Results
from statjr_py.stata import dta_bytes

MANIFEST = ".statjr-manifest.json"
STATA_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,31}")
STATA_RESERVED = {"_all", "_b", "byte", "_coef", "_cons", "double", "float", "if", "in", "int",
                  "long", "_n", "_N", "_pi", "_pred", "_rc", "_skip", "strL", "using", "with"}


def make(*outputs) -> Results:
    """Results from (name, object[, kind]) tuples."""
    res = Results()
    for name, obj, *kind in outputs:
        res.add(name, obj, *kind)
    return res


def small() -> Results:
    table = pd.DataFrame({"term": ["cons", "standlrt"], "mean": [0.0, 0.6]})
    return make(("ModelResults", table), ("Inputs", "{'y': 'normexam'}", "text"),
                ("equation.tex", r"y_i = \beta_0", "tex"))


def entries(folder):
    return sorted(p.name for p in folder.iterdir())


def read_dta(data: bytes, tmp_path):
    path = tmp_path / "back.dta"
    path.write_bytes(data)
    return pyreadstat.read_dta(str(path))


# ---------------------------------------------------------------- __setitem__
def test_setitem_records_a_kind_so_save_works(tmp_path):
    res = small()
    res["notes"] = "written by hand"
    res["extra"] = pd.DataFrame({"a": [1, 2]})
    assert res.kind("notes") == "text" and res.kind("extra") == "table"
    res.save(tmp_path / "o")
    assert (tmp_path / "o" / "notes.txt").read_text() == "written by hand"
    assert (tmp_path / "o" / "extra.csv").is_file()
    # copies and pickles (dask ships Results between processes) keep every kind
    res.add("data", pd.DataFrame({"a": [1.0]}), "dataset")
    for twin in (copy.copy(res), copy.deepcopy(res), pickle.loads(pickle.dumps(res))):
        assert [twin.kind(n) for n in twin] == [res.kind(n) for n in res]
    assert res.kind("data") == "dataset"


def test_setitem_and_add_refuse_what_cannot_be_saved():
    res = Results()
    with pytest.raises(TypeError, match="output names are strings"):
        res[5] = "five"
    with pytest.raises(TypeError, match="'t'.*DataFrame"):
        res.add("t", "not a frame", "table")
    assert len(res) == 0


def test_merge_is_gone():
    assert not hasattr(Results, "merge")


# --------------------------------------------------------- hostile file names
HOSTILE_NAMES = [
    "a/b", "a\\b", "..", "../../escape", "/etc/passwd", "x\x00y", "n" * 10_000, ".hidden",
    "CON", "aux.txt", 'w<i>n:d"o|w?s*', "", " ", ".", "trailing. ", "tab\there\nnewline",
    "\udcff surrogate",
]


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=lambda n: repr(n)[:20])
def test_hostile_output_name_stays_inside_the_folder(name, tmp_path):
    res = small()
    res.add(name, "payload", "text")
    folder = tmp_path / "out" / "o"
    paths = res.save(folder)
    assert len(paths) == len(res)
    assert entries(tmp_path) == ["out"] and entries(tmp_path / "out") == ["o"]
    files = [f for f in entries(folder) if f != MANIFEST]
    assert len(files) == len(res)
    for f in files:
        assert not f.startswith(".") and not f.endswith((".", " "))
        assert len(f.encode()) <= 255
        assert not set(f) & set('/\\:*?"<>|\x00\n\t')
        assert f.split(".")[0].upper() not in {"CON", "PRN", "AUX", "NUL"}
    assert (folder / res.filename(name)).read_text() == "payload"
    # a mangled name is traced back to its output through the manifest
    manifest = json.loads((folder / MANIFEST).read_text())
    assert manifest["files"][res.filename(name)] == name
    with zipfile.ZipFile(res.to_zip(tmp_path / "all.zip")) as z:
        assert sorted(z.namelist()) == files


def test_names_that_clash_after_cleaning_get_distinct_files(tmp_path):
    res = make(("a:b", "1", "text"), ("a_b", "2", "text"), ("a/b", "3", "text"),
               ("ModelResults", "4", "text"), ("modelresults", "5", "text"),
               ("x" * 300, "6", "text"), ("x" * 301, "7", "text"), ("script.py", "8", "python"),
               ("script", "9", "python"))
    names = [res.filename(n) for n in res]
    assert len({n.casefold() for n in names}) == len(names)  # also on case-insensitive disks
    res.save(tmp_path / "o")
    assert sorted((tmp_path / "o" / res.filename(n)).read_text() for n in res) == list("123456789")


# ------------------------------------------------------- whole or absent saves
def test_save_writes_a_manifest_of_its_files(tmp_path):
    res = small()
    (tmp_path / "o").mkdir()  # an empty existing folder is fine
    res.save(tmp_path / "o")
    manifest = json.loads((tmp_path / "o" / MANIFEST).read_text())
    assert sorted(manifest["files"]) == sorted(res.filename(n) for n in res)
    assert manifest["statjr_py"] and manifest["written"]


def test_second_save_replaces_the_first_run_as_a_whole(tmp_path):
    small().save(tmp_path / "o")
    second = make(("ModelResults", pd.DataFrame({"term": ["x"]})), ("Other", "new", "text"))
    second.save(tmp_path / "o")
    assert entries(tmp_path / "o") == sorted([MANIFEST, "ModelResults.csv", "Other.txt"])
    assert entries(tmp_path) == ["o"]  # no temporary folders left beside it


def test_save_refuses_a_folder_with_foreign_files(tmp_path):
    folder = tmp_path / "thesis"
    folder.mkdir()
    (folder / "chapter1.docx").write_text("years of work")
    with pytest.raises(InputError, match=r"thesis.*chapter1\.docx.*overwrite"):
        small().save(folder)
    assert entries(folder) == ["chapter1.docx"]
    assert entries(tmp_path) == ["thesis"]


def test_save_refuses_an_earlier_run_with_extra_files(tmp_path):
    small().save(tmp_path / "o")
    (tmp_path / "o" / "my_notes.txt").write_text("mine")
    with pytest.raises(InputError, match="my_notes.txt"):
        small().save(tmp_path / "o")
    assert (tmp_path / "o" / "my_notes.txt").read_text() == "mine"


def test_overwrite_replaces_outputs_and_keeps_foreign_files(tmp_path):
    folder = tmp_path / "o"
    make(("Stale", "old", "text"), ("ModelResults", "old", "text")).save(folder)
    (folder / "data.csv").write_text("the user's data")
    (folder / "ModelResults.csv").write_text("old table")
    small().save(folder, overwrite=True)
    assert (folder / "data.csv").read_text() == "the user's data"
    assert not (folder / "Stale.txt").exists()  # the earlier run's file, not the user's
    assert (folder / "ModelResults.csv").read_text().startswith("term,mean")
    assert entries(tmp_path) == ["o"]


def test_overwrite_never_follows_symlinks_out_of_the_folder(tmp_path):
    outside = tmp_path / "precious.txt"
    outside.write_text("keep me")
    folder = tmp_path / "o"
    folder.mkdir()
    (folder / "Inputs.txt").symlink_to(outside)
    (folder / "other").symlink_to(tmp_path)
    small().save(folder, overwrite=True)
    assert outside.read_text() == "keep me"
    assert not (folder / "Inputs.txt").is_symlink()
    assert (folder / "Inputs.txt").read_text() == "{'y': 'normexam'}"
    assert entries(tmp_path) == ["o", "precious.txt"]


@pytest.mark.parametrize("earlier", [False, True], ids=["new folder", "over an earlier run"])
def test_failure_mid_save_leaves_nothing_behind(earlier, tmp_path, monkeypatch):
    folder = tmp_path / "o" if earlier else tmp_path / "new" / "o"  # parents made, then removed
    if earlier:
        make(("First", "first run", "text")).save(folder)
    before = {p.name: p.read_bytes() for p in folder.iterdir()} if earlier else None
    real = Results._bytes

    def failing(self, name):
        if name == "Inputs":
            raise RuntimeError("disk on fire")
        return real(self, name)

    monkeypatch.setattr(Results, "_bytes", failing)
    with pytest.raises(RuntimeError, match="disk on fire"):
        small().save(folder)
    assert entries(tmp_path) == (["o"] if earlier else [])
    if earlier:
        assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_save_under_a_regular_file_is_an_input_error(tmp_path):
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    with pytest.raises(InputError, match="afile.*not a folder"):
        small().save(blocker / "o")
    with pytest.raises(InputError, match="afile.*a file"):
        small().save(blocker)
    assert blocker.read_text() == "x" and entries(tmp_path) == ["afile"]


# ----------------------------------------------------------------------- zip
def test_failed_zip_leaves_the_earlier_zip_and_no_partial_file(tmp_path, monkeypatch):
    target = tmp_path / "all.zip"
    small().to_zip(target)
    before = target.read_bytes()
    real = Results._bytes

    def failing(self, name):
        if name == "equation.tex":
            raise RuntimeError("boom")
        return real(self, name)

    monkeypatch.setattr(Results, "_bytes", failing)
    with pytest.raises(RuntimeError, match="boom"):
        small().to_zip(target)
    assert target.read_bytes() == before
    assert entries(tmp_path) == ["all.zip"]
    with pytest.raises(RuntimeError):
        small().to_zip(tmp_path / "new.zip")
    assert entries(tmp_path) == ["all.zip"]


def test_zip_refuses_to_replace_a_file_that_is_not_a_zip(tmp_path):
    data = tmp_path / "mydata.csv"
    data.write_text("a,b\n1,2\n")
    with pytest.raises(InputError, match="mydata.csv.*not a zip"):
        small().to_zip(data)
    assert data.read_text() == "a,b\n1,2\n"
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    with pytest.raises(InputError, match="afile"):
        small().to_zip(blocker / "all.zip")


# --------------------------------------------------------------------- Stata
ILLEGAL = ["exam score", "1x", "a.b", "é", "a" * 40, "_n", "if", "str10", "", "日本",
           0, "x" * 33]


@pytest.mark.parametrize("column", ILLEGAL, ids=repr)
def test_stata_illegal_column_names_are_renamed_and_labelled(column, tmp_path):
    frame = pd.DataFrame({column: [1.0, 2.0], "ok": [3.0, 4.0]})
    with pytest.warns(DataWarning, match="renamed"):
        data = dta_bytes(frame)
    back, meta = read_dta(data, tmp_path)
    new = back.columns[0]
    assert STATA_NAME.fullmatch(new) and new not in STATA_RESERVED and new.isascii()
    assert list(back.columns[1:]) == ["ok"]
    assert (meta.column_labels[0] or "") == str(column)
    assert list(back[new]) == [1.0, 2.0]


def test_names_that_collide_after_cleaning_stay_distinct(tmp_path):
    frame = pd.DataFrame([[1.0, 2.0, 3.0, 4.0, 5.0]],
                         columns=["a b", "a_b", "a.b", "y" * 40, "y" * 41])
    with pytest.warns(DataWarning, match="'a b' -> "):
        back, meta = read_dta(dta_bytes(frame), tmp_path)
    assert back.columns[1] == "a_b"  # a legal name keeps its name
    assert len(set(back.columns)) == 5
    assert list(back.iloc[0]) == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert meta.column_labels[3] == "y" * 40


def test_duplicate_column_names_are_written(tmp_path):
    frame = pd.DataFrame([[1.0, 2.0]], columns=["a", "a"])
    with pytest.warns(DataWarning):
        back, _ = read_dta(dta_bytes(frame), tmp_path)
    assert len(set(back.columns)) == 2 and list(back.iloc[0]) == [1.0, 2.0]


def test_awkward_columns_are_converted_not_crashed_on(tmp_path):
    frame = pd.DataFrame({
        "mixed": [1, "x", None],
        "allnan": [None, None, None],
        "allnanf": [np.nan] * 3,
        "flag": [True, False, True],
        "flagna": [True, None, False],
        "essay": ["z" * 100_000, "short", None],
        "inf": [np.inf, -np.inf, 1.5],
        "huge": [1e308, 2.0, 3.0],
        "bigint": pd.Series([2 ** 70, 1, 2], dtype=object),
        "cat": pd.Categorical(["u", "v", "u"]),
    })
    with pytest.warns(DataWarning, match="inf"):
        back, _ = read_dta(dta_bytes(frame), tmp_path)
    assert list(back["mixed"]) == ["1", "x", ""]
    assert back["allnan"].isna().all() and back["allnanf"].isna().all()
    assert list(back["flag"]) == [1, 0, 1]
    assert back["flagna"].iloc[0] == 1 and pd.isna(back["flagna"].iloc[1])
    assert len(back["essay"].iloc[0]) == 100_000
    assert back["inf"].iloc[:2].isna().all() and back["inf"].iloc[2] == 1.5
    assert pd.isna(back["huge"].iloc[0]) and back["huge"].iloc[1] == 2.0
    assert back["bigint"].iloc[0] == pytest.approx(2.0 ** 70)
    assert list(back["cat"]) == ["u", "v", "u"]


def test_exam_score_dataset_does_not_stop_the_save_half_way(tmp_path):
    outputs = [(f"Table{i}", pd.DataFrame({"v": [i]})) for i in range(16)]
    outputs.insert(2, ("impute_datafile", pd.DataFrame({"exam score": [1.0], "1x": [2.0]}),
                       "dataset"))
    res = make(*outputs)
    with pytest.warns(DataWarning, match="impute_datafile.*'exam score'"):
        paths = res.save(tmp_path / "o")
    assert len(paths) == 17
    assert len([f for f in entries(tmp_path / "o") if f != MANIFEST]) == 17
    back, meta = pyreadstat.read_dta(str(tmp_path / "o" / "impute_datafile.dta"))
    assert meta.column_labels == ["exam score", "1x"]


def test_save_from_a_real_run_round_trips(tmp_path):
    from statjr_py import RunStatJR
    res = RunStatJR("1LevelMod", "tutorial", {"y": "normexam", "D": "Normal", "x": "cons,standlrt"},
                    {"burnin": 10, "iterations": 50, "nchains": 1, "diagnostics": False})
    res["my table"] = res["ModelResults"].rename(columns={"mean": "posterior mean"})
    res.save(tmp_path / "o")
    res.save(tmp_path / "o")  # a second run into the same folder replaces the first
    assert len(entries(tmp_path / "o")) == len(res) + 1
    assert (tmp_path / "o" / "my table.csv").is_file()
