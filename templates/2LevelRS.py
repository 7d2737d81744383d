"""2LevelRS: random coefficients at level 2 for Normal, Binomial and Poisson responses.

    Normal:            y_ij = x_ij' beta + z_ij' u_j + e_ij,  e_ij ~ N(0, sigma2_e)
    Binomial, Poisson: g(E y_ij) = offset_ij + x_ij' beta + z_ij' u_j
    u_j ~ N_q(0, Omega_u)

Normal: every step is Gibbs; beta is drawn with u integrated out, then u, so
the pair is one block.  Binomial (logit, probit, cloglog) and Poisson (log):
beta by one block random-walk Metropolis step with the random part in the
linear predictor's offset (as 2LevelMod), each unit's q-vector u_j by a
multivariate random-walk Metropolis step shaped by the unit's posterior
precision and tuned in burn-in (cpp/statjr/glmm.hpp), Omega_u by the exact
inverse-Wishart Gibbs draw under the same flat prior as for a Normal
response.  Two moves that change no linear predictor's fit make it mix:
scaling a coordinate of every u_j together with Omega_u's row and column,
and recentring beta against the mean of the u_j for variables in both x and
z (logit on the tutorial data: the slope variance's ESS from about 1% of the
draws to 5%, the intercept's from 1% to 15% or more).  Priors: flat on beta; Gamma(0.001, 0.001) on
1/sigma2_e; flat on Omega_u (p(Omega_u) = const on positive definite
matrices, i.e. IW(-(q + 1), 0), so the posterior is IW(J - q - 1, S)), as
2LevelMod's flat prior on sigma2_u, so with q = 1 and z = cons the two
templates are the same model.  Two priors were tried first and rejected:
IW(q + 1, small I) pulled the tutorial data's slope variance 15% below the
ML estimate (0.0125 against lme4's 0.0147); IW(q - 1 + 0.002, 0.002 I), the
Gamma(0.001, 0.001)-like choice, gave with 50 schools and complete data a
slope-variance coverage of 0.78 and a fixed-slope coverage of 0.88 (SE 12%
low): a variance that is weakly identified is pulled towards zero
(Gelman 2006, Bayesian Analysis 1, 515-534).  docs/validation.md has the
figures.  The flat prior is kept for Binomial and Poisson responses, where
the slope variances are no better identified.
"""
from __future__ import annotations

import dataclasses
import logging
import warnings

from statjr_py import L2ID, DataWarning, ModelSpec, Param, Template, Variable, VariableList
from statjr_py.sdk import (LINK_ENUM, ModelOfInterest, ask_distribution, ask_explanatory, link_of,
                           link_tex, prepare_two_level, residual_requests, two_level_outputs)

log = logging.getLogger("statjr_py.templates.2LevelRS")


