"""MCMC diagnostics: effective sample size, Monte Carlo error, R-hat, ACF.

Each function works on an array of draws shaped ``(nchains, ndraws)`` (one
parameter) unless it says otherwise, and names the paper it implements.
"""
from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pandas is imported where a table is made
    import pandas as pd


#: Fewer draws per chain than this give no estimate of a chain's density or
#: autocorrelation worth drawing: the same floor :func:`_multichain_ess` and
#: :func:`ess_chain` put on a (split) chain before they return an ESS.
MIN_DRAWS = 4

#: The MCSE curve's first point: batch means of about sqrt(20) = 4 draws in
#: 5 batches, the fewest from which a variance of batch means says anything.
MCSE_CURVE_MIN_DRAWS = 20


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


def partial_autocorrelation(x: np.ndarray, max_lag: int, acf: np.ndarray | None = None) -> np.ndarray:
    """Partial autocorrelation at lags 1..max_lag by the Durbin-Levinson recursion.

    Durbin (1960), Revue de l'Institut International de Statistique 28, 233-244.
    A first-order Markov chain should show one large value at lag 1 only.
    ``acf``, if given, is ``autocorrelation(x, max_lag)`` already computed (the
    six-panel plot draws both), so that the FFT is not done twice.
    """
    rho = autocorrelation(x, max_lag) if acf is None else acf
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
    if n < MIN_DRAWS or np.ptp(x) == 0:
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


def split_chains(draws) -> np.ndarray:
    """Each chain cut into its first and second halves (2M chains of N // 2).

    A chain that drifts shows as two halves that disagree, which R-hat then
    catches (Gelman et al. 2013, *Bayesian Data Analysis*, 3rd ed., 11.4).
    With N odd the middle draw is left out.
    """
    x = _as_chains(draws)
    half = x.shape[1] // 2
    return np.concatenate([x[:, :half], x[:, x.shape[1] - half:]], axis=0)


def rank_normalise(x: np.ndarray) -> np.ndarray:
    """Normal scores of the pooled ranks: Phi^-1((r - 3/8) / (S + 1/4)).

    Blom's (1958) offsets; ties get their average rank.  Vehtari, Gelman,
    Simpson, Carpenter & Buerkner (2021), Bayesian Analysis 16(2), 667-718,
    section 4.1: computed on the ranks, R-hat and ESS work for heavy tails
    and are invariant to monotone transformations.
    """
    x = np.asarray(x, dtype=float)
    flat = x.ravel()
    if not flat.size or np.isnan(flat).any():
        return normal_quantile((average_ranks(x) - 0.375) / (x.size + 0.25))
    # average_ranks and normal_quantile, the same arithmetic on the same numbers, with
    # less of it: a value without ties has rank s + 1 (s values below it), whose score
    # _blom_scores holds for this size; only the average ranks of tied values (e.g.
    # two draws equally far from the median in the folded R-hat) are computed here.
    # Any sort will do: tied values all get their group's one score.
    order = np.argsort(flat)
    ordered = flat[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1], True])
    counts = np.diff(starts)
    first = starts[:-1]
    scores = _blom_scores(flat.size)[first]
    tied = counts > 1
    if tied.any():
        scores[tied] = normal_quantile((first[tied] + (counts[tied] + 1) / 2 - 0.375)
                                       / (x.size + 0.25))
    out = np.empty(flat.size)
    out[order] = np.repeat(scores, counts) if tied.any() else scores
    return out.reshape(x.shape)


@functools.lru_cache(maxsize=16)
def _blom_scores(size: int) -> np.ndarray:
    """``normal_quantile((r - 3/8) / (size + 1/4))`` for the ranks r = 1..size, read-only.

    The values :func:`rank_normalise` computes from ranks without ties, the
    same arithmetic on the same numbers, made once per size: a run
    normalises thousands of chains of a handful of lengths.
    """
    scores = normal_quantile((np.arange(1, size + 1, dtype=float) - 0.375) / (size + 0.25))
    scores.flags.writeable = False
    return scores


