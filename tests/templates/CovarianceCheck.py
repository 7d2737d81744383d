"""A test-only template: draws from statjr::CovarianceSampler for a fixed
cross-product, so tests/test_covariance.py can check it against numpy."""
import numpy as np

from statjr_py import Integer, ModelSpec, Template


class CovarianceCheck(Template):
    name = "CovarianceCheck"
    description = "Test harness for cpp/statjr/covariance.hpp (not a user template)."

    def inputs(self, ask):
        ask(Integer("case", "Which test case?", minimum=0))

    def model(self, data, answers):
        case = CASES[answers["case"]]
        q = len(case["fixed"])
        names = [f"o{a}{b}" for a in range(q) for b in range(a, q)]
        return ModelSpec(arrays={"s": case["s"].ravel(), "start": case["start"].ravel(),
                                 "fixed": np.array(case["fixed"], dtype=np.int32),
                                 "pairs": case["pairs"].ravel().astype(np.int32)},
                         params=names, context={"q": q, "nobs": case["nobs"]})


def _cases():
    rng = np.random.default_rng(3)
    q = 4
    a = rng.normal(size=(q, 40))
    s = a @ a.T
    start = np.eye(q)
    start[2, 3] = start[3, 2] = 0.5
    pairs = np.zeros((q, q), dtype=np.int32)
    pairs[2, 3] = pairs[3, 2] = 1
    return [
        {"s": s, "start": np.eye(q), "fixed": [0, 0, 0, 0], "pairs": np.zeros((q, q)), "nobs": 40.0},
        {"s": s, "start": start, "fixed": [0, 0, 1, 1], "pairs": pairs, "nobs": 40.0},
        {"s": s, "start": np.eye(q), "fixed": [0, 0, 1, 1], "pairs": np.zeros((q, q)), "nobs": 40.0},
    ]


CASES = _cases()
