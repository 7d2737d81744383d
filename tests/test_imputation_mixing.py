"""ImputeModel's covariance constraints and the mixing of its random-effect variances.

Masks: which elements of Omega_e and Omega_u are free is decided once, in
Python (ImputeModel's ``covariance_masks``), and handed to the C++ sampler as
data; the sampler must follow them, not a rule of its own.
"""
import numpy as np
import pytest

from statjr_py import build
from statjr_py.codegen import sampler_source
from statjr_py.engine import prepare
from statjr_py.examples import WORKED_IMPUTATION
from statjr_py.run import Sampler

SHORT = {**WORKED_IMPUTATION, "numimpute": "2", "impute1st": "20", "imputeevery": "5"}


@pytest.fixture(scope="module")
def worked(tutmiss):
    """The worked example's spec and compiled sampler."""
    job = prepare("ImputeModel", tutmiss, SHORT, {"processes": 1})
    spec = job.template.model(job.data, job.answers)
    module = build.build(sampler_source(job.template.cpp_file(), spec.context, spec.arrays,
                                        "ImputeModel"))
    return spec, module


def test_masks_state_the_constraints(worked):
    spec, _ = worked
    a = spec.arrays
    free_e, value_e = a["Oe_free"].reshape(3, 3), a["Oe_value"].reshape(3, 3)
    free_u, value_u = a["Ou_free"].reshape(5, 5), a["Ou_value"].reshape(5, 5)
    assert a["Oe_free"].dtype == np.int32 and a["Oe_value"].dtype == np.float64
    # girlmiss (Binary, coordinate 2) has unit level-1 variance; nothing else is fixed
    assert free_e.tolist() == [[1, 1, 1], [1, 1, 1], [1, 1, 0]] and value_e[2, 2] == 1.0
    # schgendmiss (Unordered, 3 categories): coordinates 3 and 4, unit variances, correlation 1/2
    expect = np.ones((5, 5), dtype=np.int32)
    expect[3:, 3:] = 0
    assert (free_u == expect).all()
    assert value_u[3, 3] == value_u[4, 4] == 1.0 and value_u[3, 4] == value_u[4, 3] == 0.5
    # the recorded names are the free elements of the upper triangles
    names = [p for p in spec.names if p.startswith(("omega_e(", "omega_u("))]
    assert len(names) == np.triu(free_e).sum() + np.triu(free_u).sum() == 5 + 12


def test_sampler_follows_the_masks(worked):
    """A sampler given other masks records other parameters or refuses them."""
    spec, module = worked
    Sampler(module, spec.arrays, 1).close()
    held, at = spec.arrays["Oe_free"].copy(), spec.arrays["Oe_value"].copy()
    held[0], at[0] = 0, 1.0  # normexam's variance held too: one parameter fewer than the names
    with pytest.raises(Exception, match="parameter count mismatch"):
        Sampler(module, dict(spec.arrays, Oe_free=held, Oe_value=at), 1)
    lopsided = spec.arrays["Ou_free"].copy()
    lopsided[0 * 5 + 3] = 0  # (0, 3) held but not (3, 0)
    with pytest.raises(Exception, match="not symmetric"):
        Sampler(module, dict(spec.arrays, Ou_free=lopsided), 1)
    loose = spec.arrays["Ou_free"].copy()
    loose[[0 * 5 + 1, 1 * 5 + 0]] = 0  # a covariance held between two free variances
    with pytest.raises(Exception, match="join two fixed variances"):
        Sampler(module, dict(spec.arrays, Ou_free=loose), 1)
