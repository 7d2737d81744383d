"""Results in other tools: ArviZ, pandas lists of imputations, and notebooks.

:class:`~statjr_py.Results` delegates here (``to_arviz``,
``imputed_datasets``, ``_repr_html_``), so that importing the package needs
neither ArviZ nor anything a notebook brings.
"""
from __future__ import annotations

import html
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    from .results import Results

__all__ = ["to_arviz", "imputed_datasets", "results_html"]


def _out_tables(results: "Results") -> list[str]:
    """Prefixes of the chains tables a run holds: '' for ``out``, 'Model1_' for ``Model1_out``."""
    return [name[: -len("out")] for name in results if name == "out" or name.endswith("_out")]


def to_arviz(results: "Results", fit: str | None = None):
    """The chains of one fit as an ArviZ ``InferenceData``.

    Parameters
    ----------
    fit : str, optional
        Which chains: None for a single fit's ``out``; for 2LevelImpute
        ``"Model1"`` ... ``"ModelM"``, ``"CompleteCasesModel"`` or
        ``"Imputation_Model"``.

    Returns
    -------
    arviz.InferenceData
        ``posterior`` with one variable per parameter, dimensions (chain, draw),
        and the iteration numbers as the ``draw`` coordinate.
    """
    try:
        import arviz as az
    except ImportError:
        raise InputError("to_arviz needs ArviZ: pip install 'statjr-py[arviz]'") from None
    prefixes = _out_tables(results)
    prefix = "" if fit is None else (fit if fit.endswith("_") else fit + "_")
    if prefix not in prefixes:
        choices = ", ".join(repr(p.rstrip("_")) for p in prefixes if p) or "none"
        raise InputError(f"to_arviz: fit = {fit!r} has no chains table ({prefix}out); "
                         f"choose one of {choices}" + (" or None" if "" in prefixes else ""))
    table = results[prefix + "out"]
    names = [c for c in table.columns if c not in ("chain", "iteration")]
    chains = sorted(table["chain"].unique())
    per_chain = [table[table["chain"] == c] for c in chains]
    ndraws = min(len(t) for t in per_chain)
    posterior = {name: np.stack([t[name].to_numpy()[:ndraws] for t in per_chain]) for name in names}
    return az.from_dict(posterior=posterior,
                        coords={"chain": np.asarray(chains),
                                "draw": per_chain[0]["iteration"].to_numpy()[:ndraws]})


def imputed_datasets(results: "Results") -> list[pd.DataFrame]:
    """The M completed datasets, in the order Rubin's rules use them."""
    for listing_name, prefix in (("ImputedDatasets", ""),
                                 ("Imputation_Model_ImputedDatasets", "Imputation_Model_")):
        if listing_name in results:
            listing = results[listing_name]
            return [results[prefix + name] for name in listing.loc[listing["used"], "dataset"]]
    raise InputError("imputed_datasets: these results hold no imputations; they come from "
                     "ImputeModel or 2LevelImpute")


def results_html(results: "Results", headline=None) -> str:
    """A notebook's view: the headline tables, then every output with its kind."""
    headline = [n for n in (headline or getattr(results, "headline", ()) or ()) if n in results]
    parts = []
    for name in headline:
        table = results[name]
        if isinstance(table, pd.DataFrame):
            parts.append(f"<h4>{html.escape(name)}</h4>"
                         + table.to_html(index=False, float_format=lambda v: f"{v:.4g}"))
    for text in getattr(results, "warnings", []) or []:
        parts.append(f"<p style='color:#a60'>Warning: {html.escape(text)}</p>")
    items = "".join(f"<li>{html.escape(name)} <small>[{html.escape(results.kind(name))}]</small></li>"
                    for name in results)
    parts.append(f"<details><summary>{len(results)} outputs</summary><ul>{items}</ul></details>")
    return "<div class='statjr-results'>" + "".join(parts) + "</div>"
