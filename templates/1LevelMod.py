"""1LevelMod: single-level regression of one response.

The simplest MCMC template and the proof of the engine: a Normal response
with a flat prior on the coefficients and a Gamma(0.001, 0.001) prior on
the residual precision, sampled by Gibbs steps in generated C++.
"""
from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from statjr_py import InputError, ModelSpec, Template, Text, Variable, VariableList
from statjr_py.datasets import column, complete_rows, design

log = logging.getLogger("statjr_py.templates.1LevelMod")


class OneLevelMod(Template):
    name = "1LevelMod"
    description = "Single-level regression of a Normal response, fitted by MCMC."

    equation = r"""\begin{aligned}
\mathrm{ {{- y -}} }_i &\sim \mathrm{N}(\mu_i, \sigma^2_e) \\
\mu_i &= {% for t in terms %}\beta_{ {{- loop.index0 -}} }\,\mathrm{ {{- t | replace('_', '\\_') -}} }_i{% if not loop.last %} + {% endif %}{% endfor %} \\
\beta_k &\propto 1, \qquad 1/\sigma^2_e \sim \Gamma({{ prior_a }}, {{ prior_b }})
\end{aligned}
"""
    algorithm = r"""\begin{enumerate}
\item $\beta \mid \sigma^2_e, y \sim \mathrm{N}\big((X'X)^{-1}X'y,\; \sigma^2_e (X'X)^{-1}\big)$
\item $1/\sigma^2_e \mid \beta, y \sim \Gamma\big({{ prior_a }} + n/2,\; {{ prior_b }} + \tfrac12 (y - X\beta)'(y - X\beta)\big)$, with $n = {{ n }}$.
\end{enumerate}
$X'X$, $X'y$ and $y'y$ are formed once, so an iteration costs $O(K^3)$ for $K = {{ K }}$ coefficients.
"""

    def inputs(self, ask):
        ask(Variable("y", "Response:", help="The variable to model."))
        ask(Text("D", "Specify distribution:", choices=["Normal"],
                 help="Distribution of the response."))
        ask(VariableList("x", "Explanatory variables:",
                         help="Include cons for an intercept; tick categorical variables "
                              "(name.cat) for dummies with the last category as reference."))

    def model(self, data, answers):
        y = column(data.frame, answers["y"])
        X, terms = design(data.frame, answers["x"])
        keep = complete_rows(y, X)
        dropped = int((~keep).sum())
        if dropped:
            log.warning("1LevelMod: %d of %d cases have missing values and are left out",
                        dropped, len(keep))
        y, X = y[keep], X[keep]
        n, k = X.shape
        if n <= k:
            raise InputError(f"input 'x' = {answers.strings['x']!r}: only {n} complete cases "
                             f"for {k} coefficients; use fewer explanatory variables")
        if np.linalg.matrix_rank(X) < k:
            raise InputError(f"input 'x' = {answers.strings['x']!r}: the explanatory variables "
                             "are collinear (e.g. cons with every dummy of a category); "
                             "remove one of them")
        return ModelSpec(
            arrays={"y": y, "X": X},
            params=terms + ["sigma2_e", "deviance"],
            monitored=terms + ["sigma2_e"],
            context={"K": k, "D": "Normal", "terms": terms, "y": answers["y"], "n": n,
                     "prior_a": 0.001, "prior_b": 0.001},
            notes={"n": n, "dropped": dropped},
        )

    def outputs(self, fit, results):
        dic = fit.dic(fit.mean(fit.spec.monitored))
        results.add("ModelFit", pd.DataFrame([{**dic, "n": fit.spec.notes["n"]}]), "table")
