"""The six-panel MCMC diagnostic plot Stat-JR draws for every parameter.

Top row: the trace (one line per chain) and a kernel density per chain.
Middle row: ACF and PACF of the chains joined end to end.  Bottom row: the
Monte Carlo standard error of the mean as the run lengthens, and the
Brooks-Gelman-Rubin plot (pooled width in green, mean within-chain width in
blue, their ratio in red).  The seed document describes exactly this layout.

Figures are made with matplotlib's object API and an SVG canvas, never
pyplot, so no global backend or state is touched and threads are safe.
"""
from __future__ import annotations

import io

import numpy as np

from . import diagnostics as dg

MAX_TRACE_POINTS = 1000  # per chain; keeps each SVG small without hiding the mixing


def _kde(x: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Gaussian kernel density with Silverman's rule-of-thumb bandwidth.

    Silverman (1986), *Density Estimation*, eq. 3.31.
    """
    x = x[:: max(1, x.size // 2000)]
    sd = x.std(ddof=1)
    iqr = np.subtract(*np.quantile(x, [0.75, 0.25]))
    h = 0.9 * min(sd, iqr / 1.34 if iqr > 0 else sd) * x.size ** -0.2
    if not h > 0:
        return np.zeros_like(grid)
    z = (grid[:, None] - x[None, :]) / h
    return np.exp(-0.5 * z * z).sum(axis=1) / (x.size * h * np.sqrt(2 * np.pi))


def six_panel_svg(name: str, draws: np.ndarray, first_iteration: int = 1, thinning: int = 1) -> str:
    """SVG text of the diagnostic plot for one parameter.

    Parameters
    ----------
    name : str
        The parameter, for the title.
    draws : ndarray, shape (nchains, ndraws)
    first_iteration, thinning : int
        To label the x axis with real iteration numbers.
    """
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.figure import Figure

    x = np.atleast_2d(np.asarray(draws, dtype=float))
    nchains, ndraws = x.shape
    joined = x.ravel()
    iters = first_iteration + thinning * np.arange(ndraws)
    colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]

    fig = Figure(figsize=(10, 9))
    FigureCanvasSVG(fig)
    axes = fig.subplots(3, 2)
    fig.suptitle(f"{name}: mean {joined.mean():.4g}, sd {joined.std(ddof=1):.4g}, "
                 f"ESS {dg.ess(x):.0f}" + (f", R-hat {dg.rhat(x):.3f}" if nchains > 1 else ""))

    ax = axes[0, 0]
    step = max(1, ndraws // MAX_TRACE_POINTS)
    for c in range(nchains):
        ax.plot(iters[::step], x[c, ::step], lw=0.6, color=colours[c % len(colours)],
                label=f"chain {c}")
    ax.set(title="Trace", xlabel="iteration", ylabel=name)
    if nchains > 1:
        ax.legend(fontsize=7, loc="upper right")

    ax = axes[0, 1]
    lo, hi = np.quantile(joined, [0.001, 0.999])
    pad = 0.1 * (hi - lo if hi > lo else 1.0)
    grid = np.linspace(lo - pad, hi + pad, 200)
    for c in range(nchains):
        ax.plot(grid, _kde(x[c], grid), color=colours[c % len(colours)], lw=1)
    ax.set(title="Kernel density", xlabel=name)

    max_lag = int(min(40, joined.size // 4))
    ax = axes[1, 0]
    acf = dg.autocorrelation(joined, max_lag)
    ax.vlines(np.arange(max_lag + 1), 0, acf, color="k")
    ax.axhline(0, color="grey", lw=0.5)
    ax.set(title="ACF", xlabel="lag", ylim=(-0.2, 1.05))

    ax = axes[1, 1]
    pacf = dg.partial_autocorrelation(joined, max_lag)
    ax.vlines(np.arange(1, max_lag + 1), 0, pacf, color="k")
    band = 1.96 / np.sqrt(joined.size)
    ax.axhline(band, color="grey", ls="--", lw=0.5)
    ax.axhline(-band, color="grey", ls="--", lw=0.5)
    ax.set(title="PACF", xlabel="lag", ylim=(-0.2, 1.05))

    ax = axes[2, 0]
    ks, errs = dg.mcse_curve(joined)
    ax.plot(ks, errs, color="k")
    ax.set(title="MCSE of the mean", xlabel="draws used", ylabel="MCSE")

    ax = axes[2, 1]
    if nchains > 1:
        ends, pooled, within, ratio = dg.brooks_gelman(x)
        ax.plot(iters[ends - 1], pooled / pooled.max(), color="green", label="pooled (normalised)")
        ax.plot(iters[ends - 1], within / pooled.max(), color="blue", label="within (normalised)")
        ax.plot(iters[ends - 1], ratio, color="red", label="ratio")
        ax.axhline(1.0, color="grey", lw=0.5)
        ax.legend(fontsize=7)
    else:
        ax.text(0.5, 0.5, "one chain: run nchains > 1\nfor the Brooks-Gelman-Rubin plot",
                ha="center", va="center", transform=ax.transAxes)
    ax.set(title="Brooks-Gelman-Rubin", xlabel="iteration")

    fig.tight_layout(rect=(0, 0, 1, 0.96))
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None})
    return buf.getvalue()
