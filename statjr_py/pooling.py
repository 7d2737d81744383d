"""Rubin's rules for combining fits to multiply imputed datasets.

One small function, as statsmodels' ``MICE.combine`` and R's mitml
(``testEstimates``) keep it, with the Barnard-Rubin (1999) small-sample
degrees of freedom.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats


def rubin(estimates, variances, df_complete, terms=None, test=None) -> pd.DataFrame:
    """Pool m fits by Rubin's rules.

    Each imputation l gives estimates Q_l (here posterior means) and their
    variances U_l (posterior variances).  With Q = mean Q_l, U = mean U_l and
    B = var(Q_l) (denominator m - 1), the total variance is
    T = U + (1 + 1/m) B (Rubin 1987, *Multiple Imputation for Nonresponse
    in Surveys*, eq. 3.1.7).  Degrees of freedom follow Barnard & Rubin
    (1999, Biometrika 86, 948-955), as mitml and mice compute them:

        lambda = (1 + 1/m) B / T,   nu_old = (m - 1) / lambda^2,
        nu_obs = (nu_com + 1) / (nu_com + 3) * nu_com * (1 - lambda),
        df = 1 / (1 / nu_old + 1 / nu_obs)

    which never exceeds the complete-data ``nu_com``.  riv = (1 + 1/m) B / U
    is the relative increase in variance; fmi = (riv + 2 / (df + 3)) /
    (riv + 1) the fraction of missing information.  Intervals are
    Q +- t_{df, 0.975} sqrt(T); p is the two-sided t test of Q = 0.

    Parameters
    ----------
    estimates, variances : array_like, shape (m, k)
        One row per imputation, one column per parameter.
    df_complete : float or array_like of length k
        The complete-data degrees of freedom nu_com (e.g. n - k).
    terms : list of str, optional
        Parameter names for the ``term`` column.
    test : array_like of bool, optional
        False where a t test of zero makes no sense (variances); p is NaN there.

    Returns
    -------
    DataFrame with columns term, estimate, se, df, riv, fmi, ci_lower,
    ci_upper, p.  When B = 0 (identical imputations) riv and fmi are 0 and df
    is nu_obs = (nu_com + 1) / (nu_com + 3) * nu_com, the Barnard-Rubin
    small-sample complete-data df.
    """
    q = np.atleast_2d(np.asarray(estimates, dtype=float))
    u = np.atleast_2d(np.asarray(variances, dtype=float))
    if q.shape != u.shape:
        raise ValueError("estimates and variances must have the same shape (m, k)")
    m, k = q.shape
    if m < 2:
        raise ValueError("Rubin's rules need at least two imputations")
    nu_com = np.broadcast_to(np.asarray(df_complete, dtype=float), (k,))
    qbar, ubar = q.mean(axis=0), u.mean(axis=0)
    b = q.var(axis=0, ddof=1)
    t = ubar + (1 + 1 / m) * b
    with np.errstate(divide="ignore", invalid="ignore"):
        lam = np.where(t > 0, (1 + 1 / m) * b / t, 0.0)
        riv = np.where(ubar > 0, (1 + 1 / m) * b / ubar, np.inf)
        nu_old = np.where(lam > 0, (m - 1) / lam ** 2, np.inf)
        nu_obs = (nu_com + 1) / (nu_com + 3) * nu_com * (1 - lam)
        df = 1 / (1 / nu_old + 1 / nu_obs)
        fmi = (riv + 2 / (df + 3)) / (riv + 1)
    fmi = np.where(b > 0, fmi, 0.0)
    se = np.sqrt(t)
    crit = stats.t.ppf(0.975, df)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = 2 * stats.t.sf(np.abs(qbar / se), df)
    if test is not None:
        p = np.where(np.asarray(test, dtype=bool), p, np.nan)
    return pd.DataFrame({
        "term": list(terms) if terms is not None else [f"Q{i}" for i in range(k)],
        "estimate": qbar, "se": se, "df": df, "riv": riv, "fmi": fmi,
        "ci_lower": qbar - crit * se, "ci_upper": qbar + crit * se, "p": p,
    })
