"""Rubin's rules for combining fits to multiply imputed datasets.

Small documented functions, as statsmodels' ``MICE.combine`` and R's mitml
keep them: :func:`rubin` pools each parameter alone (mitml's
``testEstimates``, with the Barnard-Rubin 1999 df); :func:`d1`, :func:`d2`
and :func:`d3` test several parameters at once (mitml's ``testModels`` and
``testConstraints``).  They take plain arrays (estimates and covariances for
D1 and D2, log-likelihoods for D3), so fits made elsewhere can be pooled too;
:mod:`statjr_py.mlfit` supplies the maximum-likelihood fits D3 needs for
Normal one- and two-level models.  The t and F tails come from
``scipy.special``, imported inside the functions: ``scipy.stats`` would add
about 0.7 s to every run that pools.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["rubin", "d1", "d2", "d3"]


def _t_quantile(prob, df):
    """Student t quantile.  scipy.special, not scipy.stats: the same values
    (tested), without the 0.7 s scipy.stats adds to every run's imports."""
    from scipy import special

    return special.stdtrit(df, prob)


def _t_sf(x, df):
    """P(T > x) for Student's t with ``df`` degrees of freedom."""
    from scipy import special

    return special.stdtr(df, -np.asarray(x, dtype=float))


def _f_sf(f: float, df1: float, df2: float) -> float:
    """P(F > f) for F(df1, df2); F(df1, inf) is chi-square(df1) / df1, as R's
    ``pf`` has it, and a negative statistic (D2 can give one) has p = 1."""
    from scipy import special

    if f < 0:
        return 1.0
    if np.isinf(df2):
        return float(special.chdtrc(df1, f * df1))
    return float(special.fdtrc(df1, df2, f))


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
    crit = _t_quantile(0.975, df)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = 2 * _t_sf(np.abs(qbar / se), df)
    if test is not None:
        p = np.where(np.asarray(test, dtype=bool), p, np.nan)
    return pd.DataFrame({
        "term": list(terms) if terms is not None else [f"Q{i}" for i in range(k)],
        "estimate": qbar, "se": se, "df": df, "riv": riv, "fmi": fmi,
        "ci_lower": qbar - crit * se, "ci_upper": qbar + crit * se, "p": p,
    })


def _stack(estimates, covariances, null=None) -> tuple[np.ndarray, np.ndarray]:
    """Estimates minus the null value, shaped (m, k), and covariances (m, k, k), checked."""
    q = np.atleast_2d(np.asarray(estimates, dtype=float))
    u = np.asarray(covariances, dtype=float)
    if u.ndim == 2 and q.shape[1] == 1:
        u = u.reshape(-1, 1, 1)
    m, k = q.shape
    if u.shape != (m, k, k):
        raise ValueError(f"covariances must be shaped (m, k, k) = ({m}, {k}, {k}), not {u.shape}")
    if m < 2:
        raise ValueError("pooled tests need at least two imputations")
    return q - (0.0 if null is None else np.asarray(null, dtype=float)), u


