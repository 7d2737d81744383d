"""Maximum-likelihood fits of Normal models, for the pooled likelihood-ratio test D3.

The models of interest are fitted by MCMC, but Meng & Rubin's D3
(:func:`statjr_py.pooling.d3`) needs maximum-likelihood fits whose
log-likelihood can be evaluated at other parameter values (the pooled
estimates).  Two closed-form cases are here, with numpy alone:

* :class:`NormalML`, the Normal linear model (``lm``): OLS coefficients and
  the ML residual variance RSS/n;
* :class:`RandomInterceptML`, the Normal random-intercept model
  (``lmer(y ~ x + (1 | unit), REML = FALSE)``), by profiling the likelihood
  over gamma = sigma2_u / sigma2_e: for given gamma the GLS coefficients and
  sigma2_e are closed form, and the profile score in gamma is solved by
  bracketing (Brent), so the MLE is found to machine precision.

ML, not REML: likelihood-ratio tests of fixed effects compare ML
likelihoods (REML likelihoods of models with different fixed effects are not
comparable), and mitml's ``testModels(..., method = "D3")`` refits REML
``lmer`` fits by ML for the same reason.  :func:`d3_test` pools lists of
these fits as mitml does: the pooled estimates are the means of each
parameter block (coefficients, and the variances on the variance scale).
Random slopes and non-Normal responses have no fit here, so no D3.
"""
from __future__ import annotations

import logging
from typing import Mapping, Sequence

import numpy as np

from .errors import InputError
from .pooling import d3

log = logging.getLogger("statjr_py.mlfit")

__all__ = ["MLFit", "NormalML", "RandomInterceptML", "normal_ml", "pooled_parameters", "d3_test"]

_LOG2PI = np.log(2 * np.pi)


def _checked(y, X, what: str) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y, dtype=float).ravel()
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[0] != len(y):
        raise InputError(f"{what}: X has shape {X.shape} but y has {len(y)} values; give X one row "
                         "per value of y")
    if not (np.isfinite(y).all() and np.isfinite(X).all()):
        raise InputError(f"{what}: y or X has missing or infinite values; drop incomplete rows first")
    if len(y) <= X.shape[1] or np.linalg.matrix_rank(X) < X.shape[1]:
        raise InputError(f"{what}: X ({X.shape[0]} rows, {X.shape[1]} columns) is collinear or has "
                         "no more rows than columns; remove columns")
    return y, X


def _check_residuals(rss: float, y: np.ndarray, what: str) -> None:
    """InputError when the model fits y exactly: with no residual variance the
    likelihood is unbounded and there is nothing for D3 to compare."""
    tss = float(np.sum((y - y.mean()) ** 2))
    if not rss > 1e-12 * tss:  # rss 0 (or rounding's): also a constant response
        raise InputError(f"{what}: the model fits the response exactly (no residual variance), so "
                         "it has no likelihood to compare; check the response")


class MLFit:
    """A maximum-likelihood fit whose log-likelihood can be evaluated elsewhere.

    Attributes
    ----------
    params : dict of str -> ndarray
        The MLEs, in blocks that D3 averages over imputations.
    loglik : float
        The maximised log-likelihood.
    df : int
        The number of parameters (as R's ``logLik`` counts them).
    """

    params: dict[str, np.ndarray]
    loglik: float
    df: int

    def loglik_at(self, params: Mapping[str, np.ndarray]) -> float:
        """This fit's data's log-likelihood at other parameters (same blocks)."""
        raise NotImplementedError


class NormalML(MLFit):
    """The Normal linear model y = X beta + e, e ~ N(0, sigma2 I), by ML.

    beta = (X'X)^-1 X'y and sigma2 = RSS / n (not RSS / (n - p)), so
    ``loglik`` is R's ``logLik(lm(...))``; df = p + 1.
    """

    def __init__(self, y, X):
        self.y, self.X = _checked(y, X, "NormalML")
        beta = np.linalg.lstsq(self.X, self.y, rcond=None)[0]
        resid = self.y - self.X @ beta
        _check_residuals(float(resid @ resid), self.y, "NormalML")
        self.params = {"beta": beta, "sigma2": np.array(resid @ resid / len(self.y))}
        self.df = self.X.shape[1] + 1
        self.loglik = self.loglik_at(self.params)

    def loglik_at(self, params):
        beta, sigma2 = np.asarray(params["beta"], dtype=float), float(params["sigma2"])
        resid = self.y - self.X @ beta
        n = len(self.y)
        return float(-0.5 * (n * (_LOG2PI + np.log(sigma2)) + resid @ resid / sigma2))


