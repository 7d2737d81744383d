"""What a template is.

A template is a subclass of :class:`Template` in one Python file, with its
C++ sampler in a ``.cpp.j2`` beside it.  An MCMC template answers four
questions and the engine does the rest (generate, compile, run chains,
summarise):

``inputs(ask)``
    Which questions, in which order (see :mod:`statjr_py.inputs`).
``model(data, answers)``
    The arrays the sampler needs, the names of the parameters it records,
    and the Jinja2 context that specialises the C++ to this model.
``requests(spec)`` (optional)
    What to ask each chain's live sampler after monitoring, as
    ``{name: (what, nout)}`` (e.g. running moments of random effects).
``outputs(fit, results)`` (optional)
    Extra named outputs from the fitted chains.

A template that drives other templates (2LevelImpute) overrides ``run``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from .errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    from .datasets import Dataset
    from .engine import Job
    from .inputs import Answers, Asker
    from .results import Results


@dataclass
class ModelSpec:
    """A model made concrete for one dataset.

    Parameters
    ----------
    arrays : dict of name -> ndarray (float64 or int32)
        What the sampler reads; the C++ sees them as ``d.<name>`` with
        length ``d.n_<name>``, in this order.
    params : list of str
        Names of the columns one stored draw has, in the order the C++
        ``record`` writes them.
    context : dict
        Values the ``.cpp.j2`` and the LaTeX are rendered with.
    monitored : list of str, optional
        Parameters shown in ModelResults (default: all of ``params``).
    notes : dict
        Facts for the outputs, e.g. the number of cases used.
    """

    arrays: dict[str, np.ndarray]
    params: list[str]
    context: dict[str, Any] = field(default_factory=dict)
    monitored: list[str] | None = None
    notes: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        fixed = {}
        for name, arr in self.arrays.items():
            arr = np.asarray(arr)
            if arr.dtype.kind in "iub":
                arr = np.ascontiguousarray(arr, dtype=np.int32)
            else:
                arr = np.ascontiguousarray(arr, dtype=np.float64)
            fixed[name] = arr
        self.arrays = fixed
        seen = set()
        for name in self.params:
            if name in seen:
                raise InputError(f"two parameters of this model would both be called {name!r}: a "
                                 "variable (or a dummy of a .cat variable) has the name of another "
                                 "term or parameter; rename that column")
            seen.add(name)
        if self.monitored is None:
            self.monitored = list(self.params)


@dataclass
class Fit:
    """Chains from one MCMC run, for a template's ``outputs``."""

    spec: ModelSpec
    draws: np.ndarray  # (nchains, ndraws, nparams)
    extras: list[dict]
    answers: "Answers"
    data: "Dataset"
    module: Any = None  # the compiled sampler module, for call()

    def param(self, name: str) -> np.ndarray:
        """Draws of one parameter, shaped (nchains, ndraws)."""
        return self.draws[:, :, self.spec.params.index(name)]

    def mean(self, names: list[str]) -> np.ndarray:
        """Posterior means of the named parameters over all chains."""
        return np.array([self.param(n).mean() for n in names])

    def call(self, what: str, nout: int, data: np.ndarray | None = None) -> np.ndarray:
        """Ask a fresh sampler of this model something (e.g. the deviance at the mean)."""
        from .run import Sampler

        sampler = Sampler(self.module, self.spec.arrays, 0)
        try:
            return sampler.call(what, nout, data)
        finally:
            sampler.close()

    def dic(self, theta: np.ndarray) -> dict:
        """DIC of Spiegelhalter et al. (2002), JRSS B 64(4), 583-639.

        Dbar is the mean of the recorded ``deviance``; Dhat the deviance at
        ``theta`` (the posterior means the template chooses); pD = Dbar - Dhat.
        """
        dbar = float(self.param("deviance").mean())
        dhat = float(self.call("deviance", 1, theta)[0])
        return {"Dbar": dbar, "D(thetabar)": dhat, "pD": dbar - dhat, "DIC": 2 * dbar - dhat}


class Template:
    """Base class of every template; see the module docstring."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    #: Jinja2 LaTeX of the model and of the sampling steps (rendered with the
    #: model context); they become equation.tex and algorithm.tex.
    equation: ClassVar[str] = ""
    algorithm: ClassVar[str] = ""
    #: Outputs the CLI prints after a run (the rest are saved with --out).
    headline: ClassVar[tuple[str, ...]] = ("ModelResults", "ModelFit")
    #: Names of the parameters the template adds to the variables' terms
    #: (a name ending in "(" stands for every name it begins).  A variable
    #: may not take one: results tables key their rows by name.
    reserved: ClassVar[tuple[str, ...]] = ()
    #: Set by the registry: the file the class was loaded from.
    source_file: ClassVar[Path | None] = None

    def inputs(self, ask: "Asker") -> None:
        raise NotImplementedError(f"template {self.name} declares no inputs")

    def model(self, data: "Dataset", answers: "Answers") -> ModelSpec:
        raise NotImplementedError(f"template {self.name} builds no model")

    def reserved_names(self) -> tuple[str, ...]:
        """Parameter names no variable may take (``reserved`` unless overridden)."""
        return tuple(self.reserved)

    def cpp_file(self) -> Path:
        """The ``.cpp.j2`` beside the template's Python file."""
        if self.source_file is None:
            raise RuntimeError(f"template {self.name} was not loaded from a file")
        return Path(self.source_file).with_name(f"{self.name}.cpp.j2")

    def requests(self, spec: ModelSpec) -> dict[str, tuple[str, int]]:
        """``{name: (what, nout)}`` to fetch from every chain after monitoring."""
        return {}

    def outputs(self, fit: Fit, results: "Results") -> None:
        return None

    def run(self, job: "Job") -> "Results":
        """Generate, compile, sample and summarise (the MCMC pipeline)."""
        from .engine import run_mcmc

        return run_mcmc(self, job)
