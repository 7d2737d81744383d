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

``run(ctx)`` ties them together through the public
:class:`~statjr_py.context.RunContext`; a template that drives other
templates (2LevelImpute) or samples on another schedule (ImputeModel)
overrides it with a few calls on ``ctx``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from .errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    from .datasets import Dataset
    from .context import RunContext
    from .inputs import Answers, Asker
    from .results import Results


#: What a parameter is; Rubin's rules, the tables and the "no p-value for a
#: variance" rule read it, never the parameter's name.
KINDS = ("coefficient", "variance", "covariance", "threshold", "deviance", "other")


@dataclass(frozen=True)
class Param:
    """One column of a stored draw, with what it means.

    Parameters
    ----------
    name : str
        The row name in the results tables (``term``).
    kind : str
        One of :data:`KINDS`.  Coefficients get a t test when pooled;
        variances and covariances do not (a Wald test of a variance against
        zero is not valid).
    level : int
        The level the parameter belongs to: 1 for coefficients of level-1
        variables and the level-1 variance; 2 for coefficients of variables
        constant within level-2 units and for level-2 (co)variances.  Rubin's
        complete-data degrees of freedom come from it (n - k or J - k).
    monitored : bool
        Shown in ModelResults (the deviance, say, is recorded but not shown).
    """

    name: str
    kind: str = "other"
    level: int = 1
    monitored: bool = True

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"parameter kind {self.kind!r} is not one of {', '.join(KINDS)}")

    @classmethod
    def coefficients(cls, terms, level2=()) -> list["Param"]:
        """Coefficient parameters for ``terms``; those in ``level2`` are level 2."""
        level2 = set(level2)
        return [cls(t, "coefficient", 2 if t in level2 else 1) for t in terms]


def _as_param(p) -> Param:
    return p if isinstance(p, Param) else Param(str(p), "deviance" if p == "deviance" else "other",
                                                monitored=p != "deviance")


@dataclass
class ModelSpec:
    """A model made concrete for one dataset.

    Parameters
    ----------
    arrays : dict of name -> ndarray (float64 or int32)
        What the sampler reads; the C++ sees them as ``d.<name>`` with
        length ``d.n_<name>``, in this order.  Data and every size that
        depends on the data go here, so a new dataset reuses the compiled
        sampler.
    params : list of Param (or str)
        The columns one stored draw has, in the order the C++ ``record``
        writes them.  A plain string is a Param of kind "other".
    context : dict
        The model's structure, for the ``.cpp.j2`` and the LaTeX.
    monitored : list of str, optional
        Overrides which parameters ModelResults shows (default: those whose
        ``Param.monitored`` is true).
    notes : dict
        Facts for the outputs, e.g. the number of cases used.
    """

    arrays: dict[str, np.ndarray]
    params: list
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
        self.params = [_as_param(p) for p in self.params]
        seen = set()
        for p in self.params:
            if p.name in seen:
                raise InputError(f"two parameters of this model would both be called {p.name!r}: a "
                                 "variable (or a dummy of a .cat variable) has the name of another "
                                 "term or parameter; rename that column")
            seen.add(p.name)
        if self.monitored is None:
            self.monitored = [p.name for p in self.params if p.monitored]

    @property
    def names(self) -> list[str]:
        """The parameters' names, in record order."""
        return [p.name for p in self.params]

    def param(self, name: str) -> Param:
        """The parameter called ``name``."""
        return self.params[self.names.index(name)]


@dataclass
class Fit:
    """Chains from one MCMC run (what :meth:`RunContext.sample` returns).

    Parameters
    ----------
    spec : ModelSpec
        The model the chains sampled.
    draws : ndarray, shape (nchains, ndraws, nparams)
        Every stored draw, in record order.
    extras : list of dict
        Per chain, the answers to ``requests`` asked at the end.
    answers, data
        What the model was built from.
    module
        The compiled sampler, for :meth:`call`.
    snapshots : list of list of dict
        Per chain, what each ``snapshot`` segment of the schedule fetched
        (completed datasets, ...), in order.
    iterations : ndarray
        The iteration number of each stored draw (Stat-JR counts burn-in).
    discard : int
        Stored draws at the start that summaries leave out (adaptation).
    source : str
        The generated C++.
    """

    spec: ModelSpec
    draws: np.ndarray  # (nchains, ndraws, nparams)
    extras: list[dict]
    answers: "Answers"
    data: "Dataset"
    module: Any = None
    snapshots: list = field(default_factory=list)
    iterations: np.ndarray | None = None
    discard: int = 0
    source: str = ""

    @property
    def kept(self) -> np.ndarray:
        """The draws summaries use: ``draws`` without the first ``discard``."""
        return self.draws[:, self.discard:, :]

    def param(self, name: str) -> np.ndarray:
        """Draws of one parameter, shaped (nchains, ndraws)."""
        return self.draws[:, :, self.spec.names.index(name)]

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
    #: What to change when the chains have not converged (ConvergenceWarning).
    convergence_fix: ClassVar[str] = ("run longer: raise estoptions 'burnin' and 'iterations' "
                                      "(or 'nchains' to see whether chains agree)")
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

    def run(self, ctx: "RunContext") -> "Results":
        """Build the model, sample it, and assemble the standard outputs.

        A template that does more (several models, other templates' fits)
        overrides this with the same few calls on ``ctx``.
        """
        spec = self.model(ctx.data, ctx.answers)
        fit = ctx.sample(spec, requests=self.requests(spec))
        return ctx.standard_outputs(fit, extra=self.outputs)
