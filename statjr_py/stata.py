"""Writing Stata .dta files that Stata can read, whatever the column names.

Stata names are at most 32 characters of ``[A-Za-z0-9_]``, not starting with
a digit and not a reserved word; values are numbers within 2**1023 or text.
Columns that break these rules are renamed or converted, the original name
kept as the variable label, and one :class:`~statjr_py.DataWarning` says
what changed.
"""
from __future__ import annotations

import numbers
import os
import re
import unicodedata
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import DataWarning, InputError, short_repr

__all__ = ["dta_bytes", "write_dta"]


#: Names Stata keeps for itself ([U] 11.3), plus ``str1`` ... ``str2045``.
STATA_RESERVED = frozenset({"_all", "_b", "byte", "_coef", "_cons", "double", "float", "if",
                            "in", "int", "long", "_n", "_N", "_pi", "_pred", "_rc", "_skip",
                            "strL", "using", "with"})
_STATA_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,31}")
#: Stata stores doubles below 2**1023 in size; larger ones are its missing codes.
STATA_MAX_DOUBLE = 2.0 ** 1023
#: Every integer up to 2**53 in size is exactly a double; beyond, neighbours merge.
EXACT_INT = 2 ** 53
#: Stata's long (4 bytes) holds -2,147,483,647 ... 2,147,483,620; the other
#: int32 values are its missing codes, which readstat refuses to write.
STATA_LONG = (-2_147_483_647, 2_147_483_620)
#: What replaces a NUL inside text: Stata's strings end at a NUL, so writing
#: it would cut the value short without a word.
NUL_REPLACEMENT = "\ufffd"


def _stata_legal(name: Any) -> bool:
    return (isinstance(name, str) and bool(_STATA_NAME.fullmatch(name))
            and name not in STATA_RESERVED and not re.fullmatch(r"str\d+", name))


def _stata_names(columns: list) -> list[str]:
    """Legal, distinct Stata names; legal names are kept, the others cleaned.

    Accents are dropped (``é`` -> ``e``), other characters become ``_``, a
    leading digit or a reserved word gets ``_`` in front, names are cut to 32
    characters, and clashes get ``_2``, ``_3``....
    """
    names: list[str | None] = [None] * len(columns)
    used: set[str] = set()
    for i, col in enumerate(columns):
        if _stata_legal(col) and col not in used:
            names[i] = col
            used.add(col)
    for i, col in enumerate(columns):
        if names[i] is not None:
            continue
        text = unicodedata.normalize("NFKD", str(col)).encode("ascii", "ignore").decode()
        text = re.sub(r"[^A-Za-z0-9_]", "_", text)
        if not text.strip("_"):
            text = f"var{i + 1}"
        if text[0].isdigit():
            text = "_" + text
        text = text[:32]
        if not _stata_legal(text):
            text = ("_" + text)[:32]
        candidate, n = text, 1
        while candidate in used:
            n += 1
            candidate = text[:32 - len(f"_{n}")] + f"_{n}"
        names[i] = candidate
        used.add(candidate)
    return names  # type: ignore[return-value]


def _stata_column(s: pd.Series, label: str, notes: list[str]) -> pd.Series:
    """One column as a type Stata holds: numbers, text, or all missing."""
    s = _stata_numbers(s, label, notes)
    return _no_nul(s, label, notes) if s.dtype == object else s


def _stata_integers(s: pd.Series, label: str, notes: list[str]) -> pd.Series | None:
    """An integer column Stata's numbers cannot hold exactly, converted; None if it can.

    Integers beyond 2**53 in size (a 64-bit ID, a hash) would be written as
    the nearest double, so that neighbouring values such as 2**60 and 2**60+1
    become one: such a column is written as text, exact.  Text rather than a
    warning about rounding, because integers that large are identifiers, not
    measurements, and a rounded identifier joins records that are distinct;
    Stata's own advice is to keep long IDs as strings (``destring`` turns them
    back into numbers for whoever accepts the rounding), and a text level-2
    identifier serves statjr-py as well as a numeric one.  int32 values in
    Stata's missing range are widened to doubles, which hold them exactly.
    """
    unsigned = pd.api.types.is_unsigned_integer_dtype(s.dtype)
    big = (s > EXACT_INT) if unsigned else ((s > EXACT_INT) | (s < -EXACT_INT))
    big = big.fillna(False).to_numpy(dtype=bool)
    if big.any():
        present = s.notna().to_numpy()
        notes.append(f"column {short_repr(label)}: {int(big.sum())} integers beyond 2**53 "
                     f"(e.g. {s[big].iloc[0]}), which a Stata number cannot hold exactly: the "
                     "column is written as text, exact (Stata's destring makes it numbers again, "
                     "rounded)")
        return pd.Series([str(int(v)) if p else "" for v, p in zip(s, present)],
                         index=s.index, dtype=object)
    if str(s.dtype).lower() == "int32":
        low, high = STATA_LONG
        out = ((s < low) | (s > high)).fillna(False).to_numpy(dtype=bool)
        if out.any():
            notes.append(f"column {short_repr(label)}: {int(out.sum())} values (e.g. {s[out].iloc[0]}) "
                         "are outside the range of Stata's long (-2,147,483,647 to 2,147,483,620): "
                         "the column is written as doubles, which hold them exactly")
            return s.astype("float64")
    return None