def average_ranks(x: np.ndarray) -> np.ndarray:
    """Ranks 1..n of all of ``x`` (any shape), ties sharing their average rank.

    ``scipy.stats.rankdata(x, method="average")`` in numpy alone: importing
    scipy.stats cost a run about a second (docs/performance.md).  NaN anywhere
    gives NaN everywhere, as rankdata does.
    """
    x = np.asarray(x, dtype=float)
    flat = x.ravel()
    if np.isnan(flat).any():
        return np.full(x.shape, np.nan)
    order = np.argsort(flat, kind="mergesort")
    ordered = flat[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1], True])
    counts = np.diff(starts)
    ranks = np.empty(flat.size)
    ranks[order] = np.repeat(starts[:-1] + (counts + 1) / 2, counts)
    return ranks.reshape(x.shape)


#: Wichura's AS241 (1988, Applied Statistics 37(3), 477-484) coefficients, highest power first:
#: numerator and denominator for |p - 1/2| <= 0.425, then for the tails (r <= 5 and beyond).
_AS241 = (
    ((2.5090809287301226727e+3, 3.3430575583588128105e+4, 6.7265770927008700853e+4,
      4.5921953931549871457e+4, 1.3731693765509461125e+4, 1.9715909503065514427e+3,
      1.3314166789178437745e+2, 3.3871328727963666080e+0),
     (5.2264952788528545610e+3, 2.8729085735721942674e+4, 3.9307895800092710610e+4,
      2.1213794301586595867e+4, 5.3941960214247511077e+3, 6.8718700749205790830e+2,
      4.2313330701600911252e+1, 1.0)),
    ((7.74545014278341407640e-4, 2.27238449892691845833e-2, 2.41780725177450611770e-1,
      1.27045825245236838258e+0, 3.64784832476320460504e+0, 5.76949722146069140550e+0,
      4.63033784615654529590e+0, 1.42343711074968357734e+0),
     (1.05075007164441684324e-9, 5.47593808499534494600e-4, 1.51986665636164571966e-2,
      1.48103976427480074590e-1, 6.89767334985100004550e-1, 1.67638483018380384940e+0,
      2.05319162663775882187e+0, 1.0)),
    ((2.01033439929228813265e-7, 2.71155556874348757815e-5, 1.24266094738807843860e-3,
      2.65321895265761230930e-2, 2.96560571828504891230e-1, 1.78482653991729133580e+0,
      5.46378491116411436990e+0, 6.65790464350110377720e+0),
     (2.04426310338993978564e-15, 1.42151175831644588870e-7, 1.84631831751005468180e-5,
      7.86869131145613259100e-4, 1.48753612908506148525e-2, 1.36929880922735805310e-1,
      5.99832206555887937690e-1, 1.0)),
)


def normal_quantile(p: np.ndarray) -> np.ndarray:
    """Standard normal quantiles Phi^-1(p) for 0 < p < 1, by AS241 (about 1e-16 relative).

    Vectorised, so rank normalisation needs neither scipy.stats nor
    scipy.special (whose import alone took 0.3 s); p outside (0, 1) gives NaN.
    """
    p = np.asarray(p, dtype=float)
    out = np.full(p.shape, np.nan)
    q = p - 0.5
    central = np.abs(q) <= 0.425
    r = 0.180625 - q[central] ** 2
    num, den = _AS241[0]
    out[central] = q[central] * np.polyval(num, r) / np.polyval(den, r)
    tail = ~central & (p > 0) & (p < 1)
    t = np.sqrt(-np.log(np.minimum(p[tail], 1 - p[tail])))
    z = np.empty(t.shape)
    for (num, den), near, shift in ((_AS241[1], t <= 5, 1.6), (_AS241[2], t > 5, 5.0)):
        z[near] = np.polyval(num, t[near] - shift) / np.polyval(den, t[near] - shift)
    out[tail] = np.where(q[tail] < 0, -z, z)
    return out


