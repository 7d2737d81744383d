"""Reference values for tests/test_diagnostics.py from ArviZ on the same draws.

Run: python bench/references/arviz_diagnostics.py  (needs arviz; not part of CI)
Writes tests/references/arviz_diagnostics.json with ArviZ's bulk and tail ESS,
rank-normalised split R-hat and MCSE, and the versions and date it ran with.
The draws are made by ``cases()``, which the test calls too.
"""
import datetime
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
OUT = HERE.parents[1] / "tests" / "references" / "arviz_diagnostics.json"


def ar1(rng, phi, m, n, shift=0.0):
    x = np.zeros((m, n))
    e = rng.normal(size=(m, n))
    for t in range(1, n):
        x[:, t] = phi * x[:, t - 1] + e[:, t]
    x[0] += shift
    return x


def cases() -> dict[str, np.ndarray]:
    """Chains shaped (nchains, ndraws): mixed, slow, independent, one stuck, skewed, one chain."""
    rng = np.random.default_rng(20261130)
    return {
        "ar05_4x1000": ar1(rng, 0.5, 4, 1000),
        "ar095_3x2001": ar1(rng, 0.95, 3, 2001),
        "iid_2x500": ar1(rng, 0.0, 2, 500),
        "stuck_chain_4x1000": ar1(rng, 0.5, 4, 1000, shift=3.0),
        "lognormal_4x800": np.exp(ar1(rng, 0.7, 4, 800)),
        "one_chain_1x1000": ar1(rng, 0.5, 1, 1000),
        "antithetic_3x400": ar1(rng, -0.6, 3, 400),
    }


def main() -> None:
    import arviz as az

    out = {"script": "bench/references/arviz_diagnostics.py", "arviz": az.__version__,
           "numpy": np.__version__, "python": sys.version.split()[0],
           "date": datetime.date.today().isoformat(), "cases": {}}
    for name, x in cases().items():
        out["cases"][name] = {
            "checksum": float(x.sum()),
            "ess_bulk": float(az.ess(x, method="bulk")),
            "ess_tail": float(az.ess(x, method="tail")),
            "rhat": float(az.rhat(x, method="rank")) if x.shape[0] > 1 else None,
            "mcse_sd_over_sqrt_bulk": float(x.std(ddof=1) / np.sqrt(az.ess(x, method="bulk"))),
        }
    OUT.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