class TwoLevelRS(Template, ModelOfInterest):
    name = "2LevelRS"
    moi_level = 2
    moi_distributions = ("Normal", "Binomial", "Poisson")
    moi_slopes = True
    reserved = ("omega_u(", "sigma2_e", "deviance")
    description = ("Two-level random-coefficients (random slopes) model (Normal, Binomial or "
                   "Poisson response).")

    equation = r"""\begin{aligned}
{% if D == "Normal" %}\text{ {{- y | tex -}} }_{ij} &= {% for t in terms %}\beta_{ {{- loop.index0 -}} }\,\text{ {{- t | tex -}} }_{ij} + {% endfor %}{% for z in zterms %}u_{ {{- loop.index0 -}} j}\,\text{ {{- z | tex -}} }_{ij} + {% endfor %}e_{ij} \\
u_j &\sim \mathrm{N}_{ {{- q -}} }(0, \Omega_u), \quad e_{ij} \sim \mathrm{N}(0, \sigma^2_e), \quad j = 1, \dots, {{ J }} \\
\beta_k &\propto 1, \quad p(\Omega_u) \propto 1, \quad 1/\sigma^2_e \sim \Gamma(0.001, 0.001)
{% else %}\text{ {{- y | tex -}} }_{ij} &\sim {% if D == "Binomial" %}\mathrm{Binomial}(n_{ij}, \pi_{ij}){% else %}\mathrm{Poisson}(\pi_{ij}){% endif %} \\
{{ link_tex }} &= {% if offset %}\mathrm{offset}_{ij} + {% endif %}{% for t in terms %}\beta_{ {{- loop.index0 -}} }\,\text{ {{- t | tex -}} }_{ij} + {% endfor %}{% for z in zterms %}u_{ {{- loop.index0 -}} j}\,\text{ {{- z | tex -}} }_{ij}{% if not loop.last %} + {% endif %}{% endfor %} \\
u_j &\sim \mathrm{N}_{ {{- q -}} }(0, \Omega_u), \quad j = 1, \dots, {{ J }} \\
\beta_k &\propto 1, \quad p(\Omega_u) \propto 1
{% endif %}
\end{aligned}
"""
    algorithm = r"""\begin{enumerate}
{% if D == "Normal" %}
\item $\beta \mid \Omega_u, \sigma^2_e \sim \mathrm{N}\big(A^{-1}b,\; A^{-1}\big)$ with $u$ integrated out: $A = \sum_j X_j'V_j^{-1}X_j$, $b = \sum_j X_j'V_j^{-1}y_j$, $V_j = \sigma^2_e I + Z_j\Omega_u Z_j'$ (so $(\beta, u)$ is drawn as one block).
\item $u_j \mid \beta, \Omega_u, \sigma^2_e \sim \mathrm{N}(P_j^{-1} \sigma^{-2}_e Z_j'(y_j - X_j\beta),\; P_j^{-1})$, $P_j = \Omega_u^{-1} + \sigma^{-2}_e Z_j'Z_j$.
\item $\Omega_u \mid u \sim \mathrm{IW}\big(J - {{ q }} - 1,\; \sum_j u_j u_j'\big)$ (flat prior).
\item $1/\sigma^2_e \sim \Gamma(0.001 + N/2,\; 0.001 + \tfrac12\sum_{ij} e_{ij}^2)$.
{% else %}
\item $\beta \mid u$: one random-walk Metropolis step for the whole vector, $z_{ij}'u_j$ in the linear
predictor's offset, with proposal covariance the inverse Fisher information at the mode (ignoring $u$)
scaled by $s$, tuned in burn-in towards 30\% acceptance.
\item $u_j \mid \beta, \Omega_u$: for each unit, a {{ q }}-variate random-walk Metropolis step
$u_j + s_j L_j \epsilon$, $\epsilon \sim \mathrm{N}(0, I)$, with $L_jL_j' = (\Omega_u^{-1} + \sum_i w_{ij} z_{ij}z_{ij}')^{-1}$
($w$ the expected information about the linear predictor), refreshed every 100 burn-in iterations, and
$s_j$ tuned in burn-in towards {{ "44" if q == 1 else "35" if q == 2 else "30" }}\% acceptance.
\item Scale moves: for each coordinate $c$, $u_{cj} \to a\,u_{cj}$ for every unit and row and column $c$ of
$\Omega_u$ scaled by $a$, $\log a \sim \mathrm{N}(0, s_c^2)$, accepted with the likelihood ratio times $a^{ {{- q + 1 -}} }$
(a Metropolis step along a group of transformations; $s_c$ tuned in burn-in).
\item $\Omega_u \mid u \sim \mathrm{IW}\big(J - {{ q }} - 1,\; \sum_j u_j u_j'\big)$ (flat prior).
\item Recentring: for each variable in both $x$ and $z$, $\beta_a + \delta$ and $u_{aj} - \delta$ for every unit, with
$\delta$ drawn from its normal conditional (the likelihood is unchanged, so this is Gibbs).
{% endif %}
\end{enumerate}
"""

    def inputs(self, ask):
        ask(Variable("y", "Response:", help="The variable to model."))
        ask(L2ID("L2ID", "Level 2 ID:", help="The identifier of level-2 units (e.g. school)."))
        ask_distribution(_defaulting(ask, "D", "Normal"))
        ask_explanatory(ask)
        ask(VariableList("z", "Variables with random coefficients at level 2:",
                         help="cons for a random intercept, plus each variable whose slope "
                              "varies across level-2 units (normally also in x)."))

    def model(self, data, answers):
        missing = [v.name for v in answers["z"] if v.name not in {x.name for x in answers["x"]}]
        if missing:
            warnings.warn(f"2LevelRS: {', '.join(missing)} in z but not in x: their random "
                          "coefficients have mean 0", DataWarning, stacklevel=2)
        p = prepare_two_level(data.frame, answers, self.name, zvars=answers["z"])
        terms, zterms, q = p["terms"], p["zterms"], len(p["zterms"])
        dist, link = answers["D"], link_of(answers)
        omega = [Param(f"omega_u({zterms[a]},{zterms[b]})", "variance" if a == b else "covariance", 2)
                 for a in range(q) for b in range(a, q)]
        context = {"K": p["K"], "J": p["J"], "q": q, "nu": -(q + 1), "psi": 1e-12, "terms": terms,
                   "zterms": zterms, "y": answers["y"], "D": dist, "link": link,
                   "link_enum": LINK_ENUM.get(link, ""), "link_tex": link_tex(link, "ij"),
                   "offset": bool(answers.get("offset"))}
        notes = {k: p[k] for k in ("n", "J", "ids", "sizes", "zterms", "terms", "dropped")}
        deviance = Param("deviance", "deviance", monitored=False)
        if dist == "Normal":
            return ModelSpec(arrays={"y": p["y"], "X": p["X"], "Z": p["Z"], "start": p["start"]},
                             params=p["coefficients"] + omega + [Param("sigma2_e", "variance", 1),
                                                                 deviance],
                             context=context, notes=notes)
        return ModelSpec(arrays={"y": p["y"], "X": p["X"], "Z": p["Z"], "m": p["m"], "off": p["off"],
                                 "start": p["start"]},
                         params=p["coefficients"] + omega + [deviance], context=context, notes=notes)

    requests = staticmethod(residual_requests)

    def outputs(self, fit, results):
        two_level_outputs(fit, results, normal=fit.answers["D"] == "Normal")


def _defaulting(ask, key: str, default):
    """``ask``, with ``default`` for question ``key``: 2LevelRS fitted Normal
    responses only, so invars written then name no distribution."""
    def asking(question):
        if question.key == key:
            question = dataclasses.replace(question, default=default)
        return ask(question)
    return asking
