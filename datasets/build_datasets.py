"""Rebuild the bundled .dta datasets from the CSVs in ../shared/data.

tutorial: the MLwiN tutorial data (4059 pupils in 65 schools), complete.
tutmiss: the same with values removed at random (schgendmiss coded 0, 1, 2).
Run from the repository root: python datasets/build_datasets.py [shared/data]
Integer codes stay integers and missing values stay missing (Stata '.').
"""
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat

src = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data")
out = Path(__file__).resolve().parent
for name in ("tutorial", "tutmiss"):
    frame = pd.read_csv(src / f"{name}.csv")
    for col in frame.columns:
        x = frame[col]
        # whole-number columns are stored as Stata integers; a nullable
        # integer keeps the missing values as Stata's '.'
        values = x.to_numpy(dtype=float)
        if np.all(np.isnan(values) | (values == np.round(values))):
            frame[col] = x.astype("Int32") if np.isnan(values).any() else x.astype(np.int32)
    pyreadstat.write_dta(frame, str(out / f"{name}.dta"))
    back, _ = pyreadstat.read_dta(str(out / f"{name}.dta"))
    for col in frame.columns:
        a, b = frame[col].to_numpy(dtype=float), back[col].to_numpy(dtype=float)
        assert np.array_equal(np.isnan(a), np.isnan(b)) and np.array_equal(a[~np.isnan(a)], b[~np.isnan(b)]), col
    print(name, frame.shape, "written and checked")
