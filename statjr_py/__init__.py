"""statjr-py: Stat-JR's template system in Python, with samplers in generated C++.

The public API is what ``__all__`` lists; everything else may change.
"""
from ._version import __version__

from .errors import (CompileError, ConvergenceWarning, DataWarning, InputError,  # noqa: E402
                     SamplerError)
from .inputs import (L2ID, Float, Integer, Question, Text, Var, Variable,  # noqa: E402
                     VariableList, YesNo)
from .results import SVG, Results  # noqa: E402
from .run import EstOptions  # noqa: E402
from .template import Fit, ModelSpec, Param, Template  # noqa: E402
from .context import RunContext  # noqa: E402
from .engine import RunStatJR  # noqa: E402
from .registry import get_template, templates  # noqa: E402
from .datasets import load_dataset  # noqa: E402

__all__ = [
    "RunStatJR", "Results", "SVG", "EstOptions",
    "InputError", "CompileError", "SamplerError", "DataWarning", "ConvergenceWarning",
    "Template", "ModelSpec", "Fit", "Param", "RunContext",
    "Question", "Text", "Integer", "Float", "YesNo", "Variable", "VariableList", "L2ID", "Var",
    "templates", "get_template", "load_dataset",
    "__version__",
]
