"""Data drawn from the joint latent-normal model with known parameters.

Used by tests/test_impute_simulation.py.  Level 1: y_norm
(Normal), y_bin (Binary), y_ord (Ordered, 3 categories), y_cat (Unordered,
3 categories); level 2: w_norm (Normal), w_bin (Binary), w_cat (Unordered,
3 categories); x (level 1) and x2 (level 2) fully observed.
"""
import numpy as np
import pandas as pd

COORDS1 = ["y_norm", "y_bin", "y_ord", "y_cat_0", "y_cat_1"]
COORDS2 = ["w_norm", "w_bin", "w_cat_0", "w_cat_1"]
BETA = {"y_norm": (1.0, 0.5), "y_bin": (0.3, 0.6), "y_ord": (0.2, 0.4), "y_cat_0": (-0.3, 0.5),
        "y_cat_1": (0.2, -0.4)}
GAMMA = {"w_norm": (0.5, 0.6), "w_bin": (-0.2, 0.5), "w_cat_0": (0.1, 0.4), "w_cat_1": (-0.1, -0.3)}
THRESHOLD = 0.8  # second threshold of y_ord; the first is 0


def omega_e():
    sd = np.array([1.0, 1.0, 1.0, 1.0, 1.0])
    corr = np.full((5, 5), 0.25) + np.eye(5) * 0.75
    corr[3, 4] = corr[4, 3] = 0.5  # fixed by the model for an Unordered response
    return corr * np.outer(sd, sd)


def omega_u():
    sd = np.array([0.5, 0.4, 0.4, 0.4, 0.4, 0.6, 1.0, 1.0, 1.0])  # level-2 categorical coords: unit variance
    corr = np.full((9, 9), 0.2) + np.eye(9) * 0.8
    corr[7, 8] = corr[8, 7] = 0.5  # fixed by the model for an Unordered response
    return corr * np.outer(sd, sd)


def simulate(seed: int, J: int = 150, nj: int = 20, missing: float = 0.2, mar: bool = True) -> tuple:
    """(complete frame, frame with missing values)."""
    rng = np.random.default_rng(seed)
    n = J * nj
    school = np.repeat(np.arange(1, J + 1), nj)
    x = rng.normal(size=n)
    x2 = rng.normal(size=J)
    uv = rng.multivariate_normal(np.zeros(9), omega_u(), J)
    e = rng.multivariate_normal(np.zeros(5), omega_e(), n)
    z = np.column_stack([BETA[c][0] + BETA[c][1] * x for c in COORDS1]) + uv[school - 1, :5] + e
    w = np.column_stack([GAMMA[c][0] + GAMMA[c][1] * x2 for c in COORDS2]) + uv[:, 5:]
    f = pd.DataFrame({"school": school, "cons": 1.0, "x": x, "x2": x2[school - 1]})
    f["y_norm"] = z[:, 0]
    f["y_bin"] = (z[:, 1] > 0).astype(float)
    f["y_ord"] = np.digitize(z[:, 2], [0.0, THRESHOLD]).astype(float)
    f["y_cat"] = np.where(z[:, 3:5].max(axis=1) < 0, 2, z[:, 3:5].argmax(axis=1)).astype(float)
    f["w_norm"] = w[school - 1, 0]
    f["w_bin"] = (w[school - 1, 1] > 0).astype(float)
    wc = w[:, 2:4]
    f["w_cat"] = np.where(wc.max(axis=1) < 0, 2, wc.argmax(axis=1))[school - 1].astype(float)
    complete = f.copy()
    # Missing values: MAR on the fully observed x (and x2 at level 2), or MCAR.
    for col in ["y_norm", "y_bin", "y_ord", "y_cat"]:
        p = 1 / (1 + np.exp(-(np.log(missing / (1 - missing)) + (0.8 * x if mar else 0))))
        f.loc[rng.uniform(size=n) < p, col] = np.nan
    for col in ["w_norm", "w_bin", "w_cat"]:
        p = 1 / (1 + np.exp(-(np.log(missing / (1 - missing)) + (0.8 * x2 if mar else 0))))
        gone = np.flatnonzero(rng.uniform(size=J) < p) + 1
        f.loc[f["school"].isin(gone), col] = np.nan
    return complete, f


INVARS = {
    "numlevs": "Yes", "L2ID": "school", "yimp1": "y_norm,y_bin,y_ord,y_cat",
    "bin1_1": "Normal", "bin1_2": "Binary", "bin1_3": "Ordered", "ncatsy_ord": "3",
    "bin1_4": "Unordered", "ncatsy_cat": "3",
    "ximp1_0": "cons,x", "ximp1_1": "cons,x", "ximp1_2": "cons,x", "ximp1_3": "cons,x",
    "want2": "Yes", "yimp2": "w_norm,w_bin,w_cat", "bin2_1": "Normal", "bin2_2": "Binary",
    "bin2_3": "Unordered", "ncatsw_cat": "3",
    "ximp2_0": "cons,x2", "ximp2_1": "cons,x2", "ximp2_2_0": "cons,x2", "ximp2_2_1": "cons,x2",
    "condmarg": "Yes", "numimpute": "2", "impute1st": "2000", "imputeevery": "1000",
}


def truth() -> dict:
    """True parameter values under the names ImputeModel gives them."""
    out = {}
    for c, (b0, b1) in BETA.items():
        out[f"beta({c},cons)"], out[f"beta({c},x)"] = b0, b1
    for c, (g0, g1) in GAMMA.items():
        out[f"gamma({c},cons)"], out[f"gamma({c},x2)"] = g0, g1
    oe, ou = omega_e(), omega_u()
    # fixed by the model: variances of categorical latents (level 1 in
    # Omega_e, level 2 in Omega_u) and the within-Unordered correlations
    fixed_e = {("y_bin",) * 2, ("y_ord",) * 2, ("y_cat_0",) * 2, ("y_cat_1",) * 2, ("y_cat_0", "y_cat_1")}
    fixed_u = {("w_bin",) * 2, ("w_cat_0",) * 2, ("w_cat_1",) * 2, ("w_cat_0", "w_cat_1")}
    for a in range(5):
        for b in range(a, 5):
            if (COORDS1[a], COORDS1[b]) not in fixed_e:
                out[f"omega_e({COORDS1[a]},{COORDS1[b]})"] = oe[a, b]
    allc = COORDS1 + COORDS2
    for a in range(9):
        for b in range(a, 9):
            if (allc[a], allc[b]) not in fixed_u:
                out[f"omega_u({allc[a]},{allc[b]})"] = ou[a, b]
    out["threshold(y_ord,2)"] = THRESHOLD
    return out
