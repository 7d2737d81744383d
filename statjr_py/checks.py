"""Checks of the data a run will use, made before anything is compiled.

Every variable a template's answers name is looked at once, here, so that
bad data stop with an :class:`~statjr_py.InputError` that names the variable
and the rows, instead of a sampler that runs on infinities and prints NaN
beside a DIC.  Model-specific checks (separation in a Binomial model) live
here too, as small functions the templates call; they warn with
:class:`~statjr_py.DataWarning` and let the run go on.
"""
from __future__ import annotations

import logging
import warnings
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from .errors import DataWarning, InputError, short_repr
from .inputs import CONS, Answers, Var

log = logging.getLogger("statjr_py.checks")

#: A value whose square, summed over n rows, comes near the largest double
#: (1.8e308) cannot be handled by any sum of squares; we stop well before.
MAX_SUM_SQUARES = 1e300

#: Non-zero values smaller than this square to below the smallest normal
#: double (about 1e-308), so sums of squares lose them.
MIN_MAGNITUDE = 1e-150
#: At most this many categories for a ``.cat`` variable (as for ``ncats``) and
#: this many coefficients in one model: beyond them the input is a mistake
#: (an identifier ticked as categorical), not a model.
MAX_CATEGORIES = 50
MAX_TERMS = 300

#: Names that the ``out`` table of chains uses for its own columns.
OUT_COLUMNS = ("chain", "iteration")


def _rows(mask: np.ndarray, limit: int = 5) -> str:
    """'rows 3, 7 and 12' (1-based, as a spreadsheet shows them)."""
    idx = (np.flatnonzero(mask) + 1).tolist()
    shown = ", ".join(map(str, idx[:limit]))
    more = f" and {len(idx) - limit} more" if len(idx) > limit else ""
    return ("row " if len(idx) == 1 else "rows ") + shown + more


def chosen_variables(answers: Answers) -> list[tuple[str, Var]]:
    """(question key, variable) for every data variable the answers name.

    Level-2 identifiers are left out: they may be text and are only grouped.
    """
    out = []
    for key, question in answers.questions.items():
        value = answers.values.get(key)
        if value is None or question.kind not in ("variable", "varlist"):
            continue
        for v in (value if isinstance(value, list) else [value]):
            out.append((key, v if isinstance(v, Var) else Var(str(v))))
    return out


def numeric_column(frame: pd.DataFrame, key: str, name: str) -> np.ndarray:
    """The column as float64, or an InputError naming its first non-number."""
    col = frame[name]
    if pd.api.types.is_bool_dtype(col.dtype):
        return col.to_numpy(dtype=float)
    kind = ("complex" if pd.api.types.is_complex_dtype(col.dtype) else
            "dates or times" if (pd.api.types.is_datetime64_any_dtype(col.dtype)
                                 or pd.api.types.is_timedelta64_dtype(col.dtype)) else None)
    if kind:
        raise InputError(f"input '{key}': variable {short_repr(name)} holds {kind}, not real "
                         "numbers; convert it to a number (e.g. years since a date) first")
    try:
        values = pd.to_numeric(col, errors="coerce")
    except (OverflowError, TypeError, ValueError) as exc:
        raise InputError(f"input '{key}': variable {short_repr(name)} has values that are not real "
                         f"numbers ({type(exc).__name__}: {short_repr(str(exc))}); recode it as "
                         "ordinary numbers") from None
    if pd.api.types.is_complex_dtype(values.dtype):
        raise InputError(f"input '{key}': variable {short_repr(name)} holds complex numbers; "
                         "give real numbers")
    bad = values.isna().to_numpy() & col.notna().to_numpy()
    if bad.any():
        example = col[bad].iloc[0]
        raise InputError(f"input '{key}': variable '{name}' has non-numeric value "
                         f"{str(example)[:40]!r} ({_rows(bad)}); recode it as numbers, or mark "
                         "missing values as empty cells")
    return values.to_numpy(dtype=float)


def check_variable(frame: pd.DataFrame, key: str, name: str) -> None:
    """One variable: numeric, finite, not absurdly large, and observed at least once."""
    x = numeric_column(frame, key, name)
    inf = np.isinf(x)
    if inf.any():
        raise InputError(f"input '{key}': variable '{name}' holds infinite values ({_rows(inf)}); "
                         "replace them with real values or mark them missing")
    seen = ~np.isnan(x)
    if not seen.any():
        raise InputError(f"input '{key}': variable '{name}' has no observed values (all "
                         f"{len(x)} rows are missing); nothing can be learnt about it, so "
                         "leave it out")
    nonzero = seen & (np.where(seen, x, 1.0) != 0)
    tiny = nonzero & (np.abs(np.where(nonzero, x, 1.0)) < MIN_MAGNITUDE)
    if tiny.any():
        raise InputError(f"input '{key}': variable '{name}' has values as small as "
                         f"{np.min(np.abs(x[tiny])):.3g} ({_rows(tiny)}), too small for their squares "
                         "to be told from 0; rescale it (e.g. multiply by a power of 10)")
    limit = np.sqrt(MAX_SUM_SQUARES / max(int(seen.sum()), 1))
    big = seen & (np.abs(np.where(seen, x, 0.0)) > limit)
    if big.any():
        raise InputError(f"input '{key}': variable '{name}' has values as large as "
                         f"{np.nanmax(np.abs(x)):.3g} ({_rows(big)}), too large for its sum of "
                         "squares to be formed; rescale it (e.g. divide by a power of 10)")