def d1(estimates, covariances, df_complete: float | None = None, null=None) -> dict:
    """The pooled Wald test D1 of Q = ``null`` (default 0) for k parameters.

    Li, Raghunathan & Rubin (1991), JASA 86(416), 1065-1073: with Qbar, Ubar
    the means of the m estimate vectors and covariance matrices and B the
    between-imputation covariance, the average relative increase in variance
    r = (1 + 1/m) tr(B Ubar^-1) / k gives T~ = (1 + r) Ubar and
    D1 = (Qbar - Q0)' T~^-1 (Qbar - Q0) / k, referred to F(k, v).  With
    t = k(m - 1), v = 4 + (t - 4)(1 + (1 - 2/t)/r)^2 when t > 4, else
    t(1 + 1/k)(1 + 1/r)^2 / 2.  With a finite complete-data df (``df_complete``,
    e.g. n - p) the denominator df are Reiter's (2007, Biometrika 94(2),
    502-508) small-sample ones.  This is what mitml 0.4's ``testModels`` and
    ``testConstraints`` compute (method "D1"), except that Reiter's df need
    t > 4: for t <= 4 (two imputations of one or two parameters) mitml returns
    NaN, and this falls back to Li et al.'s.

    Parameters
    ----------
    estimates : array_like, shape (m, k)
    covariances : array_like, shape (m, k, k)
        Each imputation's estimates and their covariance matrix (for a Bayesian
        fit, the posterior means and covariance).
    df_complete : float, optional
    null : array_like of length k, optional

    Returns
    -------
    dict with F, df1, df2, p, riv.
    """
    q, u = _stack(estimates, covariances, null)
    m, k = q.shape
    qbar, ubar = q.mean(axis=0), u.mean(axis=0)
    b = np.atleast_2d(np.cov(q, rowvar=False, ddof=1))
    r = (1 + 1 / m) * np.trace(b @ np.linalg.inv(ubar)) / k
    f = float(qbar @ np.linalg.solve((1 + r) * ubar, qbar) / k)
    t = k * (m - 1)
    if df_complete is not None and np.isfinite(df_complete) and t > 4:
        v = _reiter_df(r, t, df_complete)
    elif t > 4:
        v = 4 + (t - 4) * (1 + (1 - 2 / t) / r) ** 2
    else:
        v = t * (1 + 1 / k) * (1 + 1 / r) ** 2 / 2
    return {"F": f, "df1": k, "df2": float(v), "p": _f_sf(f, k, v), "riv": float(r)}


def _reiter_df(r: float, t: float, df_complete: float) -> float:
    """Reiter's (2007) denominator df for D1, his eq. (3) in full.

    a = r t/(t - 2), v* = v_com (v_com + 1)/(v_com + 3) (Barnard & Rubin's
    small-sample complete-data df); the expansion's higher-order terms keep
    the F reference accurate when v* is small.
    """
    a = r * t / (t - 2)
    vstar = (df_complete + 1) / (df_complete + 3) * df_complete
    c0, c1, c2 = 1 / (t - 4), vstar - 2 * (1 + a), vstar - 4 * (1 + a)
    z = (1 / c2 + c0 * a ** 2 * c1 / ((1 + a) ** 2 * c2)
         + c0 * (8 * a ** 2 * c1 / ((1 + a) * c2 ** 2) + 4 * a ** 2 / ((1 + a) * c2))
         + c0 * (4 * a ** 2 / (c2 * c1) + 16 * a ** 2 * c1 / c2 ** 3)
         + c0 * 8 * a ** 2 / c2 ** 2)
    return 4 + 1 / z


def d2(estimates, covariances, null=None) -> dict:
    """The test D2 that pools the m Wald chi-square statistics.

    Li, Meng, Raghunathan & Rubin (1991), Statistica Sinica 1(1), 65-92:
    with d_l = (Q_l - Q0)' U_l^-1 (Q_l - Q0) from each imputation and
    r = (1 + 1/m) var(sqrt(d_l)), D2 = (mean d_l / k - (m + 1)/(m - 1) r)/(1 + r),
    referred to F(k, k^(-3/m) (m - 1)(1 + 1/r)^2).  It needs only the
    per-imputation Wald statistics, so it serves where B is badly estimated,
    at the price of a test that is often conservative.  As mitml's method
    "D2" with ``use = "wald"``.

    Returns
    -------
    dict with F, df1, df2, p, riv.
    """
    q, u = _stack(estimates, covariances, null)
    m, k = q.shape
    dw = np.array([q[i] @ np.linalg.solve(u[i], q[i]) for i in range(m)])
    r = (1 + 1 / m) * np.var(np.sqrt(dw), ddof=1)
    f = float((dw.mean() / k - (m + 1) / (m - 1) * r) / (1 + r))
    v = k ** (-3 / m) * (m - 1) * (1 + 1 / r) ** 2
    return {"F": f, "df1": k, "df2": float(v), "p": _f_sf(f, k, v), "riv": float(r)}


