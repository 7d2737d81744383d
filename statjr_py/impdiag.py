"""Imputation diagnostics that respect clustering.

Imputed values should look like what the model says the missing ones are:
not necessarily like the observed ones (under MAR they may differ), but
neither absurd nor flattening the multilevel structure.  For each imputed
variable this compares the observed values with the imputed ones, pooled over
the imputations (Abayomi, Gelman & Levy 2008, JRSS C 57(3); van Buuren 2018,
*Flexible Imputation of Missing Data*, 2nd ed., section 6.6), and for
level-1 variables the intraclass correlation and the within- and
between-unit variances of the observed against the completed data, which a
single-level imputation would pull towards zero between units (Lüdtke,
Robitzsch & Grund 2017, Psychological Methods 22(1)).  The share of imputed
values in each level-2 unit shows where the imputations carry most weight.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["ImputedVariable", "imputation_diagnostics", "missing_by_unit", "imputation_svg",
           "variance_components"]


@dataclass(frozen=True)
class ImputedVariable:
    """One variable the imputation model filled in."""

    name: str
    type: str       # Normal, Binary, Ordered, Unordered
    level: int      # 1 or 2


def variance_components(y: np.ndarray, unit: np.ndarray) -> tuple[float, float, float]:
    """Within- and between-unit variances and the ICC, by one-way ANOVA.

    The moment estimator for unbalanced units (Searle, Casella & McCulloch
    1992, *Variance Components*, section 3.6): sigma2_w = MSW,
    sigma2_b = (MSB - MSW) / n0 with n0 = (N - sum n_j^2 / N) / (J - 1),
    truncated at 0.  NaN values are left out.
    """
    keep = ~np.isnan(y)
    y, unit = y[keep], unit[keep]
    codes, inverse = np.unique(unit, return_inverse=True)
    J, N = len(codes), len(y)
    if J < 2 or N <= J:
        return float("nan"), float("nan"), float("nan")
    nj = np.bincount(inverse)
    means = np.bincount(inverse, weights=y) / nj
    ssw = float(((y - means[inverse]) ** 2).sum())
    ssb = float((nj * (means - y.mean()) ** 2).sum())
    msw, msb = ssw / (N - J), ssb / (J - 1)
    n0 = (N - (nj ** 2).sum() / N) / (J - 1)
    between = max((msb - msw) / n0, 0.0)
    return msw, between, between / (between + msw) if between + msw > 0 else float("nan")


def _rows_for(var: ImputedVariable, observed: np.ndarray, imputed: np.ndarray,
              completed: list[np.ndarray]) -> list[dict]:
    """n, then mean and sd (Normal) or the share of each category."""
    base = {"variable": var.name, "level": var.level, "type": var.type}
    rows = [{**base, "statistic": "n", "observed": float(observed.size),
             "imputed": imputed.size / max(len(completed), 1), "completed": float(completed[0].size)}]
    if var.type == "Normal":
        for stat, fn in (("mean", np.mean), ("sd", lambda v: np.std(v, ddof=1))):
            rows.append({**base, "statistic": stat,
                         "observed": float(fn(observed)) if observed.size > 1 else np.nan,
                         "imputed": float(fn(imputed)) if imputed.size > 1 else np.nan,
                         "completed": float(np.mean([fn(c) for c in completed]))})
    else:
        codes = np.unique(np.concatenate([observed, imputed, *completed]))
        for code in codes:
            label = str(int(code)) if float(code).is_integer() else str(code)
            rows.append({**base, "statistic": f"share_{label}",
                         "observed": float(np.mean(observed == code)) if observed.size else np.nan,
                         "imputed": float(np.mean(imputed == code)) if imputed.size else np.nan,
                         "completed": float(np.mean([np.mean(c == code) for c in completed]))})
    return rows


def imputation_diagnostics(original: pd.DataFrame, completed: list[pd.DataFrame],
                           variables: list[ImputedVariable],
                           unit: np.ndarray | None = None) -> pd.DataFrame:
    """The Imputation_Diagnostics table: observed against imputed, per variable.

    Parameters
    ----------
    original : DataFrame
        The data with missing values.
    completed : list of DataFrame
        The M completed datasets, rows in the original's order.
    variables : list of ImputedVariable
    unit : ndarray, optional
        The level-2 unit of each row (for the variance components).

    Returns
    -------
    DataFrame with columns variable, level, type, statistic, observed,
    imputed, completed.  ``imputed`` pools the imputed values over all
    imputations; ``completed`` averages the statistic over the completed
    datasets.  For level-2 variables each unit counts once.
    """
    rows = []
    for var in variables:
        x = pd.to_numeric(original[var.name], errors="coerce").to_numpy(dtype=float)
        rows_at = np.arange(len(x))
        if var.level == 2 and unit is not None:
            _, rows_at = np.unique(unit, return_index=True)  # one row per unit
        miss = np.isnan(x[rows_at])
        values = [pd.to_numeric(c[var.name], errors="coerce").to_numpy(dtype=float)[rows_at]
                  for c in completed]
        observed = x[rows_at][~miss]
        imputed = np.concatenate([v[miss] for v in values]) if values else np.array([])
        var_rows = _rows_for(var, observed, imputed, values)
        if var.type == "Normal" and var.level == 1 and unit is not None:
            base = {"variable": var.name, "level": 1, "type": var.type}
            seen = variance_components(x, unit)
            comps = [variance_components(v, unit) for v in values]
            for k, stat in enumerate(("var_within", "var_between", "icc")):
                var_rows.append({**base, "statistic": stat, "observed": seen[k], "imputed": np.nan,
                                 "completed": float(np.mean([c[k] for c in comps]))})
        rows += var_rows
    return pd.DataFrame(rows, columns=["variable", "level", "type", "statistic", "observed",
                                       "imputed", "completed"])


def missing_by_unit(original: pd.DataFrame, names: list[str], l2id: str) -> pd.DataFrame:
    """Per level-2 unit: its rows and the share of each variable's values imputed."""
    groups = original.groupby(l2id, sort=True)
    out = pd.DataFrame({l2id: list(groups.groups), "n": groups.size().to_numpy()})
    for name in names:
        out[f"imputed_{name}"] = groups[name].apply(lambda s: float(s.isna().mean())).to_numpy()
    return out


