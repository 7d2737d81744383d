"""Loading datasets and turning chosen variables into design matrices.

Datasets are always copied on entry, so nothing a template does can alter the
caller's DataFrame or file.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from .errors import InputError, suggest
from .inputs import CONS, Var
from .paths import search_path

log = logging.getLogger("statjr_py.datasets")

SUFFIXES = (".dta", ".csv", ".txt")


@dataclass
class Dataset:
    """A named, private copy of the data a template runs on."""

    name: str
    frame: pd.DataFrame
    source: str | None = None  # the path or bundled name, for script.py


def bundled_names() -> list[str]:
    """Names of the datasets found on the dataset search path."""
    names = []
    for folder in search_path("datasets", "STATJR_DATASETS"):
        if folder.is_dir():
            names += [p.stem for p in sorted(folder.iterdir()) if p.suffix in SUFFIXES]
    return sorted(set(names))


def _read(path: Path) -> pd.DataFrame:
    suffix = path.suffix.lower()
    try:
        if suffix == ".dta":
            import pyreadstat
            frame, _meta = pyreadstat.read_dta(str(path))
            # integer columns with missing values arrive as objects: make them numeric
            for col in frame.columns[frame.dtypes == object]:
                numeric = pd.to_numeric(frame[col], errors="coerce")
                if numeric.notna().sum() == frame[col].notna().sum():
                    frame[col] = numeric
            return frame
        if suffix == ".csv":
            return pd.read_csv(path)
        if suffix == ".txt":
            # Stat-JR's LoadTextFile: whitespace-delimited with a header row.
            return pd.read_csv(path, sep=r"\s+", na_values=[".", "*", "NA"])
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise InputError(f"dataset '{path}': could not be read ({exc}); "
                         "check that the file is a valid .dta, .csv or .txt") from None
    except Exception as exc:  # pyreadstat raises its own error classes
        raise InputError(f"dataset '{path}': could not be read ({type(exc).__name__}: {exc}); "
                         "check that the file is a valid .dta, .csv or .txt") from None
    raise InputError(f"dataset '{path}': unknown file type '{suffix}'; "
                     "use a .dta, .csv or whitespace-delimited .txt file")


def load_dataset(spec) -> Dataset:
    """Load ``spec``: a bundled name, a file path, or a pandas DataFrame."""
    if isinstance(spec, Dataset):
        return Dataset(spec.name, spec.frame.copy(), spec.source)
    if isinstance(spec, pd.DataFrame):
        return Dataset("data", spec.copy(deep=True), None)
    if not isinstance(spec, (str, Path)):
        raise InputError(f"dataset = {type(spec).__name__}: not a dataset; "
                         "give a bundled name, a file path or a pandas DataFrame")
    path = Path(spec)
    if path.suffix.lower() in SUFFIXES and path.is_file():
        frame = _read(path)
        return Dataset(path.stem, frame, str(path))
    for folder in search_path("datasets", "STATJR_DATASETS"):
        for suffix in SUFFIXES:
            candidate = folder / f"{spec}{suffix}"
            if candidate.is_file():
                return Dataset(str(spec), _read(candidate), str(spec))
    raise InputError(f"dataset = {str(spec)!r}: no such file or bundled dataset; give a path "
                     f"to a .dta/.csv/.txt file or one of {', '.join(bundled_names())}"
                     + suggest(str(spec), bundled_names()))


def column(frame: pd.DataFrame, name: str) -> np.ndarray:
    """A column as float64, with ``cons`` made up when the data lack it."""
    if name == CONS and CONS not in frame.columns:
        return np.ones(len(frame))
    values = pd.to_numeric(frame[name], errors="coerce")
    bad = values.isna() & frame[name].notna()
    if bad.any():
        example = frame[name][bad].iloc[0]
        raise InputError(f"variable '{name}' has non-numeric value {example!r}; "
                         "recode it as numbers before modelling")
    return values.to_numpy(dtype=float)


def categories(frame: pd.DataFrame, name: str) -> list[float]:
    """Sorted distinct observed codes of a categorical variable."""
    values = column(frame, name)
    return sorted(set(values[~np.isnan(values)].tolist()))


def code_label(code: float) -> str:
    """A category code as it appears in a term name (``2.0`` -> ``'2'``)."""
    return str(int(code)) if float(code).is_integer() else str(code)


def design(frame: pd.DataFrame, variables: Sequence[Var]) -> tuple[np.ndarray, list[str]]:
    """Design matrix and term names for the chosen explanatory variables.

    A categorical variable becomes one dummy per category but the last, which
    is the reference (as Stat-JR and the seed document); the dummy of code k
    is named ``<var>_<k>``.  Missing values stay NaN: what to do with them is
    the template's decision.
    """
    cols, terms = [], []
    for var in variables:
        x = column(frame, var.name)
        if var.cat:
            codes = categories(frame, var.name)
            if len(codes) < 2:
                raise InputError(f"variable '{var.name}' is marked categorical (.cat) but has "
                                 f"{len(codes)} distinct value(s); drop the .cat suffix or the variable")
            for code in codes[:-1]:
                d = np.where(np.isnan(x), np.nan, (x == code).astype(float))
                cols.append(d)
                terms.append(f"{var.name}_{code_label(code)}")
        else:
            cols.append(x)
            terms.append(var.name)
    return np.column_stack(cols) if cols else np.empty((len(frame), 0)), terms


def complete_rows(*arrays: np.ndarray) -> np.ndarray:
    """Boolean mask of rows with no NaN in any of the arrays (listwise deletion)."""
    mask = None
    for a in arrays:
        a = np.asarray(a, dtype=float)
        ok = ~np.isnan(a) if a.ndim == 1 else ~np.isnan(a).any(axis=1)
        mask = ok if mask is None else mask & ok
    return mask


def level2_index(frame: pd.DataFrame, l2id: str) -> tuple[np.ndarray, np.ndarray]:
    """0-based level-2 unit index per row, and the unit identifiers in order."""
    ids = frame[l2id]
    if ids.isna().any():
        raise InputError(f"input 'L2ID' = {l2id!r}: the level-2 identifier has missing values; "
                         "every row needs a unit identifier")
    codes, uniques = pd.factorize(ids, sort=True)
    return codes.astype(np.int32), np.asarray(uniques)