class RandomInterceptML(MLFit):
    """y_ij = x_ij' beta + u_j + e_ij, u_j ~ N(0, sigma2_u), e_ij ~ N(0, sigma2_e), by ML.

    With gamma = sigma2_u / sigma2_e, V_j = sigma2_e (I + gamma 11') and
    |V_j| = sigma2_e^n_j (1 + n_j gamma).  For fixed gamma, beta is the GLS
    estimate and sigma2_e = RSS(gamma) / n, leaving the profile
    log-likelihood -n/2 log RSS(gamma) - 1/2 sum_j log(1 + n_j gamma) + const,
    whose derivative (the envelope theorem removes beta's) is

        n/2 sum_j s_j^2 / (1 + n_j gamma)^2 / RSS(gamma) - 1/2 sum_j n_j / (1 + n_j gamma)

    with s_j the sum of unit j's GLS residuals.  If it is not positive at
    gamma = 0 the MLE is on the boundary (sigma2_u = 0, as lme4 reports a
    singular fit); otherwise its root is bracketed and found by bisection
    (:func:`_root`).  df = p + 2 (R's ``logLik`` of the ML ``lmer`` fit).
    """

    def __init__(self, y, X, unit):
        self.y, self.X = _checked(y, X, "RandomInterceptML")
        unit = np.asarray(unit).ravel()
        if len(unit) != len(self.y):
            raise InputError(f"RandomInterceptML: unit has {len(unit)} values for {len(self.y)} rows; "
                             "give one level-2 unit per row")
        self.unit = np.unique(unit, return_inverse=True)[1]
        self.sizes = np.bincount(self.unit).astype(float)
        if len(self.sizes) < 2:
            raise InputError("RandomInterceptML: the data have one level-2 unit; a random-intercept "
                             "model needs several")
        if self.sizes.max() < 2:  # lme4 refuses this too: sigma2_u and sigma2_e are not separable
            raise InputError("RandomInterceptML: every level-2 unit has one row, so the unit and "
                             "row variances cannot be told apart; give a level-2 ID that groups rows")
        J, p = len(self.sizes), self.X.shape[1]
        sx = np.zeros((J, p))
        np.add.at(sx, self.unit, self.X)
        sy = np.bincount(self.unit, weights=self.y, minlength=J)
        self._moments = (self.X.T @ self.X, self.X.T @ self.y, self.y @ self.y, sx, sy)
        hi = 1.0
        if self._score(0.0) <= 0:
            gamma = 0.0
        else:
            while self._score(hi) > 0:
                hi *= 4
                if hi > 1e12:
                    raise InputError("RandomInterceptML: the level-2 variance dwarfs the level-1 "
                                     "variance (gamma > 1e12); the response is constant within units")
            gamma = _root(self._score, 0.0, hi)
        beta, rss = self._gls(gamma)
        n = len(self.y)
        _check_residuals(rss, self.y, "RandomInterceptML")
        sigma2_e = rss / n
        self.gamma = gamma
        self.params = {"beta": beta, "sigma2_u": np.array(gamma * sigma2_e),
                       "sigma2_e": np.array(sigma2_e)}
        self.df = p + 2
        self.loglik = self.loglik_at(self.params)
        log.debug("random-intercept ML: gamma %.6g, loglik %.10g", gamma, self.loglik)

    def _gls(self, gamma: float) -> tuple[np.ndarray, float]:
        xtx, xty, yty, sx, sy = self._moments
        w = gamma / (1 + self.sizes * gamma)
        a = xtx - (sx * w[:, None]).T @ sx
        b = xty - (sx * w[:, None]).T @ sy
        beta = np.linalg.solve(a, b)
        rss = yty - w @ sy ** 2 - b @ beta
        return beta, float(rss)

    def _score(self, gamma: float) -> float:
        beta, rss = self._gls(gamma)
        _, _, _, sx, sy = self._moments
        s = sy - sx @ beta
        h = 1 + self.sizes * gamma
        n = len(self.y)
        return float(0.5 * n * np.sum(s ** 2 / h ** 2) / rss - 0.5 * np.sum(self.sizes / h))

    def loglik_at(self, params):
        beta = np.asarray(params["beta"], dtype=float)
        s2u, s2e = float(params["sigma2_u"]), float(params["sigma2_e"])
        resid = self.y - self.X @ beta
        s = np.bincount(self.unit, weights=resid, minlength=len(self.sizes))
        quad = resid @ resid - np.sum(s2u / (s2e + self.sizes * s2u) * s ** 2)
        logdet = np.sum((self.sizes - 1) * np.log(s2e) + np.log(s2e + self.sizes * s2u))
        return float(-0.5 * (len(self.y) * _LOG2PI + logdet + quad / s2e))


