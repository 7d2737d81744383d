"""The C++ random number generators against their distributions (scipy).

100,000 draws each; the Kolmogorov-Smirnov test at a fixed seed, with the
p-value required above 1e-4 (a correct generator fails with that probability),
and the mean within 5 standard errors of its closed form.
"""
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from statjr_py import RunStatJR, registry

HERE = Path(__file__).resolve().parent
N = 100_000


@pytest.fixture(autouse=True)
def harness(monkeypatch):
    monkeypatch.setenv("STATJR_TEMPLATES", str(HERE / "templates"))
    registry.clear_cache()
    yield
    registry.clear_cache()


def draws(dist, a=0.0, b=1.0):
    res = RunStatJR("RngCheck", "tutorial", {"dist": dist, "a": a, "b": b},
                    {"burnin": 0, "iterations": N, "nchains": 1, "seed": 17, "diagnostics": False})
    return res["out"]["draw"].to_numpy()


def check(x, dist):
    assert stats.kstest(x, dist.cdf).pvalue > 1e-4
    assert abs(x.mean() - dist.mean()) < 5 * dist.std() / np.sqrt(len(x))


def test_normal():
    check(draws("normal"), stats.norm())


@pytest.mark.parametrize("lo", [-2.0, 0.0, 0.45, 1.5, 4.0])
def test_normal_truncated_below(lo):
    check(draws("above", lo), stats.truncnorm(lo, np.inf))


@pytest.mark.parametrize("lo, hi", [(-1.0, 1.0), (0.2, 0.4), (-3.0, -2.5), (1.0, 5.0), (-8.0, 0.1)])
def test_normal_truncated_between(lo, hi):
    check(draws("between", lo, hi), stats.truncnorm(lo, hi))


@pytest.mark.parametrize("shape, rate", [(0.3, 1.0), (2.5, 4.0), (500.0, 0.1)])
def test_gamma(shape, rate):
    check(draws("gamma", shape, rate), stats.gamma(shape, scale=1 / rate))