def dummy_names(frame: pd.DataFrame, var: Var) -> list[str]:
    """Names of the dummies ``var.cat`` would make (see datasets.design)."""
    from .datasets import code_label

    x = pd.to_numeric(frame[var.name], errors="coerce").dropna().unique()
    codes = sorted(float(c) for c in x)
    return [f"{var.name}_{code_label(c)}" for c in codes[:-1]]


def check_names(frame: pd.DataFrame, answers: Answers, reserved: Iterable[str]) -> None:
    """No variable (or dummy) may take the name of a parameter or another term.

    Results tables key their rows by ``term``; a variable called
    ``sigma2_e`` would otherwise give two rows of that name, and one called
    ``chain`` would collide with the ``out`` table's own columns.
    """
    taken = set(reserved) | set(OUT_COLUMNS)
    for key, v in chosen_variables(answers):
        if v.name in taken or any(v.name.startswith(p) for p in taken if p.endswith("(")):
            raise InputError(f"input '{key}': variable '{v.name}' has the name of a model "
                             "parameter or of a column of the output tables; rename the column "
                             f"(e.g. frame.rename(columns={{{v.name!r}: {v.name + '_var'!r}}}))")
    for key, question in answers.questions.items():
        value = answers.values.get(key)
        if question.kind != "varlist" or not value:
            continue
        names = [v.name for v in value]
        terms = len(value)
        for v in value:
            if not v.cat or v.name not in frame.columns:
                continue
            dummies = dummy_names(frame, v)
            if len(dummies) + 1 > MAX_CATEGORIES:
                raise InputError(f"input '{key}': '{v.name}.cat' has {len(dummies) + 1} categories, "
                                 f"more than {MAX_CATEGORIES}; drop .cat (a count or an identifier "
                                 "is not a category) or group the categories first")
            terms += len(dummies) - 1
            clash = [d for d in dummies if d in names or d in taken]
            if clash:
                raise InputError(f"input '{key}': the dummy '{clash[0]}' of '{v.name}.cat' has "
                                 f"the name of another term; rename the column '{clash[0]}'")
        if terms > MAX_TERMS:
            raise InputError(f"input '{key}': {terms} terms, more than {MAX_TERMS} in one model; "
                             "use fewer variables or categories")


def check_data(frame: pd.DataFrame, answers: Answers, reserved: Iterable[str] = ()) -> None:
    """Every check above, for every variable the answers name.

    Raises
    ------
    InputError
        Naming the input, the variable, the rows and the fix.
    """
    if len(frame) == 0:
        raise InputError("dataset: it has no rows; give a dataset with data in it")
    seen = set()
    for key, v in chosen_variables(answers):
        if v.name == CONS and CONS not in frame.columns or (key, v.name) in seen:
            continue
        seen.add((key, v.name))
        check_variable(frame, key, v.name)
    check_names(frame, answers, reserved)


def separated_terms(X: np.ndarray, y: np.ndarray, m: np.ndarray,
                    terms: Sequence[str]) -> list[str]:
    """Terms involved in complete or quasi-complete separation of a Binomial model.

    Separation means some direction b != 0 has ``x_i'b >= 0`` for every
    success and ``<= 0`` for every failure; the maximum-likelihood estimate
    then does not exist and a flat-prior posterior is improper along b
    (Albert & Anderson 1984, Biometrika 71(1); the linear-programming test of
    Konis 2007, DPhil thesis, Oxford).  Rows with 0 < y < m carry both a
    success and a failure, so they force ``x_i'b = 0``.  We look for the
    sparsest such b (least L1 norm, columns scaled to a common size) whose
    total margin is at least 1: the LP is feasible exactly when the data are
    separated, and the terms with b_k != 0 are the ones to blame.

    Returns
    -------
    list of str
        Empty when the data are not separated (or the test was not run:
        it is skipped above 2 million cells, where separation by a few
        terms is rare and the LP would cost seconds).
    """
    from scipy.optimize import linprog

    n, k = X.shape
    if n * k > 2_000_000 or k == 0:
        return []
    scale = np.abs(X).max(axis=0)
    Xs = X / np.where(scale > 0, scale, 1.0)
    succ, fail = y >= m, y <= 0
    sign = np.where(succ & ~fail, 1.0, np.where(fail & ~succ, -1.0, 0.0))
    signed = Xs[sign != 0] * sign[sign != 0, None]
    inner = Xs[sign == 0]
    both = lambda A: np.hstack([A, -A])  # b = b_plus - b_minus, both >= 0
    A_ub = np.vstack([-both(signed), -both(signed.sum(axis=0, keepdims=True))])
    b_ub = np.r_[np.zeros(len(signed)), -1.0]
    res = linprog(np.ones(2 * k), A_ub=A_ub, b_ub=b_ub,
                  A_eq=both(inner) if len(inner) else None,
                  b_eq=np.zeros(len(inner)) if len(inner) else None,
                  bounds=[(0, None)] * (2 * k), method="highs")
    if res.status != 0:  # infeasible: no separating direction
        return []
    b = res.x[:k] - res.x[k:]
    return [t for t, bk in zip(terms, b) if abs(bk) > 1e-9]


def warn_separation(X: np.ndarray, y: np.ndarray, m: np.ndarray, terms: Sequence[str],
                    template: str) -> None:
    """Warn (DataWarning) when a Binomial model's data are separated."""
    bad = separated_terms(X, y, m, terms)
    if bad:
        warnings.warn(f"{template}: the response is perfectly or quasi-perfectly separated by "
                      f"{', '.join(repr(t) for t in bad)}: the maximum-likelihood estimate does not "
                      "exist and the posterior of these coefficients rests on the prior alone, so "
                      "their estimates and intervals will be huge; merge sparse categories or drop "
                      "the term", DataWarning, stacklevel=2)
