"""The template author's toolkit: everything a template may import besides ``statjr_py``.

A template imports only from :mod:`statjr_py` (its ``__all__``) and from
this module (its ``__all__``); ``tests/test_sdk.py`` checks that every
bundled template does.  What is here:

Data
    :func:`column`, :func:`design`, :func:`complete_rows`,
    :func:`level2_index`, :func:`sort_by_unit`, :func:`column_levels`.
Regression templates
    The questions (:func:`ask_distribution`, :func:`ask_explanatory`),
    links (``LINKS``, ``LINK_ENUM``, :func:`link_of`, :func:`link_tex`),
    checked response arrays (:func:`response`, :func:`check_response`,
    :func:`warn_dropped`), two-level preparation and outputs
    (:func:`prepare_two_level`, :func:`residual_requests`,
    :func:`two_level_outputs`).
Running
    :class:`Schedule`, :class:`Fetch` (what to ask a live sampler),
    :func:`check_memory`.
Results
    :func:`summarise` (ModelResults from draws), :func:`autocorrelation`,
    :func:`warn_convergence`, :func:`add_diagnostic_plots`,
    :func:`chains_frame`, :func:`rubin` (Rubin's rules), :func:`d1`, :func:`d2`,
    :func:`d3` (multiparameter tests), :func:`render_string`
    (LaTeX through Jinja2, names escaped by the ``tex`` filter), :func:`tex`.
Models of interest
    :class:`ModelOfInterest`, :func:`models_of_interest`, :func:`choose_model`;
    for D3, :class:`MLFit`, :func:`normal_ml` (ML fits of Normal models) and
    :func:`d3_test` (D3 from lists of them).
Imputations
    :class:`ImputedVariable`, :func:`imputation_diagnostics`,
    :func:`missing_by_unit`, :func:`imputation_svg`.
"""
from __future__ import annotations

from .codegen import render_string, tex
from .context import add_diagnostic_plots, chains_frame
from .datasets import column, complete_rows, design, level2_index
from .impdiag import ImputedVariable, imputation_diagnostics, imputation_svg, missing_by_unit
from .diagnostics import autocorrelation, summarise, warn_convergence
from .mlfit import MLFit, d3_test, normal_ml
from .moi import ModelOfInterest, choose_model, models_of_interest
from .pooling import d1, d2, d3, rubin
from .regression import (LINK_ENUM, LINKS, ask_distribution, ask_explanatory, check_response,
                         full_rank,
                         column_levels, link_of, link_tex, prepare_two_level, residual_requests,
                         response, sort_by_unit, two_level_outputs, warn_dropped)
from .run import Fetch, Schedule, check_memory

__all__ = [
    "column", "design", "complete_rows", "level2_index", "sort_by_unit", "column_levels",
    "LINKS", "LINK_ENUM", "ask_distribution", "ask_explanatory", "link_of", "link_tex",
    "response", "check_response", "warn_dropped", "full_rank", "prepare_two_level", "residual_requests",
    "two_level_outputs",
    "Schedule", "Fetch", "check_memory",
    "summarise", "autocorrelation", "warn_convergence", "add_diagnostic_plots", "chains_frame",
    "rubin", "d1", "d2", "d3", "render_string", "tex",
    "ModelOfInterest", "models_of_interest", "choose_model", "MLFit", "normal_ml", "d3_test",
    "ImputedVariable", "imputation_diagnostics", "missing_by_unit", "imputation_svg",
]
