"""RunStatJR: one call from template name, dataset and answers to results.

This module only wires the layers together; each step lives in its own
module (inputs, codegen, build, run, results).
"""
from __future__ import annotations

import logging
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np
import pandas as pd

from .build import build
from .checks import check_data
from .codegen import render_string, sampler_source
from .datasets import Dataset, load_dataset
from .diagnostics import summarise
from .inputs import Answers, resolve
from .registry import get_template
from .results import Results
from .run import EstOptions, Fetch, check_draws_memory, run_chains
from .template import Fit, Template

log = logging.getLogger("statjr_py.engine")


@dataclass
class Job:
    """Everything one template run needs, validated."""

    template: Template
    data: Dataset
    answers: Answers
    options: EstOptions
    estoptions: dict  # as the caller gave them, for script.py
    executor: Executor | None = None
    progress: Callable[[int, int], None] | None = None


def prepare(template, dataset, invars=None, estoptions=None, *, executor=None,
            progress=None) -> Job:
    """Validate everything up front, before any code is generated."""
    tmpl = template if isinstance(template, Template) else get_template(template)
    data = load_dataset(dataset)
    answers = resolve(tmpl.inputs, {} if invars is None else invars, list(map(str, data.frame.columns)),
                      data.frame, tmpl.name)
    check_data(data.frame, answers, tmpl.reserved_names())
    options = EstOptions.from_mapping(estoptions)
    return Job(tmpl, data, answers, options, dict(estoptions or {}), executor, progress)


def RunStatJR(template: str, dataset, invars: Mapping[str, Any] | None = None,
              estoptions: Mapping[str, Any] | None = None, *, executor: Executor | None = None,
              progress: Callable[[int, int], None] | None = None) -> Results:
    """Run a template, as Stat-JR's command of the same name does.

    Parameters
    ----------
    template : str
        Template name, any case (``'1LevelMod'``, ``'2LevelImpute'``).
    dataset : str, path or DataFrame
        A bundled dataset name, a ``.dta``/``.csv``/``.txt`` path, or a
        DataFrame (copied; the caller's frame is never changed).
    invars : dict
        Answers to the template's questions: TREE's input string verbatim
        (all strings) or native Python values.
    estoptions : dict
        ``burnin``, ``iterations``, ``thinning``, ``nchains``, ``seed``,
        ``processes``; see :class:`~statjr_py.run.EstOptions`.
    executor : concurrent.futures.Executor, optional
        Where chains run; default a thread pool of ``processes`` workers.
    progress : callable(done, total), optional
        Called as iterations complete.

    Returns
    -------
    Results
        Ordered mapping of output name to object.
    """
    job = prepare(template, dataset, invars, estoptions, executor=executor, progress=progress)
    results = job.template.run(job)
    results.add("script.py", script_text(job), "python")
    results.add("Inputs", job.answers.input_string(), "text")
    return results


def run_mcmc(tmpl: Template, job: Job) -> Results:
    """Generate, compile, run chains and summarise one MCMC template."""
    spec = tmpl.model(job.data, job.answers)
    check_draws_memory(job.options, len(spec.params), tmpl.name)
    source = sampler_source(tmpl.cpp_file(), spec.context, spec.arrays, tmpl.name)
    module = build(source)
    nparams = module.lib.sjr_nparams()
    if nparams != len(spec.params):
        raise RuntimeError(f"template {tmpl.name} records {nparams} values per draw "
                           f"but names {len(spec.params)} parameters")
    draws, extras = run_chains(module, spec.arrays, job.options, job.progress, job.executor,
                               fetch=Fetch(tmpl.requests(spec)))
    fit = Fit(spec, draws, extras, job.answers, job.data, module)
    results = Results()
    idx = [spec.params.index(p) for p in spec.monitored]
    summary = summarise(draws[:, :, idx], spec.monitored)
    results.add("ModelResults", summary, "table")
    results.add("ModelParameters", summary[["term", "mean", "sd"]].copy(), "table")
    tmpl.outputs(fit, results)
    results.add("out", chains_frame(draws, spec.params, job.options), "table")
    if job.options.diagnostics:
        add_diagnostic_plots(results, draws[:, :, idx], spec.monitored, job.options)
    results.add(f"{tmpl.name}.cpp", source, "cpp")
    context = {**spec.context, "answers": job.answers}
    results.add("equation.tex", render_string(tmpl.equation, context), "tex")
    results.add("algorithm.tex", render_string(tmpl.algorithm, context), "tex")
    return results


def add_diagnostic_plots(results: Results, draws: np.ndarray, names: list[str],
                         opts: EstOptions) -> None:
    """One six-panel SVG per parameter, named ``<parameter>.svg``."""
    from .plots import six_panel_svg

    for k, name in enumerate(names):
        results.add(f"{name}.svg",
                    six_panel_svg(name, draws[:, :, k], opts.burnin + opts.thinning, opts.thinning),
                    "svg")


def run_job(args: tuple) -> Results:
    """``RunStatJR(*args)``: a picklable task for executors that run elsewhere."""
    return RunStatJR(*args)


def chains_frame(draws: np.ndarray, names: list[str], opts: EstOptions) -> pd.DataFrame:
    """The chains as one long table: chain, iteration, then one column per parameter."""
    nchains, ndraws, _ = draws.shape
    iteration = opts.burnin + opts.thinning * np.arange(1, ndraws + 1)
    frame = pd.DataFrame(draws.reshape(nchains * ndraws, -1), columns=names)
    frame.insert(0, "iteration", np.tile(iteration, nchains))
    frame.insert(0, "chain", np.repeat(np.arange(nchains), ndraws))
    return frame


def _validated_options(job: Job) -> dict:
    """The options the caller gave, as the validated values (plain ints and bools).

    Taken from :class:`EstOptions`, never from the caller's objects, so that
    ``repr`` in script.py can only ever print numbers.
    """
    return {k: getattr(job.options, k) for k in job.estoptions if hasattr(job.options, k)}


def script_text(job: Job) -> str:
    """A runnable script that reproduces this run through RunStatJR."""
    if job.data.source is not None:
        dataset = repr(job.data.source)
        note = ""
    else:
        dataset = "'data.dta'"
        note = ("# The data were passed as a DataFrame: save them first, e.g.\n"
                "# statjr_py.results.write_dta(frame, 'data.dta')\n")
    invars = "{" + ", ".join(f"{k!r}: {v!r}" for k, v in job.answers.strings.items()) + "}"
    return (f'"""Reproduces a statjr-py run of {job.template.name}: python script.py"""\n'
            "from statjr_py import RunStatJR\n\n" + note +
            f"results = RunStatJR(template={job.template.name!r}, dataset={dataset},\n"
            f"                    invars={invars},\n"
            f"                    estoptions={_validated_options(job)!r})\n"
            "for name in results.tables():\n"
            "    print(name)\n"
            "    print(results[name].to_string(index=False))\n"
            "results.save('statjr_results')\n")
