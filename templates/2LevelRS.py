"""2LevelRS: random coefficients at level 2 for a Normal response.

    y_ij = x_ij' beta + z_ij' u_j + e_ij,  u_j ~ N(0, Omega_u),  e_ij ~ N(0, sigma2_e)

Every step is Gibbs; beta is drawn with u integrated out, then u, so the
pair is one block.  Priors: flat on beta; Gamma(0.001, 0.001) on
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
figures.
"""
from __future__ import annotations

import logging
import warnings

from statjr_py import L2ID, DataWarning, ModelSpec, Param, Template, Text, Variable, VariableList
from statjr_py.sdk import (ModelOfInterest, ask_explanatory, prepare_two_level, residual_requests,
                           two_level_outputs)

log = logging.getLogger("statjr_py.templates.2LevelRS")


class TwoLevelRS(Template, ModelOfInterest):
    name = "2LevelRS"
    moi_level = 2
    moi_distributions = ("Normal",)
    moi_slopes = True
    reserved = ("omega_u(", "sigma2_e", "deviance")
    description = "Two-level random-coefficients (random slopes) model for a Normal response."

    equation = r"""\begin{aligned}
\text{ {{- y | tex -}} }_{ij} &= {% for t in terms %}\beta_{ {{- loop.index0 -}} }\,\text{ {{- t | tex -}} }_{ij} + {% endfor %}{% for z in zterms %}u_{ {{- loop.index0 -}} j}\,\text{ {{- z | tex -}} }_{ij} + {% endfor %}e_{ij} \\
u_j &\sim \mathrm{N}_{ {{- q -}} }(0, \Omega_u), \quad e_{ij} \sim \mathrm{N}(0, \sigma^2_e), \quad j = 1, \dots, {{ J }} \\
\beta_k &\propto 1, \quad p(\Omega_u) \propto 1, \quad 1/\sigma^2_e \sim \Gamma(0.001, 0.001)
\end{aligned}
"""
    algorithm = r"""\begin{enumerate}
\item $\beta \mid \Omega_u, \sigma^2_e \sim \mathrm{N}\big(A^{-1}b,\; A^{-1}\big)$ with $u$ integrated out: $A = \sum_j X_j'V_j^{-1}X_j$, $b = \sum_j X_j'V_j^{-1}y_j$, $V_j = \sigma^2_e I + Z_j\Omega_u Z_j'$ (so $(\beta, u)$ is drawn as one block).
\item $u_j \mid \beta, \Omega_u, \sigma^2_e \sim \mathrm{N}(P_j^{-1} \sigma^{-2}_e Z_j'(y_j - X_j\beta),\; P_j^{-1})$, $P_j = \Omega_u^{-1} + \sigma^{-2}_e Z_j'Z_j$.
\item $\Omega_u \mid u \sim \mathrm{IW}\big(J - {{ q }} - 1,\; \sum_j u_j u_j'\big)$ (flat prior).
\item $1/\sigma^2_e \sim \Gamma(0.001 + N/2,\; 0.001 + \tfrac12\sum_{ij} e_{ij}^2)$.
\end{enumerate}
"""

    def inputs(self, ask):
        ask(Variable("y", "Response:", help="The variable to model."))
        ask(L2ID("L2ID", "Level 2 ID:", help="The identifier of level-2 units (e.g. school)."))
        ask(Text("D", "Specify the distribution:", choices=["Normal"], default="Normal",
                 help="2LevelRS fits Normal responses."))
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
        omega = [Param(f"omega_u({zterms[a]},{zterms[b]})", "variance" if a == b else "covariance", 2)
                 for a in range(q) for b in range(a, q)]
        context = {"K": p["K"], "J": p["J"], "q": q, "nu": -(q + 1), "psi": 1e-12, "terms": terms,
                   "zterms": zterms, "y": answers["y"]}
        notes = {k: p[k] for k in ("n", "J", "ids", "sizes", "zterms", "terms", "dropped")}
        return ModelSpec(arrays={"y": p["y"], "X": p["X"], "Z": p["Z"], "start": p["start"]},
                         params=p["coefficients"] + omega + [Param("sigma2_e", "variance", 1),
                                                             Param("deviance", "deviance",
                                                                   monitored=False)],
                         context=context, notes=notes)

    requests = staticmethod(residual_requests)

    def outputs(self, fit, results):
        two_level_outputs(fit, results, normal=True)