def _multichain_ess(x: np.ndarray) -> float:
    """ESS of (M, N) chains, combining their autocorrelations.

    The estimator of Vehtari et al. (2021), eq. (10)-(11), as in Stan:
    rho_t = 1 - (W - mean_m acov_m(t)) / var+, summed by Geyer's (1992,
    Statistical Science 7(4)) initial positive and monotone sequence, with
    tau at least 1 / log10(MN) so antithetic chains cannot claim an
    unbounded ESS.  A chain stuck away from the others makes var+ large and
    rho_t close to 1, so the ESS is small, unlike a sum of per-chain ESS.
    """
    m, n = x.shape
    if n < MIN_DRAWS or not np.all(np.isfinite(x)):
        return float("nan")
    if np.ptp(x) < np.finfo(float).resolution:
        return float(x.size)
    d = x - x.mean(axis=1, keepdims=True)
    size = 1 << int(np.ceil(np.log2(2 * n)))
    f = np.fft.rfft(d, size, axis=1)
    acov = np.fft.irfft(f * np.conj(f), size, axis=1)[:, :n] / n  # biased, lag 0..n-1
    w = acov[:, 0].mean() * n / (n - 1)
    var_plus = w * (n - 1) / n + (x.mean(axis=1).var(ddof=1) if m > 1 else 0.0)
    rho = (1.0 - (w - acov.mean(axis=0)) / var_plus).tolist()
    # Geyer's initial positive sequence over pairs (rho_t+1, rho_t+2), t = 1, 3, ...
    # (on Python floats: the same double arithmetic as numpy scalars, without
    # their cost per lag; the sum below is numpy's, over the same array as before)
    kept = [0.0] * n
    kept[0], kept[1] = 1.0, rho[1]
    even, odd, t = 1.0, rho[1], 1
    while t < n - 3 and even + odd > 0:
        even, odd = rho[t + 1], rho[t + 2]
        if even + odd >= 0:
            kept[t + 1], kept[t + 2] = even, odd
        t += 2
    last = t - 2
    if even > 0:  # the first lag of the pair that ended the sum still carries information
        kept[last + 1] = even
    # ... made monotone: no pair may exceed the one before it
    for t in range(1, last - 1, 2):
        if kept[t + 1] + kept[t + 2] > kept[t - 1] + kept[t]:
            kept[t + 1] = kept[t + 2] = (kept[t - 1] + kept[t]) / 2.0
    kept = np.array(kept[:last + 2])
    tau = -1.0 + 2.0 * kept[:last + 1].sum() + kept[last + 1:last + 2].sum()
    tau = max(tau, 1.0 / np.log10(x.size))
    return float(x.size / tau)


def ess_bulk(draws) -> float:
    """Bulk effective sample size: of the split, rank-normalised chains.

    Vehtari et al. (2021), section 4.2: the ESS for the centre of the
    posterior (means, medians), valid however heavy the tails.
    """
    return _multichain_ess(rank_normalise(split_chains(draws)))


def ess_tail(draws) -> float:
    """Tail effective sample size: the smaller of the ESS of the 5% and 95% quantiles.

    Vehtari et al. (2021), section 4.3: the ESS of the indicator I(theta <= q)
    on split chains, for the quantiles that make a 90% interval.
    """
    flat = _as_chains(draws).ravel()
    return _ess_tail(split_chains(draws), np.quantile(flat, [0.05, 0.95]))


def _ess_tail(split: np.ndarray, quantiles: np.ndarray) -> float:
    """:func:`ess_tail` from the split chains and the 5% and 95% quantiles of the draws."""
    return float(min(_multichain_ess((split <= q).astype(float)) for q in quantiles))


def ess(draws) -> float:
    """The ESS the tables report and MCSE uses: the bulk ESS across chains."""
    return ess_bulk(draws)


def mcse(draws) -> float:
    """Monte Carlo standard error of the posterior mean: sd / sqrt(bulk ESS)."""
    x = _as_chains(draws)
    e = ess_bulk(x)
    return float(x.std(ddof=1) / np.sqrt(e)) if x.size > 1 and e > 0 else float("nan")


def _classic_rhat(x: np.ndarray) -> float:
    n = x.shape[1]
    w = x.var(axis=1, ddof=1).mean()
    b = n * x.mean(axis=1).var(ddof=1)
    if w <= 0:
        return float("nan") if b <= 0 else float("inf")
    return float(np.sqrt(((n - 1) / n * w + b / n) / w))


def rhat(draws) -> float:
    """Rank-normalised split R-hat: the larger of the bulk and the folded (tail) one.

    Vehtari et al. (2021), section 4.1, after Gelman & Rubin (1992,
    Statistical Science 7(4)): split chains, rank-normalise, compare between-
    and within-chain variances; then the same for |theta - median| to catch
    chains that agree in location but not in scale.  Values above 1.01
    mean the chains disagree; statjr-py warns above 1.05 (see
    :func:`convergence_problems`).  A single chain is split in halves too.
    """
    x = split_chains(draws)
    return _rhat(x, rank_normalise(x)) if x.shape[1] >= 2 else float("nan")


