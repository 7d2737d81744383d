"""Rebuild the bundled .dta datasets from the CSVs in ../shared/data.

tutorial: the MLwiN tutorial data (4059 pupils in 65 schools), complete.
tutmiss: the same with values removed at random (schgendmiss coded 0, 1, 2).
Run from the repository root: python datasets/build_datasets.py [shared/data]
Integer codes stay integers and missing values stay missing (Stata '.').
Variable and value labels follow the MLwiN User's Guide's description of the
tutorial data (Rasbash et al., chapter 2); they change no value.
"""
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat

#: Short variable labels (tables show them beside the terms).
VARIABLE_LABELS = {
    "school": "school", "student": "pupil within school", "normexam": "exam score at 16",
    "cons": "constant", "standlrt": "reading test at 11", "girl": "pupil is a girl",
    "schgend": "school gender", "avslrt": "school mean reading test", "schav": "school intake band",
    "vrband": "verbal reasoning band", "schgendmiss": "school gender (0-2)",
    "avslrtmiss": "school mean reading test", "standlrtmiss": "reading test at 11",
    "girlmiss": "pupil is a girl",
}
SEX = {0: "boy", 1: "girl"}
VALUE_LABELS = {
    "girl": SEX, "girlmiss": SEX,
    "schgend": {1: "mixed", 2: "boys", 3: "girls"},
    "schgendmiss": {0: "mixed", 1: "boys", 2: "girls"},
    "vrband": {1: "top 25%", 2: "middle 50%", 3: "bottom 25%"},
    "schav": {1: "low 25%", 2: "mid 50%", 3: "high 25%"},
}

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
    pyreadstat.write_dta(frame, str(out / f"{name}.dta"),
                         column_labels=[VARIABLE_LABELS.get(c) for c in frame.columns],
                         variable_value_labels={c: v for c, v in VALUE_LABELS.items() if c in frame})
    back, _ = pyreadstat.read_dta(str(out / f"{name}.dta"))
    for col in frame.columns:
        a, b = frame[col].to_numpy(dtype=float), back[col].to_numpy(dtype=float)
        assert np.array_equal(np.isnan(a), np.isnan(b)) and np.array_equal(a[~np.isnan(a)], b[~np.isnan(b)]), col
    print(name, frame.shape, "written and checked")
