"""1LevelMod: single-level regression of one response.

Normal responses: a flat prior on the coefficients and a Gamma(0.001, 0.001)
prior on the residual precision, sampled by Gibbs steps.  Binomial (logit,
probit or cloglog link) and Poisson (log link, optional offset) responses: a
flat prior on the coefficients, sampled as one block by random-walk
Metropolis whose proposal has the shape of the inverse Fisher information
and a scale tuned during burn-in.
"""
from __future__ import annotations

import logging

import pandas as pd

from statjr_py import InputError, ModelSpec, Param, Template, Variable
from statjr_py.sdk import (ModelOfInterest, LINK_ENUM, ask_distribution, ask_explanatory, check_response, complete_rows,
                           design, full_rank, link_of, link_tex, normal_ml, response, warn_dropped)

log = logging.getLogger("statjr_py.templates.1LevelMod")


class OneLevelMod(Template, ModelOfInterest):
    name = "1LevelMod"
    moi_level = 1
    moi_distributions = ("Normal", "Binomial", "Poisson")
    reserved = ("sigma2_e", "deviance")
    description = "Single-level regression (Normal, Binomial or Poisson response), fitted by MCMC."

    equation = r"""\begin{aligned}
{% if D == "Normal" %}\text{ {{- y | tex -}} }_i &\sim \mathrm{N}(\mu_i, \sigma^2_e) \\
{% elif D == "Binomial" %}\text{ {{- y | tex -}} }_i &\sim \mathrm{Binomial}(n_i, \pi_i) \\
{% else %}\text{ {{- y | tex -}} }_i &\sim \mathrm{Poisson}(\pi_i) \\
{% endif %}
{{ link_tex }} &= {% if offset %}\mathrm{offset}_i + {% endif %}{% for t in terms %}\beta_{ {{- loop.index0 -}} }\,\text{ {{- t | tex -}} }_i{% if not loop.last %} + {% endif %}{% endfor %} \\
\beta_k &\propto 1{% if D == "Normal" %}, \qquad 1/\sigma^2_e \sim \Gamma({{ prior_a }}, {{ prior_b }}){% endif %}

\end{aligned}
"""
    algorithm = r"""{% if D == "Normal" %}\begin{enumerate}
\item $\beta \mid \sigma^2_e, y \sim \mathrm{N}\big((X'X)^{-1}X'y,\; \sigma^2_e (X'X)^{-1}\big)$
\item $1/\sigma^2_e \mid \beta, y \sim \Gamma\big({{ prior_a }} + n/2,\; {{ prior_b }} + \tfrac12 (y - X\beta)'(y - X\beta)\big)$, with $n = {{ n }}$.
\end{enumerate}
$X'X$, $X'y$ and $y'y$ are formed once, so an iteration costs $O(K^3)$ for $K = {{ K }}$ coefficients.
{% else %}Random-walk Metropolis for the whole vector $\beta$: propose
$\beta^* = \beta + s\,L z$, $z \sim \mathrm{N}(0, I)$, where $LL' = \mathcal{I}(\hat\beta)^{-1}$ is the
inverse Fisher information at the mode found by Fisher scoring before the chain starts, and accept
with probability $\min\{1, p(y \mid \beta^*) / p(y \mid \beta)\}$ (flat prior). The scale $s$ starts at
$2.38/\sqrt{K}$ and is tuned every 100 burn-in iterations towards 30\% acceptance (Browne and Draper
2000); it is fixed while monitoring.
{% endif %}
"""

    def inputs(self, ask):
        ask(Variable("y", "Response:", help="The variable to model."))
        ask_distribution(ask)
        ask_explanatory(ask)

    def model(self, data, answers):
        y, m, off = response(data.frame, answers)
        X, terms = design(data.frame, answers["x"])
        keep = complete_rows(y, X, m, off)
        dropped = int((~keep).sum())
        warn_dropped(self.name, dropped, len(keep))
        y, X, m, off = y[keep], X[keep], m[keep], off[keep]
        check_response(answers, y, m, X, terms, self.name)
        n, k = X.shape
        if n <= k:
            raise InputError(f"input 'x' = {answers.strings['x']!r}: only {n} complete cases "
                             f"for {k} coefficients; use fewer explanatory variables")
        if not full_rank(X):
            raise InputError(f"input 'x' = {answers.strings['x']!r}: the explanatory variables "
                             "are collinear (e.g. cons with every dummy of a category); "
                             "remove one of them")
        dist, link = answers["D"], link_of(answers)
        context = {"K": k, "D": dist, "link": link, "link_enum": LINK_ENUM.get(link, ""),
                   "link_tex": link_tex(link, "i"), "terms": terms, "y": answers["y"], "n": n,
                   "offset": bool(answers.get("offset")), "prior_a": 0.001, "prior_b": 0.001}
        beta = Param.coefficients(terms)
        deviance = Param("deviance", "deviance", monitored=False)
        if dist == "Normal":
            return ModelSpec(arrays={"y": y, "X": X},
                             params=beta + [Param("sigma2_e", "variance", 1), deviance],
                             context=context, notes={"n": n, "dropped": dropped})
        return ModelSpec(arrays={"y": y, "X": X, "m": m, "off": off}, params=beta + [deviance],
                         context=context, notes={"n": n, "dropped": dropped})

    def ml_fit(self, frame, answers, dist, drop=()):
        """The ML linear model (OLS, sigma2 = RSS/n) for D3; Normal responses only
        (for Binomial and Poisson the pooled test is D1 or D2)."""
        return normal_ml(frame, answers, drop) if dist == "Normal" else None

    def outputs(self, fit, results):
        dic = fit.dic(fit.mean(fit.spec.monitored))
        results.add("ModelFit", pd.DataFrame([{**dic, "n": fit.spec.notes["n"]}]), "table")
