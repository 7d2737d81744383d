"""RunStatJR: one call from template name, dataset and answers to results.

This module only wires the layers together: validate (inputs), then hand a
:class:`~statjr_py.context.RunContext` to the template's ``run``, which
generates, builds, samples and summarises through it.
"""
from __future__ import annotations

import logging
import warnings
from concurrent.futures import Executor
from typing import Any, Callable, Mapping

import pandas as pd

from .checks import check_data
from .context import RunContext
from .datasets import load_dataset
from .errors import StatJRWarning
from .inputs import resolve
from .registry import get_template
from .results import Results
from .run import EstOptions
from .stata import Labels, _stata_legal, labels_of, with_labels
from .template import Template

log = logging.getLogger("statjr_py.engine")


def prepare(template, dataset, invars=None, estoptions=None, *, executor=None,
            progress=None) -> RunContext:
    """Validate everything up front, before any code is generated.

    Returns the :class:`~statjr_py.context.RunContext` the template's
    ``run`` receives.
    """
    tmpl = template if isinstance(template, Template) else get_template(template)
    options = EstOptions.from_mapping(estoptions)
    data = load_dataset(dataset)
    answers = resolve(tmpl.inputs, {} if invars is None else invars,
                      list(map(str, data.frame.columns)), data.frame, tmpl.name)
    check_data(data.frame, answers, tmpl.reserved_names())
    return RunContext(tmpl, data, answers, options, dict(estoptions or {}), executor, progress,
                      runner=run_job)


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
        Ordered mapping of output name to object; ``results.warnings`` lists
        the DataWarnings and ConvergenceWarnings the run raised (each is also
        raised with :func:`warnings.warn`).
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", StatJRWarning)
        results = run_job((template, dataset, invars, estoptions, executor, progress))
    results.warnings = [str(w.message) for w in caught if issubclass(w.category, StatJRWarning)]
    for w in caught:  # said again, now, to the caller's own filters and display
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, source=w.source)
    return results


def run_job(args: tuple) -> Results:
    """One run from ``(template, dataset, invars, estoptions[, executor, progress])``.

    What RunStatJR does, less collecting the warnings (which swaps global
    state, so only the outermost run does it); a picklable task for
    executors that run fits elsewhere.
    """
    template, dataset, invars, estoptions, *rest = args
    executor, progress = (rest + [None, None])[:2]
    ctx = prepare(template, dataset, invars, estoptions, executor=executor, progress=progress)
    results = ctx.template.run(ctx)
    apply_labels(results, ctx.data.labels, list(ctx.data.frame.columns))
    results.headline = tuple(ctx.template.headline)  # what a notebook shows first
    results.compile_seconds = dict(ctx.progress.compiled)
    results.add("script.py", script_text(ctx), "python")
    results.add("Inputs", ctx.answers.input_string(), "text")
    return results


#: Table columns whose rows name parameters, or sums of them (ResultsTable:Tests).
TERM_COLUMNS = ("term", "terms")


def apply_labels(results: Results, labels: Labels, columns: list) -> None:
    """Carry the data's labels into a run's outputs, whatever the template.

    Done here, after the template's ``run``, so that every template gets it
    and none has to know about labels (nor can leak them into C++ or LaTeX):

    * each ``dataset`` output carries the labels of its columns (its own,
      then the data's), which :func:`statjr_py.stata.dta_bytes` writes into
      the ``.dta``;
    * each table whose rows name parameters (a ``term`` or ``terms``
      column) gains a ``label`` column just after it
      (:meth:`Labels.describe`: ``schgendmiss_0`` reads ``mixed``).

    Data without labels leave every output as it was, so that tables keep
    their columns for anyone reading them by position; data with labels give
    every such table the column, empty where a row has no label.  A table that
    already has a ``label`` column (e.g. a sub-run's, labelled already) is
    left alone.  Outputs are replaced by labelled copies, never changed in
    place.
    """
    if not labels:
        return
    for name in list(results):
        obj, kind = results[name], results.kind(name)
        if not isinstance(obj, pd.DataFrame):
            continue
        if kind == "dataset":
            results[name] = with_labels(obj, labels_of(obj).merged(labels))
            continue
        where = next((c for c in TERM_COLUMNS if c in obj.columns), None)
        if kind != "table" or where is None or "label" in obj.columns:
            continue
        table = obj.copy(deep=False)
        described = labels.describe(obj[where], columns)
        table.insert(list(obj.columns).index(where) + 1, "label", described)
        results[name] = table


def _validated_options(job: RunContext) -> dict:
    """The options the caller gave, as the validated values (plain ints and bools).

    Taken from :class:`EstOptions`, never from the caller's objects, so that
    ``repr`` in script.py can only ever print numbers.
    """
    return {k: getattr(job.options, k) for k in job.estoptions if hasattr(job.options, k)}


def script_text(job: RunContext) -> str:
    """A runnable script that reproduces this run through RunStatJR."""
    if job.data.source is not None:
        dataset = repr(job.data.source)
        note = ""
    elif all(_stata_legal(c) for c in job.data.frame.columns):
        dataset = "'data.dta'"
        note = ("# The data were passed as a DataFrame: save them first, e.g.\n"
                "# statjr_py.stata.write_dta(frame, 'data.dta')\n")
    else:  # write_dta would rename columns, and the invars would no longer match them
        dataset = "'data.csv'"
        note = ("# The data were passed as a DataFrame: save them first, e.g.\n"
                "# frame.to_csv('data.csv', index=False)\n"
                "# (a CSV keeps the column names, which a .dta could not)\n")
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