def d3(loglik, loglik_null, loglik_pooled, loglik_null_pooled, k: int,
       positive: bool = False) -> dict:
    """Meng & Rubin's pooled likelihood-ratio test D3 of a null model nested in a full one.

    Meng & Rubin (1992), JASA 87(417), 103-111 (Schafer 1997, *Analysis of
    Incomplete Multivariate Data*, section 4.3.3).  Each of the m imputed
    datasets is fitted twice by maximum likelihood, by the full model and by
    the null model that drops k parameters (or constrains them).  With

        d_l   = 2 (loglik_l - loglik_null_l)             at dataset l's own MLEs,
        d~_l  = 2 (loglik_pooled_l - loglik_null_pooled_l)  at the pooled MLEs,

    where the pooled estimates are the averages over the m datasets of each
    model's MLEs and are evaluated on dataset l's likelihood, dbar and d~ the
    means of d_l and d~_l:

        r  = (m + 1) / (k (m - 1)) (dbar - d~),   D3 = d~ / (k (1 + r)),

    referred to F(k, v) with Li et al.'s df as for :func:`d1`: t = k(m - 1),
    v = 4 + (t - 4)(1 + (1 - 2/t)/r)^2 when t > 4, else
    t (1 + 1/k)(1 + 1/r)^2 / 2.  This is mitml 0.4's ``testModels(...,
    method = "D3")``, including its handling of r: it is kept as computed,
    even when negative (as it may be by chance when little information is
    missing), unless ``positive`` (mitml's ``ariv = "positive"``) truncates it
    at 0, where v is infinite.

    D3 needs every model's log-likelihood at parameters other than its own
    MLEs, so it serves only models whose likelihood can be evaluated: here
    Normal linear models and random-intercept models fitted by ML (not REML:
    REML likelihoods of models with different fixed effects are not
    comparable), see :func:`statjr_py.mlfit.d3_test`.

    Parameters
    ----------
    loglik, loglik_null : array_like, length m
        Each dataset's maximised log-likelihood under the full and null models.
    loglik_pooled, loglik_null_pooled : array_like, length m
        Each dataset's log-likelihood at the pooled full-model and pooled
        null-model estimates.
    k : int
        The number of parameters the null model drops (the difference in the
        models' numbers of parameters).
    positive : bool
        Truncate r at zero.

    Returns
    -------
    dict with F, df1, df2, p, riv.
    """
    lls = [np.asarray(a, dtype=float).ravel()
           for a in (loglik, loglik_null, loglik_pooled, loglik_null_pooled)]
    m = len(lls[0])
    if any(len(a) != m for a in lls):
        raise ValueError("d3 needs the four log-likelihood arrays with one value per imputation "
                         f"each; their lengths are {[len(a) for a in lls]}")
    if m < 2:
        raise ValueError("pooled tests need at least two imputations")
    if int(k) != k or k < 1:
        raise ValueError(f"k = {k!r}: the number of parameters tested must be a positive integer")
    dbar = np.mean(2 * (lls[0] - lls[1]))
    dtilde = np.mean(2 * (lls[2] - lls[3]))
    r = (m + 1) / (k * (m - 1)) * (dbar - dtilde)
    if positive:
        r = max(r, 0.0)
    f = dtilde / (k * (1 + r))
    t = k * (m - 1)
    inv_r = np.inf if r == 0 else 1 / r
    if t > 4:
        v = 4 + (t - 4) * (1 + (1 - 2 / t) * inv_r) ** 2
    else:
        v = t * (1 + 1 / k) * (1 + inv_r) ** 2 / 2
    p = _f_sf(f, k, v)
    return {"F": float(f), "df1": int(k), "df2": float(v), "p": float(p), "riv": float(r)}
