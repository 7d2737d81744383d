"""The six-panel MCMC diagnostic plot Stat-JR draws for every parameter.

Top row: the trace (one line per chain) and a kernel density per chain.
Middle row: ACF and PACF of the chains joined end to end.  Bottom row: the
Monte Carlo standard error of the mean as the run lengthens, and the
Brooks-Gelman-Rubin plot (pooled width in green, mean within-chain width in
blue, their ratio in red).  The seed document describes exactly this layout.
A panel whose estimate needs more draws than a (smoke-test) run kept shows a
"too few draws" note instead, so every run's plots can be drawn and saved.

The SVG is written directly (:mod:`statjr_py.svgplot`): a fixed layout, a
density by binning and FFT and decimated traces make one plot take a few
milliseconds, where matplotlib took about a second (mostly layout and text).
"""
from __future__ import annotations

import numpy as np

from . import diagnostics as dg
from .svgplot import COLOURS, Figure

MAX_TRACE_POINTS = 400  # per chain: the trace panel is ~380 px wide, so more would not show


def kde(x: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Gaussian kernel density on an even grid, by binning and FFT convolution.

    Silverman's (1986, *Density Estimation*, eq. 3.31) rule-of-thumb
    bandwidth; the draws are linearly binned onto the grid and convolved
    with the kernel (Wand & Jones 1995, *Kernel Smoothing*, appendix D),
    which costs O(grid log grid) whatever the number of draws.
    """
    x = np.asarray(x, float)
    x = x[np.isfinite(x)]
    if x.size < 2:
        return np.zeros_like(grid)
    sd = x.std(ddof=1)
    iqr = np.subtract(*np.quantile(x, [0.75, 0.25]))
    h = 0.9 * min(sd, iqr / 1.34 if iqr > 0 else sd) * x.size ** -0.2
    if not h > 0:
        return np.zeros_like(grid)
    m, delta = grid.size, grid[1] - grid[0]
    pos = (x - grid[0]) / delta
    left = np.clip(np.floor(pos).astype(int), 0, m - 2)
    frac = np.clip(pos - left, 0.0, 1.0)
    counts = np.bincount(left, 1 - frac, m) + np.bincount(left + 1, frac, m)
    half = min(m, int(np.ceil(4 * h / delta)))
    offsets = np.arange(-half, half + 1) * delta
    kernel = np.exp(-0.5 * (offsets / h) ** 2) / (h * np.sqrt(2 * np.pi))
    size = 1 << int(np.ceil(np.log2(m + kernel.size)))
    dens = np.fft.irfft(np.fft.rfft(counts, size) * np.fft.rfft(kernel, size), size)
    return dens[half:half + m] / x.size


def six_panel_svg(name: str, draws: np.ndarray, first_iteration: int = 1, thinning: int = 1,
                  ess: float | None = None, rhat: float | None = None) -> str:
    """SVG text of the diagnostic plot for one parameter.

    Parameters
    ----------
    name : str
        The parameter, for the title.
    draws : ndarray, shape (nchains, ndraws)
    first_iteration, thinning : int
        To label the x axis with real iteration numbers.
    ess, rhat : float, optional
        For the title, when ModelResults already has them (computed if not).
    """
    x = np.atleast_2d(np.asarray(draws, dtype=float))
    nchains, ndraws = x.shape
    joined = x.ravel()
    broken = joined.size - int(np.isfinite(joined).sum())
    if broken:  # a diverged sampler: nothing to estimate, but the plot still says why
        fig = Figure(900, 810, f"{name}: {broken} of {joined.size} draws are not finite")
        for panel, label in zip(fig.grid(3, 2), ("Trace", "Kernel density", "ACF", "PACF",
                                                 "MCSE of the mean", "Brooks-Gelman-Rubin")):
            panel.title = label
            panel.note("draws not finite: the sampler diverged")
        return fig.svg()
    iters = first_iteration + thinning * np.arange(ndraws)
    sd = joined.std(ddof=1) if joined.size > 1 else float("nan")
    title = (f"{name}: mean {joined.mean():.4g}, sd {sd:.4g}, "
             f"ESS {dg.ess_bulk(x) if ess is None else ess:.0f}, "
             f"R-hat {dg.rhat(x) if rhat is None else rhat:.3f}")
    fig = Figure(900, 810, title)
    trace, density, acf_panel, pacf_panel, mcse_panel, bgr = fig.grid(3, 2)
    # A panel whose estimate needs more draws than the run kept says so in
    # words (a smoke test of a few iterations is a legitimate run); short
    # enough (~40 characters) to stay inside a 365 px panel.
    short = ndraws < dg.MIN_DRAWS
    few = f"too few draws: {ndraws} per chain, needs {dg.MIN_DRAWS}"

    step = max(1, ndraws // MAX_TRACE_POINTS)
    for c in range(nchains):
        trace.line(iters[::step], x[c, ::step], COLOURS[c % len(COLOURS)], 0.6,
                   label=f"chain {c}" if nchains > 1 else None)
    if ndraws < 2:
        trace.note(f"too few draws: {ndraws} per chain, needs 2")
    trace.title, trace.xlabel, trace.ylabel = "Trace", "iteration", name

    if short:
        density.note(few)
    elif np.ptp(joined) == 0:
        density.note(f"all draws equal ({joined[0]:.4g}): no density")
    else:
        lo, hi = np.quantile(joined, [0.001, 0.999])
        pad = 0.1 * (hi - lo if hi > lo else 1.0)
        grid = np.linspace(lo - pad, hi + pad, 256)
        for c in range(nchains):
            density.line(grid, kde(x[c], grid), COLOURS[c % len(COLOURS)], 1.0)
    density.title, density.xlabel = "Kernel density", name

    acf_panel.title, acf_panel.xlabel, acf_panel.ylim = "ACF", "lag", (-0.2, 1.05)
    pacf_panel.title, pacf_panel.xlabel, pacf_panel.ylim = "PACF", "lag", (-0.2, 1.05)
    if short:
        acf_panel.note(few)
        pacf_panel.note(few)
    else:
        max_lag = int(min(40, joined.size // 4))
        acf = dg.autocorrelation(joined, max_lag)
        acf_panel.vlines(np.arange(max_lag + 1), acf)
        acf_panel.hline(0.0, "#999", None)
        pacf = dg.partial_autocorrelation(joined, max_lag, acf)
        pacf_panel.vlines(np.arange(1, max_lag + 1), pacf)
        band = 1.96 / np.sqrt(joined.size)
        pacf_panel.hline(band)
        pacf_panel.hline(-band)

    ks, errs = dg.mcse_curve(joined, points=20)
    mcse_panel.line(ks, errs, "#000", 1.2)
    if joined.size < dg.MCSE_CURVE_MIN_DRAWS:
        mcse_panel.note(f"too few draws: {joined.size} in all, needs {dg.MCSE_CURVE_MIN_DRAWS}")
    mcse_panel.title, mcse_panel.xlabel, mcse_panel.ylabel = "MCSE of the mean", "draws used", "MCSE"

    if nchains > 1 and short:
        bgr.note(few)
    elif nchains > 1:
        ends, pooled, within, ratio = dg.brooks_gelman(x, points=25)
        top = pooled.max() if pooled.max() > 0 else 1.0
        bgr.line(iters[ends - 1], pooled / top, "green", 1.2, label="pooled (normalised)")
        bgr.line(iters[ends - 1], within / top, "blue", 1.2, label="within (normalised)")
        bgr.line(iters[ends - 1], ratio, "red", 1.2, label="ratio")
        bgr.hline(1.0)
    else:
        bgr.note("one chain: run nchains > 1 for the Brooks-Gelman-Rubin plot")
    bgr.title, bgr.xlabel = "Brooks-Gelman-Rubin", "iteration"
    return fig.svg()
