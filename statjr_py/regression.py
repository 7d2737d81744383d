"""Pieces shared by regression-type templates (1LevelMod, 2LevelMod, 2LevelRS).

Not tied to any one template: the questions about a response's
distribution, turning answers into checked response arrays, sorting rows by
level-2 unit for the C++ kernels, and summarising level-2 residuals.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from .checks import warn_separation
from .datasets import column
from .errors import DataWarning, InputError
from .inputs import Text, Variable, VariableList
from .template import Param

LINKS = {"Normal": ["identity"], "Binomial": ["logit", "probit", "cloglog"], "Poisson": ["log"]}
#: link -> statjr::glm::Link enumerator in cpp/statjr/glm.hpp
LINK_ENUM = {"logit": "Logit", "probit": "Probit", "cloglog": "Cloglog", "log": "Log"}


def link_tex(link: str, index: str = "i") -> str:
    """LaTeX of g(mean) for a link, with subscript ``index`` (``i`` or ``ij``)."""
    return {"identity": rf"\mu_{{{index}}}", "logit": rf"\mathrm{{logit}}(\pi_{{{index}}})",
            "probit": rf"\Phi^{{-1}}(\pi_{{{index}}})",
            "cloglog": rf"\log(-\log(1 - \pi_{{{index}}}))", "log": rf"\log(\pi_{{{index}}})"}[link]


def ask_explanatory(ask) -> list:
    """Ask ``x``, the fixed part, worded the same in every regression template."""
    return ask(VariableList("x", "Explanatory variables:",
                            help="Include cons for an intercept; tick categorical variables "
                                 "(name.cat) for dummies with the last category as reference."))


def ask_distribution(ask, choices=("Normal", "Binomial", "Poisson")) -> str:
    """Ask ``D`` and, as Stat-JR does, the link and denominator or offset it needs."""
    dist = ask(Text("D", "Specify the distribution:", choices=list(choices),
                    help="Normal for continuous responses, Binomial for successes out of a "
                         "number of trials (0/1 responses: denominator cons), Poisson for counts."))
    ask_distribution_options(ask, dist)
    return dist


def ask_distribution_options(ask, dist: str, moi: bool = False) -> None:
    """The questions a distribution needs: a Binomial's link and denominator,
    a Poisson's offset.  ``moi`` words them as 2LevelImpute asks them."""
    of = " for the MOI" if moi else ""
    if dist == "Binomial":
        ask(Text("link", f"Specify the link function{of}:", choices=LINKS["Binomial"],
                 default="logit", help="logit (log-odds), probit (latent normal) or cloglog."))
        ask(Variable("n", f"Denominator (number of trials){of}:", default="cons",
                     help="The variable holding the number of trials; cons (1) for 0/1 responses."))
    elif dist == "Poisson":
        ask(Variable("offset", f"Offset (on the log scale){of}:", optional=True,
                     help="Added to the linear predictor with coefficient 1, e.g. log exposure. "
                          "Leave out for none."))


def link_of(answers) -> str:
    dist = answers["D"]
    return answers.get("link") or LINKS[dist][0]