def imputation_svg(var: ImputedVariable, observed: np.ndarray, imputed: np.ndarray) -> str:
    """Observed against imputed: densities for a Normal variable, shares for categories."""
    from .plots import kde
    from .svgplot import Figure

    fig = Figure(640, 400, f"{var.name}: observed and imputed values (all imputations)")
    (panel,) = fig.grid(1, 1, left=70, top=55, bottom=55)
    series = ((observed, "#1f77b4", "observed"), (imputed, "#d62728", "imputed"))
    if var.type == "Normal":
        both = np.concatenate([observed, imputed])
        lo, hi = (np.quantile(both, [0.001, 0.999]) if both.size else (0.0, 1.0))
        pad = 0.1 * (hi - lo if hi > lo else 1.0)
        grid = np.linspace(lo - pad, hi + pad, 256)
        for values, colour, label in series:
            if values.size > 1:
                panel.line(grid, kde(values, grid), colour, 1.5, label=f"{label} ({values.size})")
        panel.xlabel, panel.ylabel = var.name, "density"
    else:
        codes = np.unique(np.concatenate([observed, imputed]))
        for shift, (values, colour, label) in zip((-0.2, 0.2), series):
            shares = [np.mean(values == c) if values.size else 0.0 for c in codes]
            panel.bars(np.arange(len(codes)) + shift, shares, 0.4, colour,
                       label=f"{label} ({values.size})")
        panel.xlabel = f"{var.name}: category " + ", ".join(
            f"{i} = {int(c) if float(c).is_integer() else c}" for i, c in enumerate(codes))
        panel.ylabel, panel.ylim, panel.xlim = "share", (0.0, 1.0), (-0.6, len(codes) - 0.4)
    return fig.svg()
