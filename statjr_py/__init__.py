"""statjr-py: Stat-JR's template system in Python, with samplers in generated C++.

The public API is what ``__all__`` lists; everything else may change.

The names are imported when first used (PEP 562), not with the package:
``import statjr_py.errors`` (or the ``statjr`` command's start) then costs
milliseconds instead of the half second numpy and pandas take, and the
command is inside its own Ctrl-C handling (one line, status 130) before
anything heavy is imported.  ``from statjr_py import RunStatJR`` works as
before.
"""
from __future__ import annotations

import importlib

from ._version import __version__

#: Each public name and the module that defines it.
_WHERE = {
    "CompileError": "errors", "ConvergenceWarning": "errors", "DataWarning": "errors",
    "InputError": "errors", "SamplerError": "errors",
    "L2ID": "inputs", "Float": "inputs", "Integer": "inputs", "Question": "inputs", "Text": "inputs",
    "Var": "inputs", "Variable": "inputs", "VariableList": "inputs", "YesNo": "inputs",
    "SVG": "results", "Results": "results",
    "EstOptions": "run",
    "Fit": "template", "ModelSpec": "template", "Param": "template", "Template": "template",
    "RunContext": "context",
    "RunStatJR": "engine",
    "get_template": "registry", "templates": "registry",
    "load_dataset": "datasets",
}

__all__ = [
    "RunStatJR", "Results", "SVG", "EstOptions",
    "InputError", "CompileError", "SamplerError", "DataWarning", "ConvergenceWarning",
    "Template", "ModelSpec", "Fit", "Param", "RunContext",
    "Question", "Text", "Integer", "Float", "YesNo", "Variable", "VariableList", "L2ID", "Var",
    "templates", "get_template", "load_dataset",
    "__version__",
]


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module 'statjr_py' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    globals()[name] = value  # once: later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