def _rhat(split: np.ndarray, normalised: np.ndarray) -> float:
    """:func:`rhat` from the split chains and their rank-normalised scores."""
    bulk = _classic_rhat(normalised)
    folded = _classic_rhat(rank_normalise(np.abs(split - np.median(split))))
    return float(max(bulk, folded))


def mcse_curve(x: np.ndarray, points: int = 40) -> tuple[np.ndarray, np.ndarray]:
    """MCSE of the mean after the first k draws, for k up to the chain length.

    The seed's bottom-left panel: how the Monte Carlo error falls as the run
    lengthens, extrapolated here only within the run.  Each point is the
    batch-means estimate with batches of about sqrt(k) draws (Flegal & Jones
    2010, Annals of Statistics 38(2), 1034-1070), consistent for the MCSE of
    a mean and a vectorised O(k): the curve is 40 of them.

    The curve starts at :data:`MCSE_CURVE_MIN_DRAWS` draws; a run shorter
    than that (a smoke test) gets the one point ``(x.size, nan)``: too few
    draws for an estimate, which the plot says in words.
    """
    x = np.asarray(x, dtype=float).ravel()
    if x.size < MCSE_CURVE_MIN_DRAWS:
        return np.array([x.size]), np.array([np.nan])
    # every k lies in [MCSE_CURVE_MIN_DRAWS, x.size], so x[:nb * size] has nb * size draws
    ks = np.unique(np.linspace(max(MCSE_CURVE_MIN_DRAWS, x.size // points), x.size,
                               points).astype(int))
    errs = np.empty(ks.size)
    for i, k in enumerate(ks):
        size = max(1, int(np.sqrt(k)))
        nb = k // size
        means = x[:nb * size].reshape(nb, size).mean(axis=1)
        errs[i] = np.sqrt(size * means.var(ddof=1) / k) if nb > 1 else np.nan
    return ks, errs


def brooks_gelman(draws, points: int = 40, coverage: float = 0.8):
    """Interval-based Brooks-Gelman-Rubin diagnostic over growing windows.

    Brooks & Gelman (1998), "General methods for monitoring convergence of
    iterative simulations", JCGS 7(4), 434-455, section 3.2: in the first 2k
    draws, take the second half of each chain; the width of the central
    ``coverage`` interval of the pooled draws (between+within) and the mean
    width within chains, and their ratio, which should settle near 1.
    Windows start at 2k = :data:`MIN_DRAWS` draws; chains shorter than that
    get the one window ``2k = ndraws`` with NaN widths and ratio.

    Returns
    -------
    iterations, pooled_width, within_width, ratio : ndarrays
    """
    x = _as_chains(draws)
    lo, hi = (1 - coverage) / 2, 1 - (1 - coverage) / 2
    n = x.shape[1]
    if n < MIN_DRAWS:
        nan = np.array([np.nan])
        return np.array([n]), nan, nan.copy(), nan.copy()
    # every end lies in [MIN_DRAWS, n]: each window holds 2+ draws of every chain
    ends = np.unique(np.linspace(max(MIN_DRAWS, n // points), n, points).astype(int))
    quantiles = _row_quantiles if np.isfinite(x).all() else None
    pooled, within = [], []
    for end in ends:
        window = x[:, end // 2:end]
        if quantiles is None or window.shape[1] < 2:
            q = np.quantile(window, [lo, hi])
            qs = np.quantile(window, [lo, hi], axis=1)
        else:
            q = quantiles(window.reshape(1, -1), lo, hi)[:, 0]
            qs = quantiles(window, lo, hi)
        pooled.append(q[1] - q[0])
        within.append(float(np.mean(qs[1] - qs[0])))
    pooled, within = np.array(pooled), np.array(within)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(within > 0, pooled / within, np.nan)
    return ends, pooled, within, ratio


def _row_quantiles(rows: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """``np.quantile(rows, [lo, hi], axis=1)`` of finite rows of 2+ values, 0 < lo < hi < 1.

    numpy's default ('linear') method step by step, the same operations on the
    same numbers: virtual index (n - 1) q, the order statistics at its floor
    and the next, and numpy's ``_lerp`` (from the upper one when the weight
    is 1/2 or more) -- without np.quantile's set-up per call, which was most
    of the six-panel plot's Brooks-Gelman panel (50 calls a plot).
    ``tests/test_diagnostics.py`` holds it to np.quantile bit for bit.
    """
    n = rows.shape[1]
    virtual = (n - 1) * np.array([lo, hi])
    below = np.floor(virtual).astype(np.intp)
    gamma = (virtual - below)[:, None]
    part = np.partition(rows, np.unique(np.concatenate([below, below + 1])), axis=1)
    a, b = part[:, below].T, part[:, below + 1].T
    diff = b - a
    out = a + diff * gamma
    np.subtract(b, diff * (1 - gamma), out=out, where=gamma >= 0.5)
    return out


def summarise(draws: np.ndarray, params: list) -> pd.DataFrame:
    """ModelResults: one row per parameter from draws shaped (nchains, ndraws, nparams).

    ``params`` are :class:`~statjr_py.template.Param` objects (or plain
    names, of kind "other"); their kind becomes the ``kind`` column, which
    pooling and the tables read instead of parsing names.  Columns: term,
    kind, mean, sd, ess_bulk, ess_tail, mcse (from the bulk ESS), 2.5%,
    97.5%, rhat (rank-normalised split R-hat; with one chain, of its halves).
    """
    import pandas as pd

    rows = []
    for k, p in enumerate(params):
        x = draws[:, :, k]
        flat = x.ravel()
        # What ess_bulk, ess_tail and rhat compute, each piece once: the split
        # chains and their rank-normalised scores serve the bulk ESS and R-hat,
        # one quantile call gives the interval and the tail ESS's quantiles.
        split = split_chains(x)
        normalised = rank_normalise(split)
        bulk = _multichain_ess(normalised)
        lo, hi, q05, q95 = np.quantile(flat, [0.025, 0.975, 0.05, 0.95])
        sd = flat.std(ddof=1) if flat.size > 1 else np.nan
        rows.append({"term": getattr(p, "name", p), "kind": getattr(p, "kind", "other"),
                     "mean": flat.mean(), "sd": sd, "ess_bulk": bulk,
                     "ess_tail": _ess_tail(split, (q05, q95)),
                     "mcse": sd / np.sqrt(bulk) if bulk > 0 else np.nan,
                     "2.5%": lo, "97.5%": hi,
                     "rhat": _rhat(split, normalised) if split.shape[1] >= 2 else float("nan")})
    return pd.DataFrame(rows)


def convergence_problems(table: "pd.DataFrame", rhat_max: float, ess_min: float) -> "pd.DataFrame":
    """Rows of a ModelResults table whose R-hat or bulk ESS fails the thresholds.

    A bulk ESS that could not be estimated (NaN: split chains shorter than
    :data:`MIN_DRAWS`, or draws that are not finite) fails too: a run too
    short to judge has not shown that it converged.
    """
    bad = (table["rhat"] > rhat_max) | (table["ess_bulk"] < ess_min) | table["ess_bulk"].isna()
    return table.loc[bad.fillna(False)]


def warn_convergence(table: "pd.DataFrame", what: str, fix: str, rhat_max: float = 1.05,
                     ess_min: float = 100.0, stacklevel: int = 2) -> bool:
    """Warn (ConvergenceWarning) naming the worst parameter; True if it warned.

    The worst is the one with the largest R-hat, or failing that one whose
    bulk ESS could not be estimated, or the smallest bulk ESS.  Thresholds
    as in :class:`~statjr_py.EstOptions`.
    """
    import warnings

    from .errors import ConvergenceWarning

    bad = convergence_problems(table, rhat_max, ess_min)
    if bad.empty:
        return False
    unknown = bad["ess_bulk"].isna()
    worst = bad.loc[bad["rhat"].fillna(0).idxmax()] if (bad["rhat"] > rhat_max).any() \
        else bad.loc[unknown.idxmax()] if unknown.any() else bad.loc[bad["ess_bulk"].idxmin()]
    why = ("" if not np.isnan(worst["ess_bulk"])
           else " (some of its draws are not finite numbers: the sampler diverged)"
           if not np.isfinite(worst.get("mean", 0.0))
           else f" (too few draws to estimate them: each half-chain needs {MIN_DRAWS})")
    warnings.warn(f"{what}: the chains have not converged: {worst['term']} has R-hat "
                  f"{worst['rhat']:.3f} and bulk ESS {worst['ess_bulk']:.0f}{why} (want R-hat <= "
                  f"{rhat_max:g} and ESS >= {ess_min:g}; {len(bad)} of {len(table)} parameters "
                  f"fail); {fix}", ConvergenceWarning, stacklevel=stacklevel)
    return True
