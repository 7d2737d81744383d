"""The run context: everything a template's ``run`` may use, and nothing private.

A template receives one :class:`RunContext` in ``run(ctx)``.  Through it the
template can

* sample a model spec under a schedule (:meth:`RunContext.sample`), the
  generated C++ compiled once per structure and the data bound afterwards;
* assemble the standard outputs once (:meth:`RunContext.standard_outputs`):
  ModelResults, ModelParameters, ``out``, the six-panel plots, the ``.cpp``
  and the ``.tex``;
* fit another template to one dataset or to many, in parallel through the
  executor (:meth:`RunContext.fit`);
* spawn independent seeds (:meth:`RunContext.spawn_seeds`), always children
  of the run's one ``numpy.random.SeedSequence``, never ``seed + 1``;
* report progress, one bar for the whole run (:meth:`RunContext.report`).

The default ``Template.run`` is three of these calls; ImputeModel and
2LevelImpute are built on the same ones.
"""
from __future__ import annotations

import dataclasses
import functools
import logging
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from .build import build
from .codegen import render_string, sampler_source
from .diagnostics import summarise, warn_convergence
from .results import SVG, Results
from .run import (EstOptions, Fetch, Progress, Schedule, check_draws_memory, check_memory,
                  parallel_map, run_chain_set)
from .template import Fit, ModelSpec, Template

if TYPE_CHECKING:  # pragma: no cover
    from .datasets import Dataset
    from .inputs import Answers

log = logging.getLogger("statjr_py.context")

#: Largest seed estoptions accept (seeds live in [0, 2**63)).
SEED_MASK = 2 ** 63 - 1


