"""The seed's worked example, as data: one definition for docs, tests and benchmarks.

``WORKED_EXAMPLE`` is the "Current input string" TREE shows in the seed for
2LevelImpute on tutmiss, with the two variable names its screenshot misspells
(standrtmiss, girmiss) corrected and nothing else changed.
``WORKED_IMPUTATION`` is the imputation model's part of it, as ImputeModel's
invars (ImputeModel also asks numlevs and L2ID).
"""
WORKED_EXAMPLE = {
    'want2': 'Yes', 'MOIlevel': '2 levels', 'bin1_3': 'Binary', 'bin1_2': 'Normal', 'bin1_1': 'Normal',
    'impute1st': '1000', 'yimp2': 'schgendmiss', 'numlevs': 'Yes', 'MOIslope': 'No', 'condmarg': 'Yes',
    'L2ID': 'school', 'burnin': '100', 'yimp1': 'normexam,standlrtmiss,girlmiss', 'numimpute': '4',
    'imputeevery': '50', 'bin2_1': 'Unordered', 'ximp1_1': 'cons,vrband.cat', 'ximp1_0': 'cons',
    'ximp1_2': 'cons', 'MOIdist': 'Normal', 'y': 'normexam',
    'x': 'cons,standlrtmiss,girlmiss,schgendmiss.cat', 'ncatsschgendmiss': '3', 'ximp2_0_1': 'cons',
    'ximp2_0_0': 'cons',
}

_MOI_KEYS = {"MOIlevel", "MOIdist", "MOIslope", "y", "x", "burnin", "iterations"}
WORKED_IMPUTATION = {k: v for k, v in WORKED_EXAMPLE.items() if k not in _MOI_KEYS}