def normal_ml(frame, answers, drop=(), l2id: str | None = None) -> MLFit:
    """The ML fit of a Normal model of interest to one dataset, without the terms ``drop``.

    ``answers`` holds the model's ``y`` (a column name) and ``x`` (Vars, as
    :func:`statjr_py.datasets.design` takes them); with ``l2id`` the model has
    a random intercept for its units.  Rows missing y or any column of the
    full design are left out of the full and the reduced fit alike, so the
    two likelihoods are of the same data.

    Parameters
    ----------
    frame : DataFrame
    answers : mapping with "y" and "x"
    drop : sequence of str
        Term names (as ``design`` names them, e.g. ``school_1``) to leave out.
    l2id : str, optional
        The level-2 identifier column.
    """
    from .datasets import column, complete_rows, design, level2_index

    y = column(frame, answers["y"])
    X, terms = design(frame, answers["x"])
    unknown = [t for t in drop if t not in terms]
    if unknown:
        raise InputError(f"normal_ml: term {unknown[0]!r} is not in the model; its terms are "
                         f"{', '.join(terms)}")
    rows = complete_rows(y, X)
    X = X[:, [i for i, t in enumerate(terms) if t not in set(drop)]]
    if l2id is None:
        return NormalML(y[rows], X[rows])
    return RandomInterceptML(y[rows], X[rows], level2_index(frame, l2id)[0][rows])


def pooled_parameters(fits: Sequence[MLFit]) -> dict[str, np.ndarray]:
    """The mean of each parameter block over the fits (variances on the variance scale)."""
    return {name: np.mean([np.asarray(f.params[name], dtype=float) for f in fits], axis=0)
            for name in fits[0].params}


def d3_test(full: Sequence[MLFit], null: Sequence[MLFit], positive: bool = False) -> dict:
    """Meng & Rubin's D3 from the full and null models' ML fits to each imputed dataset.

    ``full[l]`` and ``null[l]`` are fitted to imputed dataset l; the null
    model must be nested in the full one (e.g. the same model without the
    tested columns of X).  Each fit's log-likelihood is evaluated at its own
    MLEs and at the pooled ones (:func:`pooled_parameters`), and
    :func:`statjr_py.pooling.d3` does the rest, with k = full df - null df.

    Returns
    -------
    dict with F, df1, df2, p, riv.
    """
    if len(full) != len(null):
        raise InputError(f"d3_test: {len(full)} full-model fits but {len(null)} null-model fits; "
                         "fit both models to every imputed dataset")
    k = full[0].df - null[0].df
    if k < 1:
        raise InputError(f"d3_test: the full model has {full[0].df} parameters and the null model "
                         f"{null[0].df}; the null model must drop at least one")
    qbar, qbar0 = pooled_parameters(full), pooled_parameters(null)
    return d3([f.loglik for f in full], [f.loglik for f in null],
              [f.loglik_at(qbar) for f in full], [f.loglik_at(qbar0) for f in null], k, positive)


def _root(f, lo: float, hi: float, xtol: float = 1e-14) -> float:
    """The root of ``f`` in [lo, hi], where f(lo) > 0 >= f(hi), by bisection.

    Bisection rather than scipy's ``brentq``: the score here is cheap, about
    80 halvings reach the tolerance, and importing ``scipy.optimize`` would
    cost every worked-example run about 0.3 s.  The interval stops shrinking
    at ``xtol + 4 eps |x|``, brentq's tolerance as this module used it.
    """
    eps = 4 * np.finfo(float).eps
    while hi - lo > xtol + eps * abs(hi):
        mid = 0.5 * (lo + hi)
        if mid <= lo or mid >= hi:  # no double left between them
            break
        if f(mid) > 0:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)