@dataclass
class RunContext:
    """What one template run has to work with (see the module docstring).

    Parameters
    ----------
    template : Template
        The template being run.
    data : Dataset
        The run's private copy of the data.
    answers : Answers
        The validated answers.
    options : EstOptions
        The validated estimation options.
    estoptions : dict
        The options as the caller gave them (for script.py).
    executor : concurrent.futures.Executor, optional
        Where chains and fits run; default a thread pool of ``processes``.
    progress : Progress or callable(done, total[, stage]), optional
        The run's progress; a plain callback is wrapped in a
        :class:`~statjr_py.run.Progress`, which sub-runs share.
    seed_sequence : numpy.random.SeedSequence, optional
        The run's root of randomness; default ``SeedSequence(options.seed)``.
    runner : callable(args) -> Results, optional
        Runs ``RunStatJR(*args)``; the engine supplies it (a module-level
        function, so executors that run elsewhere can pickle it).
    """

    template: Template
    data: "Dataset"
    answers: "Answers"
    options: EstOptions
    estoptions: dict = field(default_factory=dict)
    executor: Executor | None = None
    progress: Progress | Callable | None = None
    seed_sequence: np.random.SeedSequence | None = None
    runner: Callable[[tuple], Results] | None = None

    def __post_init__(self):
        if not isinstance(self.progress, Progress):
            self.progress = Progress(self.progress)
        if self.seed_sequence is None:
            self.seed_sequence = np.random.SeedSequence(self.options.seed)

    # ------------------------------------------------------------- seeds
    def spawn_seeds(self, n: int) -> list[int]:
        """``n`` independent 64-bit seeds, children of this run's SeedSequence.

        Successive calls give new children, so chains and fits never share a
        stream (O'Neill's spawning, as numpy documents for parallel work).
        """
        return [int(c.generate_state(1, dtype=np.uint64)[0]) for c in self.seed_sequence.spawn(n)]

    def spawn_option_seeds(self, n: int) -> list[int]:
        """Seeds for other templates' ``estoptions`` (in [0, 2**63))."""
        return [s & SEED_MASK for s in self.spawn_seeds(n)]

    def report(self, stage: str, plan: int | None = None) -> None:
        """Name the stage the run is in; ``plan`` gives the whole run's
        iterations up front, so the one progress bar never jumps back."""
        if plan is not None:
            self.progress.plan(plan)
        self.progress.set_stage(stage)

    # ---------------------------------------------------------- sampling
    def compile(self, spec: ModelSpec) -> tuple[str, Any]:
        """Render the template's ``.cpp.j2`` for ``spec`` and build it (cached)."""
        source = sampler_source(self.template.cpp_file(), spec.context, spec.arrays,
                                self.template.name)
        # a compile takes seconds to minutes: the progress names it, and the results keep its time
        module = build(source, while_compiling=lambda: self.progress.compiling(self.template.name))
        nparams = module.lib.sjr_nparams()
        if nparams != len(spec.params):
            raise RuntimeError(f"template {self.template.name} records {nparams} values per draw "
                               f"but names {len(spec.params)} parameters")
        return source, module

    def sample(self, spec: ModelSpec, schedule: Schedule | None = None, nchains: int | None = None,
               requests: Mapping[str, tuple[str, int]] | None = None) -> Fit:
        """Compile ``spec`` and run chains of it in parallel.

        Parameters
        ----------
        spec : ModelSpec
            The model, from the template's ``model``.
        schedule : Schedule, optional
            Default: ``Schedule.plain`` with the run's burnin, iterations and
            thinning.
        nchains : int, optional
            Default: the run's ``nchains``.
        requests : dict, optional
            ``{name: (what, nout)}`` asked of each live sampler at the end of
            a plain schedule (becomes ``fit.extras``).

        Returns
        -------
        Fit
        """
        opts = self.options
        nchains = nchains or opts.nchains
        if schedule is None:
            schedule = Schedule.plain(opts.burnin, opts.iterations, opts.thinning,
                                      Fetch(dict(requests or {})))
            check_draws_memory(dataclasses.replace(opts, nchains=nchains), len(spec.params),
                               self.template.name)
        else:
            check_memory(nchains * schedule.stored * len(spec.params) * 8 * 3,
                         f"{self.template.name}: {nchains} chains storing {schedule.stored} draws "
                         f"of {len(spec.params)} parameters", "shorten the run")
        source, module = self.compile(spec)
        self.progress.expect(nchains * schedule.iterations)
        if not self.progress.stage:
            self.progress.set_stage(self.template.name)
        runs = run_chain_set(module, spec.arrays, self.spawn_seeds(nchains), schedule.segments,
                             self.executor, opts.processes, self.progress)
        draws = np.stack([d for d, _ in runs])
        snapshots = [snaps for _, snaps in runs]
        extras = [snaps[-1] if snaps else {} for snaps in snapshots]
        return Fit(spec, draws, extras, self.answers, self.data, module, snapshots=snapshots,
                   iterations=schedule.labels(draws.shape[1]), discard=schedule.discard,
                   source=source)

    # ----------------------------------------------------------- outputs
    def standard_outputs(self, fit: Fit, extra: Callable[[Fit, Results], None] | None = None,
                         results: Results | None = None) -> Results:
        """ModelResults, ModelParameters, (``extra``), ``out``, plots, C++ and LaTeX.

        ``extra(fit, results)`` adds the template's own outputs after the two
        tables, where Stat-JR lists them.
        """
        results = Results() if results is None else results
        spec, kept = fit.spec, fit.kept
        idx = [spec.names.index(p) for p in spec.monitored]
        summary = summarise(kept[:, :, idx], [spec.param(p) for p in spec.monitored])
        results.add("ModelResults", summary, "table")
        if self.options.check_convergence:
            warn_convergence(summary, self.template.name, self.template.convergence_fix,
                             self.options.rhat_max, self.options.ess_min, stacklevel=3)
        results.add("ModelParameters", summary[["term", "kind", "mean", "sd"]].copy(), "table")
        results.params = [spec.param(p) for p in spec.monitored]
        if extra is not None:
            extra(fit, results)
        results.add("out", chains_frame(fit.draws, spec.names, fit.iterations), "table")
        if self.options.diagnostics:
            add_diagnostic_plots(results, kept[:, :, idx], spec.monitored,
                                 int(fit.iterations[fit.discard]) if kept.shape[1] else 1,
                                 int(fit.iterations[1] - fit.iterations[0])
                                 if len(fit.iterations) > 1 else 1)
        self.add_sources(results, fit.source, spec.context)
        return results

    def add_sources(self, results: Results, source: str, context: Mapping[str, Any]) -> None:
        """The generated ``.cpp`` and the rendered equation.tex and algorithm.tex."""
        results.add(f"{self.template.name}.cpp", source, "cpp")
        context = {**context, "answers": self.answers}
        results.add("equation.tex", render_string(self.template.equation, context), "tex")
        results.add("algorithm.tex", render_string(self.template.algorithm, context), "tex")

    # -------------------------------------------------------------- fits
    def fit(self, template: str, datasets: Sequence, invars: Mapping[str, Any],
            estoptions: Mapping[str, Any] | None = None,
            seeds: Sequence[int] | None = None) -> list[Results]:
        """Fit ``template`` to each of ``datasets`` in parallel, one spawned seed each.

        Each fit is a whole ``RunStatJR`` of the other template (validated by
        it), run on the executor, so fits spread over a dask cluster too.
        ``seeds`` (from :meth:`spawn_option_seeds`) fixes them in advance, for a
        fit started on another thread.
        """
        seeds = list(seeds) if seeds is not None else self.spawn_option_seeds(len(datasets))
        base = dict(estoptions or {})
        # sub-runs on this machine add to this run's progress; elsewhere they cannot
        progress = self.progress if self.executor is None else None
        tasks = [(template, d, dict(invars), {**base, "seed": s}, None, progress)
                 for d, s in zip(datasets, seeds)]
        if self.runner is None:
            raise RuntimeError("this RunContext was made without a runner; use engine.prepare")
        return parallel_map(self.runner, tasks, self.executor, self.options.processes)

    def subcontext(self, template: Template, invars: Mapping[str, Any],
                   **option_changes) -> "RunContext":
        """A context for another template on the same data, its answers validated
        by it, with a spawned seed sequence and the same executor and progress."""
        from .inputs import resolve

        answers = resolve(template.inputs, invars, list(map(str, self.data.frame.columns)),
                          self.data.frame, template.name)
        options = dataclasses.replace(self.options, **option_changes)
        return RunContext(template, self.data, answers, options, dict(self.estoptions),
                          self.executor, self.progress, self.seed_sequence.spawn(1)[0], self.runner)


