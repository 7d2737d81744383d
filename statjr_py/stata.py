"""Writing Stata .dta files that Stata can read, whatever the column names.

Stata names are at most 32 characters of ``[A-Za-z0-9_]``, not starting with
a digit and not a reserved word; values are numbers within 2**1023 or text.
Columns that break these rules are renamed or converted, the original name
kept as the variable label, and one :class:`~statjr_py.DataWarning` says
what changed.

Labels travel with the data: a ``.dta`` read by statjr-py keeps its variable
and value labels in ``frame.attrs[LABELS_KEY]`` (a :class:`Labels`), and every
``.dta`` written from a frame carrying them has them again (see
docs/interchange.md).  Label texts are the user's strings: they go into
``.dta`` files and, escaped as every cell is, into tables and pages, never
into generated C++ or LaTeX.
"""
from __future__ import annotations

import math
import numbers
import os
import re
import struct
import time
import unicodedata
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np
import pandas as pd

from .errors import DataWarning, InputError, short_repr

__all__ = ["LABELS_KEY", "Labels", "code_label", "dta_bytes", "labels_of", "with_labels",
           "write_dta"]


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


def _stata_safe(frame: pd.DataFrame, what: str = "dataset"
                ) -> tuple[pd.DataFrame, list, dict[str, dict[int, str]]]:
    """A copy Stata can hold, its variable labels and its value labels.

    Illegal or clashing column names are renamed (see :func:`_stata_names`);
    bool, text-and-number, all-missing and infinite values are converted.
    A column's variable label is its own (from ``frame.attrs``, see
    :class:`Labels`) or, for a renamed column without one, its old name.
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
    own = labels_of(frame)
    labels = [_stata_text(own.variables[col], VARIABLE_LABEL_MAX) if col in own.variables
              else (str(col).replace("\x00", "")[:VARIABLE_LABEL_MAX] or None) if col != new else None
              for col, new in zip(columns, names)]
    values = _value_labels(own, columns, names, safe, notes)
    if renamed:
        listing = ", ".join(f"{short_repr(str(c))} -> {n}" for c, n in renamed[:10])
        more = f" and {len(renamed) - 10} more" if len(renamed) > 10 else ""
        notes.insert(0, "columns renamed so that Stata can hold them (the old names are "
                        f"the variable labels unless they had their own): {listing}{more}")
    if notes:
        warnings.warn(f"{what}: " + "; ".join(notes), DataWarning, stacklevel=4)
    return safe, labels, values


def dta_bytes(frame: pd.DataFrame, what: str = "dataset") -> bytes:
    """A DataFrame as Stata .dta bytes (pyreadstat keeps codes and missing values).

    Names and values Stata cannot hold are converted first (:func:`_stata_safe`);
    the frame's variable and value labels (:func:`labels_of`) are written with
    it; should pyreadstat still refuse, the InputError names ``what``.
    """
    import tempfile

    fast = _plain_numeric_dta(frame)
    if fast is not None:
        return fast
    safe, labels, values = _stata_safe(frame, what)
    fast = _numeric_dta(safe, labels, values)
    if fast is not None:
        return fast
    import pyreadstat

    # pyreadstat names each value-label set after its variable and a counter,
    # and readstat refuses a name over 32 characters: those labels are left
    # out, and said so, rather than the whole file refused
    long_names = [name for i, name in enumerate(values) if len(f"{name}{i}") > 32]
    if long_names:
        values = {k: v for k, v in values.items() if k not in long_names}
        warnings.warn(f"{what}: the value labels of {', '.join(map(short_repr, long_names))} are "
                      "left out: with text columns in the file its label names would pass Stata's "
                      "32 characters; shorten the names to keep them", DataWarning, stacklevel=3)
    fd, tmp = tempfile.mkstemp(suffix=".dta")
    os.close(fd)
    try:
        try:
            pyreadstat.write_dta(safe, tmp, column_labels=labels,
                                 variable_value_labels=values or None)
        except (ValueError, TypeError, OverflowError, RuntimeError, pyreadstat.ReadstatError,
                pyreadstat.PyreadstatError) as exc:
            raise InputError(f"{what} cannot be written as Stata .dta ({type(exc).__name__}: "
                             f"{exc}); convert or drop the columns Stata cannot hold") from exc
        return Path(tmp).read_bytes()
    finally:
        os.unlink(tmp)


#: Stata's "." for a double, as readstat writes a missing value (2**1023).
_DTA_MISSING_DOUBLE = np.uint64(0x7FE0000000000000)


def _plain_numeric_dta(frame: pd.DataFrame) -> bytes | None:
    """:func:`_numeric_dta` of a frame :func:`_stata_safe` would leave as it is, or None.

    Columns of float64 and int64 with legal, distinct names, integers within
    2**53, doubles within Stata's range and value labels Stata can hold: then
    ``_stata_safe`` changes nothing and says nothing, and its pandas work
    per column (half the time of writing a run's datasets) is skipped.
    Anything else returns None, for ``_stata_safe`` to convert and report.
    """
    columns = list(frame.columns)
    if not columns or _stata_names(columns) != columns:
        return None
    for i, dtype in enumerate(frame.dtypes):
        if not isinstance(dtype, np.dtype) or dtype not in (np.float64, np.int64):
            return None
        v = frame.iloc[:, i].to_numpy()
        if dtype == np.int64:
            if ((v > EXACT_INT) | (v < -EXACT_INT)).any():
                return None
        else:
            with np.errstate(invalid="ignore"):
                if (~np.isnan(v) & ~(np.abs(v) < STATA_MAX_DOUBLE)).any():
                    return None
    own = labels_of(frame)
    labels = [_stata_text(own.variables[c], VARIABLE_LABEL_MAX) if c in own.variables else None
              for c in columns]
    notes: list[str] = []
    values = _value_labels(own, columns, columns, frame, notes)
    return None if notes else _numeric_dta(frame, labels, values)


def _numeric_dta(safe: pd.DataFrame, labels: list, values: dict[str, dict[int, str]]) -> bytes | None:
    """The .dta (format 119) pyreadstat 1.3 writes for an all-number frame, or None.

    pyreadstat passes every value to readstat one at a time, through
    narwhals: 0.1 s for the worked example's 20,000-row imputed data, and
    0.05 s to import.  A frame of float64 and int64 columns (what runs
    produce; pyreadstat writes both as doubles, NaN as Stata's ".") is laid
    out here with numpy instead, field by field as readstat does, its bytes
    held to pyreadstat's in tests/test_stata_labels.py; anything else (text,
    small integers, bools, dates, label names Stata cannot take) returns
    None and goes to pyreadstat.
    """
    names = [str(c) for c in safe.columns]
    k, n = len(names), len(safe)
    if not k or not n or k > 32767 or any(t not in (np.float64, np.int64) for t in safe.dtypes):
        return None
    encoded_labels = [(t or "").encode("utf-8") for t in labels]
    if any(len(t) > 320 for t in encoded_labels):
        return None
    sets, set_names = [], [b""] * k
    for i, name in enumerate(names):
        mapping = values.get(name)
        if not mapping:
            continue
        # pyreadstat's name: the variable's, then a counter; Stata takes 32
        # characters, so a long variable name is cut to leave room for it
        # (still unique: the counter is)
        count = str(len(sets))
        set_name = f"{name[:32 - len(count)]}{count}"
        texts = [(int(code), str(text).encode("utf-8")) for code, text in mapping.items()]
        if any(not STATA_LONG[0] <= c <= STATA_LONG[1] for c, _ in texts):
            return None
        set_names[i] = set_name.encode("ascii")
        sets.append((set_names[i], sorted(texts)))
    data = np.empty((n, k), dtype="<f8")
    for i in range(k):
        data[:, i] = safe.iloc[:, i].to_numpy()
    bits = data.view("<u8")
    bits[np.isnan(data)] = _DTA_MISSING_DOUBLE
    stamp = time.strftime("%d %b %Y %H:%M", time.localtime()).encode("ascii")

    def fixed(items, width: int) -> bytes:
        return b"".join(x.ljust(width, b"\0") for x in items)

    tables = []
    for set_name, texts in sets:
        offsets, text, pos = [], b"", 0
        for _, t in texts:
            offsets.append(pos)
            text += t + b"\0"
            pos += len(t) + 1
        body = (struct.pack(f"<{2 + 2 * len(texts)}i", len(texts), len(text), *offsets,
                            *(c for c, _ in texts)) + text)
        tables.append(b"<lbl>" + struct.pack("<i", len(body)) + set_name.ljust(129, b"\0")
                      + b"\0\0\0" + body + b"</lbl>")
    header = (b"<stata_dta><header><release>119</release><byteorder>LSF</byteorder><K>"
              + struct.pack("<I", k) + b"</K><N>" + struct.pack("<Q", n) + b"</N><label>\0\0</label>"
              + b"<timestamp>" + bytes([len(stamp)]) + stamp + b"</timestamp></header>")
    sections = [
        b"<variable_types>" + struct.pack(f"<{k}H", *([65526] * k)) + b"</variable_types>",
        b"<varnames>" + fixed([x.encode("ascii") for x in names], 129) + b"</varnames>",
        b"<sortlist>" + bytes(4 * (k + 1)) + b"</sortlist>",
        b"<formats>" + fixed([b"%10.0g"] * k, 57) + b"</formats>",
        b"<value_label_names>" + fixed(set_names, 129) + b"</value_label_names>",
        b"<variable_labels>" + fixed(encoded_labels, 321) + b"</variable_labels>",
        b"<characteristics></characteristics>",
        b"<data>" + data.tobytes() + b"</data>",
        b"<strls></strls>",
        b"<value_labels>" + b"".join(tables) + b"</value_labels>",
        b"</stata_dta>",
    ]
    starts = [len(header) + 14 * 8 + len(b"<map></map>")]
    for section in sections:
        starts.append(starts[-1] + len(section))
    dta_map = b"<map>" + struct.pack("<14Q", 0, len(header), *starts) + b"</map>"
    return header + dta_map + b"".join(sections)


def write_dta(frame: pd.DataFrame, path) -> None:
    """Write a DataFrame as .dta, with its labels; used for the bundled datasets and outputs."""
    Path(path).write_bytes(dta_bytes(frame, f"dataset for '{path}'"))


# ----------------------------------------------------------------------- labels
#: Where a DataFrame keeps its Stata labels: ``frame.attrs[LABELS_KEY]``, a :class:`Labels`.
LABELS_KEY = "statjr_labels"
#: Stata's longest variable label, in characters.
VARIABLE_LABEL_MAX = 80
#: Stata's longest value label (.dta format 118), in characters.
VALUE_LABEL_MAX = 32000


def code_label(code: float) -> str:
    """A category code as it appears in a term name (``2.0`` -> ``'2'``)."""
    return str(int(code)) if float(code).is_integer() else str(code)


def _is_code(value: Any) -> bool:
    return (isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))
            and math.isfinite(float(value)))


@dataclass
class Labels:
    """The variable and value labels of a dataset's columns, as a .dta holds them.

    Kept in the frame's ``attrs`` (under :data:`LABELS_KEY`) rather than
    beside it, so that a frame passed on, e.g. ``load_dataset('x.dta').frame``
    given to ``RunStatJR``, keeps them: pandas copies ``attrs`` with the
    frame, and statjr-py never changes the caller's frame.

    Parameters
    ----------
    variables : dict
        Column name -> variable label (Stata's ``label variable``).
    values : dict
        Column name -> {code: label} (Stata's ``label define`` and ``label
        values``).  Codes are kept as floats, the way statjr-py reads a
        column's values, so that a code looks up the same whatever the
        column's dtype.

    Raises
    ------
    InputError
        A code that is not a finite number: Stata labels numbers only.

    Notes
    -----
    A NUL in a text becomes U+FFFD here, as the ``.dta`` writer has it, so
    that the ``label`` column of a CSV table holds none either (R's
    ``read.csv`` stops at one).  A Labels is never changed after it is made
    (:meth:`restricted` and :meth:`merged` return new ones), so copies share
    it: pandas deep-copies ``attrs`` on most operations, and copying a
    dataset's thousands of labels each time made a run three times slower.
    """

    variables: Mapping[str, str] = field(default_factory=dict)
    values: Mapping[str, Mapping[float, str]] = field(default_factory=dict)

    def __post_init__(self):
        self.variables = {str(k): _clean(v) for k, v in dict(self.variables).items() if v}
        values = {}
        for name, mapping in dict(self.values).items():
            bad = next((c for c in mapping if not _is_code(c)), None)
            if bad is not None:
                raise InputError(f"value labels of {short_repr(str(name))}: code {short_repr(bad)} "
                                 "is not a finite number; Stata labels numeric codes only, so "
                                 "label the codes, not the texts")
            if mapping:
                values[str(name)] = {float(c): _clean(t) for c, t in mapping.items()}
        self.values = values

    @classmethod
    def _checked(cls, variables: dict, values: dict) -> "Labels":
        """Labels from parts already checked (of Labels): no second pass over every code."""
        out = cls.__new__(cls)
        out.variables, out.values = variables, values
        return out

    def __copy__(self) -> "Labels":
        return self

    def __deepcopy__(self, memo) -> "Labels":
        return self

    def __bool__(self) -> bool:
        return bool(self.variables or self.values)

    @classmethod
    def from_meta(cls, meta) -> "Labels":
        """The labels in pyreadstat's metadata of a .dta (labels of missing-value codes dropped)."""
        variables = getattr(meta, "column_names_to_labels", None) or {}
        values = {name: {c: t for c, t in mapping.items() if _is_code(c)}
                  for name, mapping in (getattr(meta, "variable_value_labels", None) or {}).items()}
        return cls(variables, values)

    def restricted(self, columns: Iterable) -> "Labels":
        """Only the labels of ``columns``."""
        keep = {c for c in columns if isinstance(c, str)}
        return Labels._checked({k: v for k, v in self.variables.items() if k in keep},
                               {k: v for k, v in self.values.items() if k in keep})

    def merged(self, other: "Labels") -> "Labels":
        """These labels, and ``other``'s for the columns these do not label."""
        return Labels._checked({**other.variables, **self.variables}, {**other.values, **self.values})

    def dummies(self, columns: Iterable = ()) -> dict[str, str]:
        """Name of each labelled category dummy -> its value label.

        A ``.cat`` variable's dummy of code k is ``<var>_<k>``
        (:func:`statjr_py.datasets.design`); a name that is itself one of
        ``columns`` means that column and is left out.
        """
        taken = set(columns)
        return {f"{var}_{code_label(code)}": text for var, mapping in self.values.items()
                for code, text in mapping.items() if f"{var}_{code_label(code)}" not in taken}

    def describe(self, terms: Iterable, columns: Iterable = ()) -> list[str]:
        """The ``label`` of each term of a results table.

        A term that is a labelled variable gets its variable label; any other
        term gets its own text with each category dummy in it replaced by the
        dummy's value label (``schgendmiss_0`` -> ``mixed``,
        ``omega_u(normexam,schgendmiss_0)`` -> ``omega_u(normexam,mixed)``),
        or ``''`` when no dummy in it is labelled.
        """
        columns = list(columns)
        dummies = self.dummies(columns)
        # whole names only (vrband_1 is not inside vrband_10), the longest tried first
        names = sorted(dummies, key=len, reverse=True)
        pattern = (re.compile(r"(?<!\w)(" + "|".join(map(re.escape, names)) + r")(?!\w)")
                   if dummies else None)
        out = []
        for term in terms:
            term = str(term)
            if term in self.variables and term in columns:
                out.append(self.variables[term])
                continue
            shown = pattern.sub(lambda m: dummies[m.group(1)], term) if pattern else term
            out.append(shown if shown != term else "")
        return out


def labels_of(frame: pd.DataFrame) -> Labels:
    """The labels a frame carries (empty when it carries none)."""
    found = getattr(frame, "attrs", {}).get(LABELS_KEY)
    return found if isinstance(found, Labels) else Labels()


def with_labels(frame: pd.DataFrame, labels: Labels | None = None, *,
                variables: Mapping[str, str] | None = None,
                values: Mapping[str, Mapping[float, str]] | None = None) -> pd.DataFrame:
    """A copy of ``frame`` carrying labels; the caller's frame is left as it was.

    Parameters
    ----------
    frame : DataFrame
    labels : Labels, optional
        Labels to carry; ``variables`` and ``values`` add to them (and win).
        Only the labels of the frame's columns are kept.
    variables : dict, optional
        Column -> variable label, e.g. ``{'schgend': 'school gender'}``.
    values : dict, optional
        Column -> {code: label}, e.g. ``{'schgend': {1: 'mixed', 2: 'boys'}}``.
    """
    labels = Labels(variables or {}, values or {}).merged(labels or Labels())
    out = frame.copy(deep=False)
    attrs = {k: v for k, v in out.attrs.items() if k != LABELS_KEY}
    labels = labels.restricted(frame.columns)
    if labels:
        attrs[LABELS_KEY] = labels
    out.attrs = attrs
    return out


def _clean(text) -> str:
    """A label's text with no NUL (Stata cannot hold one; CSV readers stop at it)."""
    return str(text).replace("\x00", NUL_REPLACEMENT)


def _stata_text(text: str, limit: int) -> str:
    """A label as Stata can hold it: no NUL (it would end the text), at most ``limit`` characters."""
    return _clean(text)[:limit]


def _value_labels(own: Labels, columns: list, names: list[str], safe: pd.DataFrame,
                  notes: list[str]) -> dict[str, dict[int, str]]:
    """pyreadstat's ``variable_value_labels`` for the written columns.

    Stata attaches value labels to integer codes of numeric variables only:
    labels of a column written as text, or of codes that are not integers
    within Stata's long, cannot be written, and a note says so.
    """
    out: dict[str, dict[int, str]] = {}
    for col, new in zip(columns, names):
        mapping = own.values.get(col) if isinstance(col, str) else None
        if not mapping:
            continue
        if safe[new].dtype == object or not pd.api.types.is_numeric_dtype(safe[new].dtype):
            notes.append(f"column {short_repr(str(col))} is written as text: its value labels "
                         "are left out (Stata labels numbers only)")
            continue
        low, high = STATA_LONG
        kept = {int(c): _stata_text(t, VALUE_LABEL_MAX) for c, t in mapping.items()
                if float(c).is_integer() and low <= c <= high}
        if len(kept) < len(mapping):
            notes.append(f"column {short_repr(str(col))}: {len(mapping) - len(kept)} value labels of "
                         "codes that are not whole numbers within Stata's long are left out")
        if kept:
            out[new] = kept
    return out
