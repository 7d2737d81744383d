"""MCMC diagnostics: effective sample size, Monte Carlo error, R-hat, ACF.

Each function works on an array of draws shaped ``(nchains, ndraws)`` (one
parameter) unless it says otherwise, and names the paper it implements.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pandas is imported where a table is made
    import pandas as pd


def _as_chains(x) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2:
        raise ValueError("draws must be shaped (nchains, ndraws)")
    return x


def autocorrelation(x: np.ndarray, max_lag: int | None = None) -> np.ndarray:
    """Sample autocorrelation of one series at lags 0..max_lag, by FFT.

    The biased (divide by n) estimator, which keeps the sequence positive
    semi-definite as Geyer's truncation rule assumes.
    """
    x = np.asarray(x, dtype=float)
    n = x.size
    max_lag = n - 1 if max_lag is None else min(max_lag, n - 1)
    d = x - x.mean()
    size = 1 << int(np.ceil(np.log2(2 * n)))
    f = np.fft.rfft(d, size)
    acov = np.fft.irfft(f * np.conj(f), size)[: max_lag + 1] / n
    if acov[0] <= 0:
        out = np.zeros(max_lag + 1)
        out[0] = 1.0
        return out
    return acov / acov[0]


def partial_autocorrelation(x: np.ndarray, max_lag: int) -> np.ndarray:
    """Partial autocorrelation at lags 1..max_lag by the Durbin-Levinson recursion.

    Durbin (1960), Revue de l'Institut International de Statistique 28, 233-244.
    A first-order Markov chain should show one large value at lag 1 only.
    """
    rho = autocorrelation(x, max_lag)
    pacf = np.zeros(max_lag)
    phi = np.zeros(max_lag + 1)
    for k in range(1, max_lag + 1):
        prev = phi[1:k].copy()
        num = rho[k] - np.dot(prev, rho[k - 1:0:-1])
        den = 1.0 - np.dot(prev, rho[1:k])
        a = num / den if den > 1e-12 else 0.0
        phi[1:k] = prev - a * prev[::-1]
        phi[k] = a
        pacf[k - 1] = a
    return pacf


def ess_chain(x: np.ndarray) -> float:
    """Effective sample size of one chain, Geyer's initial monotone sequence.

    Geyer (1992), "Practical Markov chain Monte Carlo", Statistical Science
    7(4), 473-483: sums of adjacent autocorrelation pairs are positive and
    decreasing for a reversible chain, so the sum is truncated at the first
    non-positive pair and forced monotone.  For AR(1) with coefficient phi
    the answer tends to n(1 - phi)/(1 + phi).
    """
    x = np.asarray(x, dtype=float)
    n = x.size
    if n < 4 or np.ptp(x) == 0:
        return float(n)
    rho = autocorrelation(x)
    pairs = rho[0:n - 1:2][: (n - 1) // 2] + rho[1:n:2][: (n - 1) // 2]
    tau, smallest = -1.0, np.inf
    for p in pairs:
        if p <= 0:
            break
        smallest = min(smallest, p)
        tau += 2.0 * smallest
    tau = max(tau, 1.0 / np.log10(max(n, 10)))  # antithetic chains: cap ESS
    return float(n / tau)


def ess(draws) -> float:
    """ESS summed over chains, as Stat-JR reports it."""
    return float(sum(ess_chain(c) for c in _as_chains(draws)))


def mcse(draws) -> float:
    """Monte Carlo standard error of the posterior mean: sd / sqrt(ESS)."""
    x = _as_chains(draws)
    e = ess(x)
    return float(x.std(ddof=1) / np.sqrt(e)) if x.size > 1 and e > 0 else float("nan")


def rhat(draws) -> float:
    """Split potential scale reduction factor.

    Gelman & Rubin (1992), Statistical Science 7(4), 457-472, with each chain
    split in halves as in Gelman et al. (2013), *Bayesian Data Analysis*, 3rd
    ed., section 11.4, so that a drifting single chain is caught too.  Values
    near 1 mean the chains agree; above about 1.01-1.1 they do not.
    """
    x = _as_chains(draws)
    half = x.shape[1] // 2
    if half < 2:
        return float("nan")
    split = np.concatenate([x[:, :half], x[:, x.shape[1] - half:]], axis=0)
    n = split.shape[1]
    w = split.var(axis=1, ddof=1).mean()
    b = n * split.mean(axis=1).var(ddof=1)
    if w <= 0:
        return float("nan") if b <= 0 else float("inf")
    var_plus = (n - 1) / n * w + b / n
    return float(np.sqrt(var_plus / w))


def mcse_curve(x: np.ndarray, points: int = 40) -> tuple[np.ndarray, np.ndarray]:
    """MCSE of the mean after the first k draws, for k up to the chain length.

    The seed's bottom-left panel: how the Monte Carlo error falls as the run
    lengthens, extrapolated here only within the run.
    """
    x = np.asarray(x, dtype=float).ravel()
    ks = np.unique(np.linspace(max(20, x.size // points), x.size, points).astype(int))
    return ks, np.array([mcse(x[:k]) for k in ks])


def brooks_gelman(draws, points: int = 40, coverage: float = 0.8):
    """Interval-based Brooks-Gelman-Rubin diagnostic over growing windows.

    Brooks & Gelman (1998), "General methods for monitoring convergence of
    iterative simulations", JCGS 7(4), 434-455, section 3.2: in the first 2k
    draws, take the second half of each chain; the width of the central
    ``coverage`` interval of the pooled draws (between+within) and the mean
    width within chains, and their ratio, which should settle near 1.

    Returns
    -------
    iterations, pooled_width, within_width, ratio : ndarrays
    """
    x = _as_chains(draws)
    lo, hi = (1 - coverage) / 2, 1 - (1 - coverage) / 2
    ends = np.unique(np.linspace(max(4, x.shape[1] // points), x.shape[1], points).astype(int))
    pooled, within = [], []
    for end in ends:
        window = x[:, end // 2:end]
        q = np.quantile(window, [lo, hi])
        pooled.append(q[1] - q[0])
        qs = np.quantile(window, [lo, hi], axis=1)
        within.append(float(np.mean(qs[1] - qs[0])))
    pooled, within = np.array(pooled), np.array(within)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(within > 0, pooled / within, np.nan)
    return ends, pooled, within, ratio


def summarise(draws: np.ndarray, params: list) -> pd.DataFrame:
    """ModelResults: one row per parameter from draws shaped (nchains, ndraws, nparams).

    ``params`` are :class:`~statjr_py.template.Param` objects (or plain
    names, of kind "other"); their kind becomes the ``kind`` column, which
    pooling and the tables read instead of parsing names.
    """
    import pandas as pd

    rows = []
    nchains = draws.shape[0]
    for k, p in enumerate(params):
        x = draws[:, :, k]
        flat = x.ravel()
        row = {"term": getattr(p, "name", p), "kind": getattr(p, "kind", "other"),
               "mean": flat.mean(), "sd": flat.std(ddof=1) if flat.size > 1 else np.nan,
               "ess": ess(x), "mcse": mcse(x),
               "2.5%": np.quantile(flat, 0.025), "97.5%": np.quantile(flat, 0.975)}
        if nchains > 1:
            row["rhat"] = rhat(x)
        rows.append(row)
    return pd.DataFrame(rows)