def _no_nul(s: pd.Series, label: str, notes: list[str]) -> pd.Series:
    """Text without NUL characters (Stata's strings end at one): replaced, and said so."""
    has = s.str.contains("\x00", regex=False).fillna(False).to_numpy(dtype=bool)
    if not has.any():
        return s
    notes.append(f"column {short_repr(label)}: {int(has.sum())} text values contain NUL characters, "
                 "which would end them early in Stata: each NUL is written as U+FFFD")
    return s.str.replace("\x00", NUL_REPLACEMENT, regex=False)


def _stata_numbers(s: pd.Series, label: str, notes: list[str]) -> pd.Series:
    if isinstance(s.dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(s.dtype):
        s = s.astype(object)
    if pd.api.types.is_bool_dtype(s.dtype):
        return s.astype("float64") if s.isna().any() else s.astype("int8")
    if pd.api.types.is_integer_dtype(s.dtype):
        converted = _stata_integers(s, label, notes)
        if converted is not None:
            return converted
    if pd.api.types.is_extension_array_dtype(s.dtype) and pd.api.types.is_numeric_dtype(s.dtype):
        s = s.astype("float64")
    if s.dtype == object:
        present = s.notna().to_numpy()
        values = s[present]
        if values.empty:
            return pd.Series(np.nan, index=s.index, dtype="float64")
        if all(isinstance(v, str) for v in values):  # Stata's missing text is "" (strL refuses None)
            return s.where(present, "")
        try:  # numbers (ints too big for C, Decimals) and yes/no values
            if any(isinstance(v, (str, bytes, complex)) for v in values):
                raise TypeError
            rounded = sum(1 for v in values if isinstance(v, numbers.Integral)
                          and not isinstance(v, (bool, np.bool_)) and abs(int(v)) > EXACT_INT)
            if rounded:
                notes.append(f"column {short_repr(label)}: {rounded} integers beyond 2**53 written "
                             "as the nearest double (Stata has no exact type for them)")
            s = pd.Series([_float(v) if p else np.nan for v, p in zip(s, present)],
                          index=s.index, dtype="float64")
        except (TypeError, ValueError):
            notes.append(f"column {short_repr(label)} mixes text and other values: written as text")
            return pd.Series([_text(v) if p else "" for v, p in zip(s, present)],
                             index=s.index, dtype=object)
    if pd.api.types.is_float_dtype(s.dtype):
        s = s.astype("float64")
        with np.errstate(invalid="ignore"):
            out = ~np.isnan(s.to_numpy()) & ~(np.abs(s.to_numpy()) < STATA_MAX_DOUBLE)
        if out.any():
            notes.append(f"column {short_repr(label)}: {int(out.sum())} infinite or out-of-range "
                         "values written as missing")
            s = s.where(~out, np.nan)
    return s


def _float(v: Any) -> float:
    try:
        return float(v)
    except OverflowError:  # a Python int beyond any double: Stata's missing, like inf
        return np.inf


def _text(v: Any) -> str:
    try:
        return str(v)
    except Exception:  # e.g. RecursionError on a deeply nested list
        return short_repr(v)


def _stata_safe(frame: pd.DataFrame, what: str = "dataset") -> tuple[pd.DataFrame, list]:
    """A copy Stata can hold, and variable labels keeping the original names.

    Illegal or clashing column names are renamed (see :func:`_stata_names`);
    bool, text-and-number, all-missing and infinite values are converted.
    One :class:`DataWarning` says what changed, since the user will look
    for the old names in Stata.
    """
    columns = list(frame.columns)
    names = _stata_names(columns)
    notes: list[str] = []
    data = {new: _stata_column(frame.iloc[:, i].reset_index(drop=True), str(columns[i]), notes)
            for i, new in enumerate(names)}
    safe = pd.DataFrame(data) if data else pd.DataFrame(index=range(len(frame)))
    renamed = [(col, new) for col, new in zip(columns, names) if col != new]
    labels = [(str(col).replace("\x00", "")[:80] or None) if col != new else None
              for col, new in zip(columns, names)]
    if renamed:
        listing = ", ".join(f"{short_repr(str(c))} -> {n}" for c, n in renamed[:10])
        more = f" and {len(renamed) - 10} more" if len(renamed) > 10 else ""
        notes.insert(0, "columns renamed so that Stata can hold them (the old names are "
                        f"the variable labels): {listing}{more}")
    if notes:
        warnings.warn(f"{what}: " + "; ".join(notes), DataWarning, stacklevel=4)
    return safe, labels


def dta_bytes(frame: pd.DataFrame, what: str = "dataset") -> bytes:
    """A DataFrame as Stata .dta bytes (pyreadstat keeps codes and missing values).

    Names and values Stata cannot hold are converted first (:func:`_stata_safe`);
    should pyreadstat still refuse, the InputError names ``what``.
    """
    import tempfile

    import pyreadstat

    safe, labels = _stata_safe(frame, what)
    fd, tmp = tempfile.mkstemp(suffix=".dta")
    os.close(fd)
    try:
        try:
            pyreadstat.write_dta(safe, tmp, column_labels=labels)
        except (ValueError, TypeError, OverflowError, RuntimeError, pyreadstat.ReadstatError,
                pyreadstat.PyreadstatError) as exc:
            raise InputError(f"{what} cannot be written as Stata .dta ({type(exc).__name__}: "
                             f"{exc}); convert or drop the columns Stata cannot hold") from exc
        return Path(tmp).read_bytes()
    finally:
        os.unlink(tmp)


def write_dta(frame: pd.DataFrame, path) -> None:
    """Write a DataFrame as .dta; used for the bundled datasets and outputs."""
    Path(path).write_bytes(dta_bytes(frame, f"dataset for '{path}'"))
