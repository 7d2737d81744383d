"""2LevelMod: random-intercept models for Normal, Binomial and Poisson responses.

    y_ij ~ D(mu_ij),  g(mu_ij) = x_ij' beta + u_j,  u_j ~ N(0, sigma2_u)

Normal: every step Gibbs, beta with u integrated out and then u (one
block, so the intercept mixes well).  Binomial and Poisson: the fixed effects as one
block and each u_j by random-walk Metropolis, with proposal scales tuned
during burn-in as MLwiN does.  Priors: flat on beta; flat on sigma2_u for a
Normal response (2LevelRS explains why: a weakly identified variance is
pulled to zero by the Gamma(0.001, 0.001) prior), Gamma(0.001, 0.001) on
1/sigma2_u for Binomial and Poisson and on 1/sigma2_e.
"""
from __future__ import annotations

from statjr_py import L2ID, ModelSpec, Param, Template, Variable
from statjr_py.sdk import (ModelOfInterest, LINK_ENUM, ask_distribution, ask_explanatory, link_of, link_tex,
                           normal_ml, prepare_two_level, residual_requests, two_level_outputs)


class TwoLevelMod(Template, ModelOfInterest):
    name = "2LevelMod"
    moi_level = 2
    moi_distributions = ("Normal", "Binomial", "Poisson")
    reserved = ("sigma2_u", "sigma2_e", "deviance")
    description = "Two-level random-intercept model (Normal, Binomial or Poisson response)."

    equation = r"""\begin{aligned}
{% if D == "Normal" %}\text{ {{- y | tex -}} }_{ij} &\sim \mathrm{N}(\mu_{ij}, \sigma^2_e) \\
{% elif D == "Binomial" %}\text{ {{- y | tex -}} }_{ij} &\sim \mathrm{Binomial}(n_{ij}, \pi_{ij}) \\
{% else %}\text{ {{- y | tex -}} }_{ij} &\sim \mathrm{Poisson}(\pi_{ij}) \\
{% endif %}
{{ link_tex }} &= {% if offset %}\mathrm{offset}_{ij} + {% endif %}{% for t in terms %}\beta_{ {{- loop.index0 -}} }\,\text{ {{- t | tex -}} }_{ij} + {% endfor %}u_j \\
u_j &\sim \mathrm{N}(0, \sigma^2_u), \quad j = 1, \dots, {{ J }} \text{ ({{ l2id | tex }})} \\
\beta_k &\propto 1, \quad {% if D == "Normal" %}p(\sigma^2_u) \propto 1, \quad 1/\sigma^2_e \sim \Gamma(0.001, 0.001){% else %}1/\sigma^2_u \sim \Gamma(0.001, 0.001){% endif %}

\end{aligned}
"""
    algorithm = r"""\begin{enumerate}
{% if D == "Normal" %}
\item $\beta \mid \sigma^2_u, \sigma^2_e \sim \mathrm{N}\big(A^{-1}b,\; A^{-1}\big)$ with $u$ integrated out: $A = \sum_j X_j'V_j^{-1}X_j$, $b = \sum_j X_j'V_j^{-1}y_j$, $V_j = \sigma^2_e I + \sigma^2_u \mathbf{1}\mathbf{1}'$ (so $(\beta, u)$ is drawn as one block).
\item $u_j \mid \beta, \sigma^2_u, \sigma^2_e \sim \mathrm{N}\big(\tfrac{\sigma^{-2}_e \sum_i (y_{ij} - x_{ij}'\beta)}{n_j \sigma^{-2}_e + \sigma^{-2}_u},\; (n_j \sigma^{-2}_e + \sigma^{-2}_u)^{-1}\big)$.
\item $1/\sigma^2_u \sim \Gamma(J/2 - 1,\; \tfrac12\sum_j u_j^2)$ (flat prior on $\sigma^2_u$).
\item $1/\sigma^2_e \sim \Gamma(0.001 + N/2,\; 0.001 + \tfrac12\sum_{ij} e_{ij}^2)$.
{% else %}
\item $\beta$: one random-walk Metropolis step for the whole vector, with proposal covariance
the inverse Fisher information at the mode (ignoring $u$) scaled by $s$, tuned in burn-in towards 30\% acceptance.
\item $u_j$: for each unit, a univariate random-walk Metropolis step with its own scale, tuned in burn-in towards 44\% acceptance (Browne and Draper 2000).
\item $1/\sigma^2_u \sim \Gamma(0.001 + J/2,\; 0.001 + \tfrac12\sum_j u_j^2)$.
{% endif %}
\end{enumerate}
"""

    def inputs(self, ask):
        ask(Variable("y", "Response:", help="The variable to model."))
        ask(L2ID("L2ID", "Level 2 ID:", help="The identifier of level-2 units (e.g. school)."))
        ask_distribution(ask)
        ask_explanatory(ask)

    def model(self, data, answers):
        p = prepare_two_level(data.frame, answers, self.name)
        dist, link = answers["D"], link_of(answers)
        terms = p["terms"]
        context = {"K": p["K"], "J": p["J"], "D": dist, "link": link,
                   "link_enum": LINK_ENUM.get(link, ""), "link_tex": link_tex(link, "ij"),
                   "terms": terms, "y": answers["y"], "l2id": answers["L2ID"],
                   "offset": bool(answers.get("offset"))}
        notes = {k: p[k] for k in ("n", "J", "ids", "sizes", "zterms", "terms", "dropped")}
        variances = [Param("sigma2_u", "variance", 2)]
        if dist == "Normal":
            variances.append(Param("sigma2_e", "variance", 1))
            arrays = {"y": p["y"], "X": p["X"], "Z": p["Z"], "start": p["start"]}
        else:
            arrays = {"y": p["y"], "X": p["X"], "m": p["m"], "off": p["off"], "start": p["start"]}
        return ModelSpec(arrays=arrays, context=context, notes=notes,
                         params=p["coefficients"] + variances
                         + [Param("deviance", "deviance", monitored=False)])

    requests = staticmethod(residual_requests)

    def ml_fit(self, frame, answers, dist, drop=()):
        """The ML random-intercept model (lmer with REML = FALSE) for D3; Normal
        responses only: a GLMM's likelihood needs numerical integration."""
        return normal_ml(frame, answers, drop, l2id=answers["L2ID"]) if dist == "Normal" else None

    def outputs(self, fit, results):
        two_level_outputs(fit, results, normal=fit.answers["D"] == "Normal")
