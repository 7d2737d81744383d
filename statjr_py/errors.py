"""The exceptions and warnings a user can meet.

Every mistake a caller can make surfaces as :class:`InputError`, whose message
names the input, the value and the fix; every failure of the C++ toolchain
surfaces as :class:`CompileError`, which keeps the compiler's own words.  Both
are raised at the boundary where the mistake is understood, so no traceback
from deep inside the engine reaches the user.
"""
from __future__ import annotations

import difflib
import reprlib
from typing import Iterable


class InputError(ValueError):
    """A template input, dataset or estimation option that cannot be used.

    It subclasses ``ValueError`` so that generic code which already guards
    against bad values catches it too.
    """


class CompileError(RuntimeError):
    """The generated C++ did not compile, or no compiler could be run.

    Parameters
    ----------
    message : str
        What went wrong, in one line.
    output : str
        The compiler's console output, kept whole so the user (or a template
        author) can read the real diagnostic.
    source_path : str, optional
        Where the failing ``.cpp`` was kept for inspection.
    """

    def __init__(self, message: str, output: str = "", source_path: str | None = None):
        self.output = output
        self.source_path = source_path
        text = message
        if source_path:
            text += f"\nThe generated source is kept at {source_path}"
        if output:
            text += "\n--- compiler output ---\n" + output.strip()
        super().__init__(text)


_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = 60
_REPR.maxlevel = 2


def short_repr(value) -> str:
    """``repr(value)`` for a message: bounded in length and nesting.

    A caller's value can be a 10,000-deep nested list or carry a hostile
    ``__repr__``; neither may turn a clear InputError into a RecursionError.
    """
    try:
        return _REPR.repr(value)
    except Exception:  # noqa: BLE001 - a hostile __repr__; the type is still worth naming
        return f"<{type(value).__name__}>"


def suggest(value: str, options: Iterable[str]) -> str:
    """Return a " (did you mean 'x'?)" hint, or "" when nothing is close.

    Typos in variable and template names are the commonest input error, and a
    close match turns a dead end into a one-character fix.
    """
    options = list(options)
    close = difflib.get_close_matches(value, options, n=3, cutoff=0.6)
    if not close:
        lowered = {o.lower(): o for o in options}
        close = difflib.get_close_matches(value.lower(), list(lowered), n=3, cutoff=0.6)
        close = [lowered[c] for c in close]
    if not close:
        return ""
    return " (did you mean " + " or ".join(repr(c) for c in close) + "?)"


class SamplerError(RuntimeError):
    """The compiled sampler stopped with a numerical failure.

    Raised with the C++ side's own explanation (for example a covariance
    matrix that stopped being positive definite), never as a crash.
    """


class StatJRWarning(UserWarning):
    """Base class of statjr-py's warnings, so one filter can catch them all."""


class DataWarning(StatJRWarning):
    """Something about the data that the run went on with but the user should know.

    Examples: a level-2 value that is not constant within its unit, a
    Binomial term that is perfectly or quasi-separated, a column renamed so
    that Stata can hold it.  Raised with :func:`warnings.warn`, so Jupyter
    shows it and ``warnings.filterwarnings("error", category=DataWarning)``
    turns it into an error.
    """


class ConvergenceWarning(StatJRWarning):
    """An MCMC run whose chains show no sign of having converged.

    Raised with :func:`warnings.warn` naming the worst parameter, its R-hat
    and effective sample size, and what to change.
    """
