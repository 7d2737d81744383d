"""load_dataset against files that lie about their size and frames it cannot use.

The web server passes a memory cap (``max_bytes``); the Python API passes none,
so ordinary large datasets load as before, and only a file whose header claims
more data than the file could hold is refused, as corrupt.
"""
import struct
import time

import numpy as np
import pandas as pd
import pytest

from statjr_py import InputError, RunStatJR, load_dataset
from statjr_py.datasets import check_size


def crafted_dta(path, rows):
    """A real two-column Stata 118 file whose header claims ``rows`` observations."""
    import pyreadstat
    pyreadstat.write_dta(pd.DataFrame({"a": np.arange(5.0), "b": np.arange(5.0)}), str(path), version=14)
    raw = bytearray(path.read_bytes())
    at = raw.index(b"<N>") + 3  # Stata 118: 8-byte little-endian count after <N>
    raw[at:at + 8] = struct.pack("<Q", rows)
    path.write_bytes(bytes(raw))
    return path


@pytest.fixture
def no_full_dta_reads(monkeypatch):
    """Fail (inside the loader) if a .dta's data would be read, not just its header."""
    import pyreadstat
    real = pyreadstat.read_dta
    full = []

    def spy(path, *args, **kwargs):
        if not kwargs.get("metadataonly"):
            full.append(path)
            raise MemoryError("test: the data of this file must not be read")
        return real(path, *args, **kwargs)

    monkeypatch.setattr(pyreadstat, "read_dta", spy)
    return full


def test_a_dta_claiming_more_rows_than_it_holds_is_corrupt(tmp_path, no_full_dta_reads):
    path = crafted_dta(tmp_path / "liar.dta", 2_000_000_000)
    start = time.monotonic()
    with pytest.raises(InputError) as err:
        load_dataset(str(path))
    assert time.monotonic() - start < 2 and no_full_dta_reads == []
    message = str(err.value)
    assert "liar.dta" in message and "2000000000 rows" in message and "corrupt" in message


def test_a_corrupt_dta_is_refused_by_run_statjr(tmp_path, no_full_dta_reads):
    path = crafted_dta(tmp_path / "liar.dta", 10 ** 12)
    with pytest.raises(InputError, match="liar.dta"):
        RunStatJR("1LevelMod", str(path), {"y": "a", "D": "Normal", "x": "cons"})
    assert no_full_dta_reads == []


def test_a_dta_header_consistent_with_its_size_passes_the_default_check(tmp_path):
    """1M rows x 10 doubles: the API's default must not refuse it (header read only)."""
    import pyreadstat
    path = tmp_path / "big.dta"
    pyreadstat.write_dta(pd.DataFrame(np.zeros((5, 10)), columns=[f"v{i}" for i in range(10)]),
                         str(path), version=14)
    raw = bytearray(path.read_bytes())
    at = raw.index(b"<N>") + 3
    raw[at:at + 8] = struct.pack("<Q", 1_000_000)
    path.write_bytes(bytes(raw))
    with path.open("r+b") as fh:  # a sparse file as large as 1M rows of 10 doubles
        fh.truncate(1_000_000 * 10 * 8 + len(raw))
    check_size(path)
    with pytest.raises(InputError, match="MB in memory"):
        check_size(path, max_bytes=16 * 2 ** 20)


def test_a_million_rows_of_ten_columns_still_load(tmp_path):
    path = tmp_path / "big.csv"
    path.write_bytes(b"a,b,c,d,e,f,g,h,i,j\n" + b"1,2,3,4,5,6,7,8,9,0\n" * 1_000_000)
    assert load_dataset(str(path)).frame.shape == (1_000_000, 10)


@pytest.mark.parametrize("columns, words", [
    (["y", "x", "x"], ["'x'", "more than once"]),
    ([0, 1, 2], ["not strings", "df.columns = df.columns.astype(str)"]),
    (["y", 1.5, "z"], ["1.5", "astype(str)"]),
    (pd.MultiIndex.from_tuples([("a", "y"), ("a", "x"), ("b", "z")]), ["not strings", "('a', 'y')"]),
], ids=["duplicate", "integers", "mixed", "multiindex"])
def test_unusable_column_names_are_refused_and_the_frame_is_untouched(columns, words):
    frame = pd.DataFrame(np.arange(6.0).reshape(2, 3), columns=columns)
    before = frame.copy()
    for spec in (frame,):
        with pytest.raises(InputError) as err:
            load_dataset(spec)
        for w in words:
            assert w in str(err.value), str(err.value)
    with pytest.raises(InputError):
        RunStatJR("1LevelMod", frame, {"y": "y", "D": "Normal", "x": "cons"})
    pd.testing.assert_frame_equal(frame, before)
    assert list(frame.columns) == list(before.columns)