def response(frame: pd.DataFrame, answers) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Response, denominator (ones unless Binomial) and offset (zeros unless given)."""
    y = column(frame, answers["y"])
    n = len(frame)
    m = column(frame, answers["n"]) if answers["D"] == "Binomial" else np.ones(n)
    off = column(frame, answers["offset"]) if answers.get("offset") else np.zeros(n)
    big = np.abs(np.nan_to_num(off)) > MAX_OFFSET
    if big.any():
        i = int(np.argmax(big))
        raise InputError(f"input 'offset' = {answers['offset']!r}: value {off[i]:g} (row {i + 1}) is "
                         f"beyond +-{MAX_OFFSET:g} on the log scale, where exp() overflows or "
                         "vanishes; an offset is a log exposure, so check it was logged once")
    return y, m, off


#: exp(700) is near the largest double: a log-scale offset beyond it is a mistake.
MAX_OFFSET = 700.0


def full_rank(X: np.ndarray) -> bool:
    """Whether the columns of X are linearly independent, judged on columns
    scaled to a common size (a column of 1e100s must not hide the intercept)."""
    scale = np.abs(X).max(axis=0)
    return np.linalg.matrix_rank(X / np.where(scale > 0, scale, 1.0)) == X.shape[1]


def warn_dropped(template: str, dropped: int, total: int) -> None:
    """Say (DataWarning) how many cases listwise deletion left out."""
    if dropped:
        warnings.warn(f"{template}: {dropped} of {total} cases have missing values and are left out",
                      DataWarning, stacklevel=3)


def check_response(answers, y: np.ndarray, m: np.ndarray, X: np.ndarray | None = None,
                   terms: list[str] | None = None, template: str = "") -> None:
    """Binomial and Poisson responses must be counts the likelihood can hold.

    Given the design ``X``, a Binomial model is also checked for separation,
    which leaves the coefficients unidentified (a DataWarning; the run goes on).
    """
    dist, name = answers["D"], answers["y"]
    if dist == "Normal":
        return
    bad = (y < 0) | (y != np.round(y))
    if dist == "Binomial":
        bad |= (y > m) | (m < 1) | (m != np.round(m))
    if bad.any():
        i = int(np.argmax(bad))
        need = ("whole numbers from 0 to the denominator '" + answers["n"] + "'"
                if dist == "Binomial" else "non-negative whole numbers")
        raise InputError(f"input 'y' = {name!r}: value {y[i]:g} (row {i + 1}) is not allowed for a "
                         f"{dist} response; it needs {need}")
    if dist == "Binomial" and X is not None:
        warn_separation(X, y, m, terms or [], template)


def sort_by_unit(unit: np.ndarray, nunits: int) -> tuple[np.ndarray, np.ndarray]:
    """Row order grouping units together (stable), and each unit's first row.

    Returns ``order`` (apply to every per-row array) and ``start`` of length
    ``nunits + 1`` so that unit j owns sorted rows ``start[j]:start[j+1]``.
    """
    order = np.argsort(unit, kind="stable")
    counts = np.bincount(unit, minlength=nunits)
    start = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    return order, start


def column_levels(X: np.ndarray, unit: np.ndarray) -> list[int]:
    """The level of each column of a design: 2 when it varies but is constant
    within every level-2 unit (a school's type), else 1.

    The intercept (constant everywhere) is level 1.  Rubin's complete-data
    degrees of freedom are J - k for level-2 coefficients and n - k for the
    rest, so this is read from the data, never from a variable's name.
    """
    levels = []
    order = np.argsort(unit, kind="stable")
    u = unit[order]
    first = np.r_[True, u[1:] != u[:-1]]
    starts = np.flatnonzero(first)
    for k in range(X.shape[1]):
        x = X[order, k]
        seen = ~np.isnan(x)
        if np.nanmin(x) == np.nanmax(x):
            levels.append(1)
            continue
        lo = np.minimum.reduceat(np.where(seen, x, np.inf), starts)
        hi = np.maximum.reduceat(np.where(seen, x, -np.inf), starts)
        constant = np.all((lo == hi) | ~np.isfinite(lo))
        levels.append(2 if constant else 1)
    return levels


def pooled_moments(extras: list[dict], key: str = "residuals") -> tuple[np.ndarray, np.ndarray]:
    """Posterior mean and sd of random effects from per-chain running moments."""
    total = sum(e[key][0] for e in extras)
    k = (len(extras[0][key]) - 1) // 2
    s = sum(e[key][1:1 + k] for e in extras)
    ss = sum(e[key][1 + k:] for e in extras)
    mean = s / total
    var = np.maximum(ss / total - mean ** 2, 0.0) * total / max(total - 1, 1)
    return mean, np.sqrt(var)


def residual_table(l2id: str, ids: np.ndarray, sizes: np.ndarray, mean: np.ndarray,
                   sd: np.ndarray, names: list[str]) -> pd.DataFrame:
    """Level-2 residuals: one row per unit, posterior mean and sd per effect."""
    q = len(names)
    table = pd.DataFrame({l2id: ids})

    def column_name(name: str) -> str:  # never the identifier's own column
        return name if name != l2id else name + "_"

    table[column_name("n" if l2id != "n" else "n_rows")] = sizes
    for a, name in enumerate(names):
        table[column_name(f"u_{name}_mean")] = mean[a::q]
        table[column_name(f"u_{name}_sd")] = sd[a::q]
    return table


def prepare_two_level(frame: pd.DataFrame, answers, template: str, zvars=None) -> dict:
    """Checked, listwise-complete, unit-sorted arrays for a two-level model.

    Rows with a missing response, explanatory variable, denominator or offset
    are left out (with a warning); the rest are sorted by level-2 unit so the
    C++ kernels walk each unit's rows contiguously.
    """
    from .datasets import complete_rows, design, level2_index

    y, m, off = response(frame, answers)
    X, terms = design(frame, answers["x"])
    Z, zterms = design(frame, zvars) if zvars else (np.ones((len(frame), 1)), ["cons"])
    keep = complete_rows(y, X, Z, m, off)
    dropped = int((~keep).sum())
    warn_dropped(template, dropped, len(keep))
    sub = frame.loc[keep]
    unit, ids = level2_index(sub, answers["L2ID"])
    y, m, off, X, Z = y[keep], m[keep], off[keep], X[keep], Z[keep]
    check_response(answers, y, m, X, terms, template)
    n, k = X.shape
    if len(ids) < 2:
        raise InputError(f"input 'L2ID' = {answers['L2ID']!r}: only {len(ids)} level-2 unit; "
                         "a two-level model needs several")
    if n <= k or not full_rank(X):
        raise InputError(f"input 'x' = {answers.strings['x']!r}: the explanatory variables are "
                         "collinear or too many for the complete cases; remove some")
    order, start = sort_by_unit(unit, len(ids))
    coefficients = [Param(t, "coefficient", lev) for t, lev in zip(terms, column_levels(X, unit))]
    return {"y": y[order], "m": m[order], "off": off[order], "X": X[order], "Z": Z[order],
            "start": start, "terms": terms, "zterms": zterms, "ids": ids,
            "coefficients": coefficients,
            "sizes": np.diff(start), "n": n, "J": len(ids), "K": k, "dropped": dropped}


def two_level_outputs(fit, results, normal: bool) -> None:
    """Level-2 residuals and DIC (deviance conditional on the random effects)."""
    notes = fit.spec.notes
    mean, sd = pooled_moments(fit.extras)
    results.add("ResidualsLevel2", residual_table(fit.answers["L2ID"], notes["ids"], notes["sizes"],
                                                  mean, sd, notes["zterms"]), "table")
    theta = list(fit.mean(notes["terms"]))
    if normal:
        theta.append(fit.param("sigma2_e").mean())
    dic = fit.dic(np.concatenate([theta, mean]))
    results.add("ModelFit", pd.DataFrame([{**dic, "n": notes["n"], "units": notes["J"]}]), "table")


def residual_requests(spec) -> dict:
    """Per-chain running moments of the random effects (a template's ``requests``)."""
    q = len(spec.notes["zterms"])
    return {"residuals": ("residuals", 1 + 2 * spec.notes["J"] * q)}
