"""Reference values for the pooled tests (D1, D2) from R's mitml on the same inputs.

Run: python bench/references/mitml_pooling.py   (needs R with mitml; not part of CI)
Writes tests/references/mitml_pooling.json: the estimates and covariance matrices of
each case, mitml's testConstraints results for them, and the versions and date.
The inputs go to R as fitted-model stand-ins whose coef() and vcov() return them, so
mitml pools exactly the numbers statjr_py.pooling is given.
"""
import datetime
import json
import subprocess
import tempfile
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parents[2] / "tests" / "references" / "mitml_pooling.json"

R = r"""
suppressPackageStartupMessages(library(mitml))
a <- commandArgs(TRUE); est <- as.matrix(read.csv(a[1])); cov <- as.matrix(read.csv(a[2]))
m <- nrow(est); k <- ncol(est); dfc <- as.numeric(a[3])
coef.stub <- function(object, ...) object$b
vcov.stub <- function(object, ...) object$V
fits <- lapply(1:m, function(i) structure(list(b = setNames(est[i, ], colnames(est)),
       V = matrix(cov[i, ], k, k, dimnames = list(colnames(est), colnames(est)))), class = "stub"))
one <- function(method, df.com) {
  r <- testConstraints(fits, constraints = colnames(est), method = method, df.com = df.com)$test
  sprintf('{"F": %.15g, "df1": %.15g, "df2": %.15g, "p": %.15g, "riv": %.15g}', r[1], r[2], r[3], r[4], r[5])
}
d1 <- if (is.finite(dfc)) one("D1", dfc) else one("D1", NULL)
cat("JSON:", sprintf('{"D1": %s, "D2": %s, "mitml": "%s", "R": "%s"}', d1, one("D2", NULL),
    packageVersion("mitml"), paste(R.version$major, R.version$minor, sep = ".")), "\n")
"""


def cases() -> dict:
    """Estimates (m, k) and covariances (m, k, k) with between-imputation spread."""
    rng = np.random.default_rng(20261130)
    out = {}
    for name, m, k, dfc in [("m4_k2_dfcom60", 4, 2, 60.0), ("m5_k3_large", 5, 3, np.inf),
                            ("m20_k2_dfcom3900", 20, 2, 3900.0), ("m3_k1_dfcom25", 3, 1, 25.0)]:
        base = rng.normal(0, 0.3, k)
        a = rng.normal(size=(k, k))
        u0 = 0.02 * (a @ a.T + k * np.eye(k))
        est = base + rng.multivariate_normal(np.zeros(k), 0.6 * u0, size=m)
        covs = np.stack([u0 * rng.uniform(0.8, 1.2) for _ in range(m)])
        out[name] = {"estimates": est.tolist(), "covariances": covs.tolist(),
                     "df_complete": None if not np.isfinite(dfc) else dfc}
    return out


def main() -> None:
    result = {"script": "bench/references/mitml_pooling.py", "date": datetime.date.today().isoformat(),
              "cases": {}}
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "pool.R"
        script.write_text(R)
        for name, case in cases().items():
            est, covs = np.array(case["estimates"]), np.array(case["covariances"])
            m, k = est.shape
            names = [f"b{i + 1}" for i in range(k)]
            np.savetxt(Path(tmp) / "est.csv", est, delimiter=",", header=",".join(names), comments="",
                       fmt="%.17g")
            np.savetxt(Path(tmp) / "cov.csv", covs.reshape(m, k * k), delimiter=",",
                       header=",".join(f"c{i}" for i in range(k * k)), comments="", fmt="%.17g")
            dfc = "Inf" if case["df_complete"] is None else repr(case["df_complete"])
            out = subprocess.run(["Rscript", str(script), str(Path(tmp) / "est.csv"),
                                  str(Path(tmp) / "cov.csv"), dfc], capture_output=True, text=True,
                                 check=True).stdout
            got = json.loads(out.split("JSON:", 1)[1])
            result["mitml"], result["R"] = got.pop("mitml"), got.pop("R")
            result["cases"][name] = {**case, **got}
    OUT.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