def chains_frame(draws: np.ndarray, names: list[str], iterations: np.ndarray) -> pd.DataFrame:
    """The chains as one long table: chain, iteration, then one column per parameter.

    No parameter can be called ``chain`` or ``iteration`` (checks.OUT_COLUMNS),
    so the two never collide.
    """
    nchains, ndraws, _ = draws.shape
    frame = pd.DataFrame(draws.reshape(nchains * ndraws, -1), columns=names)
    frame.insert(0, "iteration", np.tile(np.asarray(iterations)[:ndraws], nchains))
    frame.insert(0, "chain", np.repeat(np.arange(nchains), ndraws))
    return frame


def add_diagnostic_plots(results: Results, draws: np.ndarray, names: list[str],
                         first_iteration: int, thinning: int) -> None:
    """One six-panel SVG per parameter, named ``<parameter>.svg``, drawn when first needed."""
    from .plots import six_panel_svg

    table = results.get("ModelResults")
    known = table.set_index("term") if table is not None and "ess_bulk" in table else None
    for k, name in enumerate(names):
        stats = (known.loc[name, ["ess_bulk", "rhat"]].tolist() if known is not None
                 and name in known.index else [None, None])
        draw = functools.partial(six_panel_svg, name, np.ascontiguousarray(draws[:, :, k]),
                                 first_iteration, thinning, *stats)
        results.add(f"{name}.svg", SVG(draw), "svg")
