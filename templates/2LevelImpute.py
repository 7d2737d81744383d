"""2LevelImpute: multiple imputation, a model of interest on every dataset, Rubin's rules.

The super-template of the seed: it asks about the model of interest (MOI)
and the imputation model, then

1. runs ImputeModel (its chains in parallel) for ``numimpute`` datasets;
2. fits the MOI to each dataset (in parallel) with 1LevelMod, 2LevelMod or
   2LevelRS, chosen from MOIlevel, MOIdist and MOIslope;
3. pools the fits with Rubin's rules (statjr_py.pooling.rubin);
4. fits the MOI to the complete cases for comparison.

Complete-data degrees of freedom for Rubin's rules (nu_com): n - k for
coefficients of level-1 variables and for sigma2_e; J - k for coefficients
of level-2 variables (constant within level-2 units, e.g. a school type) and
for level-2 variances, the conservative choice the imputation notes suggest
(n cases, J units, k fixed effects).  Variances get no p-value: a Wald test
of a variance against zero is not valid.
"""
from __future__ import annotations

import dataclasses
import logging

import numpy as np
import pandas as pd

from statjr_py import InputError, Integer, L2ID, Template, Text, Variable, VariableList, YesNo
from statjr_py.codegen import render_string
from statjr_py.datasets import column, level2_index
from statjr_py.diagnostics import summarise
from statjr_py.engine import add_diagnostic_plots, run_job
from statjr_py.pooling import rubin
from statjr_py.registry import get_template
from statjr_py.regression import LINKS
from statjr_py.results import Results
from statjr_py.run import EstOptions, chain_seeds, parallel_map

log = logging.getLogger("statjr_py.templates.2LevelImpute")


class TwoLevelImpute(Template):
    name = "2LevelImpute"
    description = ("Multilevel multiple imputation, a model of interest fitted to every "
                   "imputed dataset, and Rubin's rules (with a complete-case fit).")
    headline = ("ResultsTable:Imputation", "ResultsTable:CompleteCases")

    algorithm = r"""\begin{enumerate}
\item ImputeModel: {{ numimpute }} completed datasets from the joint latent-normal model
(first after {{ impute1st }} iterations, then every {{ imputeevery }}).
\item {{ moi | tex }} fitted to each completed dataset ({{ burnin }} burn-in, {{ iterations }} iterations).
\item Rubin's rules: $\bar Q = \frac1m\sum Q_l$, $T = \bar U + (1 + \frac1m)B$, Barnard--Rubin degrees of freedom.
\item {{ moi | tex }} fitted to the {{ n_cc }} complete cases for comparison.
\end{enumerate}
"""

    def inputs(self, ask):
        two = ask(YesNo("numlevs", "Do either the model of interest (MOI) and/or imputation have two levels?",
                        help="Usually the MOI and the imputation model have the same number of levels; a "
                             "1-level MOI with a 2-level imputation model is possible."))
        if two:
            ask(L2ID("L2ID", "Level 2 ID:", help="The identifier of level-2 units (e.g. school)."))
        moi_two = False
        if two:
            level = ask(Text("MOIlevel", "The next few questions will ask you to specify your MOI. "
                             "In your MOI, do you want to model 1 or 2 levels?",
                             choices=["1 level", "2 levels"]))
            moi_two = level == "2 levels"
        dist = ask(Text("MOIdist", "What distribution would you like to use to model the response "
                        "variable(s) in your MOI?", choices=["Normal", "Binomial", "Poisson"]))
        if dist == "Binomial":
            ask(Text("link", "Specify the link function for the MOI:", choices=LINKS["Binomial"],
                     default="logit"))
            ask(Variable("n", "Denominator (number of trials) for the MOI:", default="cons",
                         help="cons (1) for 0/1 responses."))
        elif dist == "Poisson":
            ask(Variable("offset", "Offset (on the log scale) for the MOI:", optional=True))
        slope = False
        if moi_two:
            slope = ask(YesNo("MOIslope", "In your MOI, do you want to fit random slope/coefficient(s)?",
                              help="If Yes, include the variables whose coefficients vary at level 2 "
                                   "among the responses of the imputation model too."))
            if slope and dist != "Normal":
                raise InputError(f"input 'MOIslope' = 'Yes': random slopes are fitted for Normal "
                                 f"responses only (MOIdist is {dist!r}); answer 'No' or use Normal")
        ask(Variable("y", "In your MOI, what is the response variable?"))
        ask(VariableList("x", "Explanatory variables for MOI:",
                         help="cons for an intercept; name.cat for categorical variables (dummies, "
                              "last category the reference)."))
        if slope:
            ask(VariableList("z", "Variables with random coefficients at level 2 in the MOI:",
                             help="cons for the intercept, plus the variables whose slopes vary."))
        # at least 2 imputations: Rubin's rules need the between-imputation variance
        get_template("ImputeModel").imputation_questions(ask, two, min_imputations=2)
        smc = ask(YesNo("smc", "Impute compatibly with the model of interest (SMC)?", default=False,
                        help="Yes: the MOI is fitted inside the imputation model and missing covariates "
                             "are imputed compatibly with it (its random slopes and category effects); "
                             "the MOI's response then leaves the joint model. Needs a two-level Normal "
                             "MOI and the conditional algorithm. No: the joint model alone, as REALCOM."))
        if smc and (not moi_two or dist != "Normal"):
            raise InputError("input 'smc' = 'Yes': compatible imputation needs a two-level Normal model of "
                             "interest (MOIlevel '2 levels', MOIdist 'Normal'); answer 'No'")
        ask(Integer("burnin", "Length of burnin for MOI:", minimum=0, maximum=10 ** 9, default=500))
        ask(Integer("iterations", "Number of iterations for MOI:", minimum=1, maximum=10 ** 9,
                    default=5000,
                    help="Monitored iterations of each MOI fit (default 5000)."))

    def reserved_names(self):
        """The model of interest's and the imputation model's parameter names."""
        names = []
        for moi in ("1LevelMod", "2LevelMod", "2LevelRS", "ImputeModel"):
            names += get_template(moi).reserved_names()
        return tuple(dict.fromkeys(names))

    # ------------------------------------------------------------------ pieces
    @staticmethod
    def moi(answers) -> tuple[str, dict]:
        """The MOI template and its invars."""
        a = answers
        extra = {k: a.strings[k] for k in ("link", "n", "offset") if a.get(k) is not None}
        if a.get("MOIlevel") != "2 levels":
            return "1LevelMod", {"y": a.strings["y"], "D": a["MOIdist"], **extra, "x": a.strings["x"]}
        if a.get("MOIslope"):
            return "2LevelRS", {"y": a.strings["y"], "L2ID": a.strings["L2ID"], "x": a.strings["x"],
                                "z": a.strings["z"]}
        return "2LevelMod", {"y": a.strings["y"], "L2ID": a.strings["L2ID"], "D": a["MOIdist"], **extra,
                             "x": a.strings["x"]}

    @staticmethod
    def imputation_invars(answers) -> dict:
        """ImputeModel's answers; with SMC the MOI's outcome leaves the joint model."""
        skip = {"MOIlevel", "MOIdist", "MOIslope", "link", "n", "offset", "y", "x", "z",
                "burnin", "iterations", "smc"}
        inv = {k: v for k, v in answers.strings.items() if k not in skip}
        if not answers.get("smc"):
            return inv
        if answers.get("condmarg") is False:
            raise InputError("input 'condmarg' = 'No': compatible imputation (smc) uses the conditional "
                             "algorithm; answer 'Yes'")
        names = [v.name for v in answers["yimp1"]]
        if answers["y"] not in names:
            return inv
        drop = names.index(answers["y"])
        if len(names) == 1:
            raise InputError("input 'yimp1': with smc the MOI's response leaves the imputation model, "
                             "which then has no level-1 response; add the incomplete covariates")
        out = {k: v for k, v in inv.items() if not k.startswith(("bin1_", "ximp1_"))}
        out["yimp1"] = ",".join(n for n in names if n != answers["y"])
        kept = [i for i in range(len(names)) if i != drop]
        for new, old in enumerate(kept):
            out[f"bin1_{new + 1}"] = inv[f"bin1_{old + 1}"]
            out[f"ximp1_{new}"] = inv[f"ximp1_{old}"]
        out.pop(f"ncats{answers['y']}", None)
        return out

    @staticmethod
    def moi_variables(answers) -> list[str]:
        names = [answers["y"]] + [v.name for v in answers["x"]] + [v.name for v in answers.get("z") or []]
        names += [answers[k] for k in ("n", "offset", "L2ID") if answers.get(k)]
        return list(dict.fromkeys(names))

    @staticmethod
    def level2_terms(frame: pd.DataFrame, answers, terms: list[str]) -> set[str]:
        """Fixed-effect terms whose variable is constant within level-2 units."""
        if not answers.get("L2ID"):
            return set()
        unit, _ = level2_index(frame, answers["L2ID"])
        out = set()
        for v in answers["x"]:
            if v.name == "cons":
                continue
            x = column(frame, v.name)
            seen = ~np.isnan(x)
            g = pd.Series(x[seen]).groupby(unit[seen]).nunique()
            if (g <= 1).all():
                out |= {t for t in terms if t == v.name or t.startswith(v.name + "_")}
        return out

    # --------------------------------------------------------------------- run
    def run(self, job):
        answers, opts, frame = job.answers, job.options, job.data.frame
        missing_in_x = [v.name for v in answers["x"] if v.name != "cons"
                        and frame[v.name].isna().any()
                        and v.name not in {r.name for r in (answers.get("yimp1") or [])}
                        | {r.name for r in (answers.get("yimp2") or [])}]
        if missing_in_x:
            raise InputError(f"input 'x': '{missing_in_x[0]}' has missing values but is not a response "
                             "of the imputation model; add it to yimp1 (or yimp2)")
        job.estoptions.setdefault("processes", opts.processes)
        imp_invars = self.imputation_invars(answers)
        imp = get_template("ImputeModel")
        moi_spec = None
        if answers.get("smc"):
            from statjr_py.inputs import Var
            moi_spec = {"y": answers["y"], "x": answers["x"],
                        "z": answers.get("z") or [Var("cons")]}
        imp_results = imp.run(_subjob(job, imp, imp_invars), moi=moi_spec)
        results = Results()

        listing = imp_results["ImputedDatasets"]
        datasets = [imp_results[name] for name in listing.loc[listing["used"], "dataset"]]
        moi_name, moi_invars = self.moi(answers)
        # estoptions seeds live in [0, 2**63): keep the spawned ones there too
        seeds = [s & (2 ** 63 - 1) for s in chain_seeds(opts.seed + 1, len(datasets) + 1)]
        moi_opts = {"burnin": answers["burnin"], "iterations": answers["iterations"], "nchains": 1,
                    "processes": 1, "diagnostics": False}
        fits = parallel_map(run_job, [(moi_name, d, moi_invars, {**moi_opts, "seed": s})
                                      for d, s in zip(datasets, seeds)], job.executor, opts.processes)

        keep = frame.dropna(subset=[c for c in self.moi_variables(answers) if c in frame.columns])
        cc = run_job((moi_name, keep, moi_invars, {**moi_opts, "nchains": opts.nchains,
                                                   "processes": opts.processes, "seed": seeds[-1]}))

        # Rubin's rules over the MOI fits
        tables = [f["ModelResults"].set_index("term") for f in fits]
        terms = list(tables[0].index)
        q = np.array([[t.loc[k, "mean"] for k in terms] for t in tables])
        u = np.array([[t.loc[k, "sd"] ** 2 for k in terms] for t in tables])
        n = len(frame)
        J = frame[answers["L2ID"]].nunique() if answers.get("L2ID") else n
        fixed = [k for k in terms if not _is_variance(k)]
        l2 = self.level2_terms(frame, answers, fixed)
        kfix = len(fixed)
        level2_var = {k for k in terms if k.startswith("omega_u") or k == "sigma2_u"}
        dfc = [(J - kfix) if (k in l2 or k in level2_var) else (n - kfix) for k in terms]
        pooled = rubin(q, u, dfc, terms=terms, test=[not _is_variance(k) for k in terms])
        results.add("ResultsTable:Imputation", pooled, "table")
        ccres = cc["ModelResults"][["term", "mean", "sd", "2.5%", "97.5%"]].rename(
            columns={"mean": "estimate", "sd": "se", "2.5%": "ci_lower", "97.5%": "ci_upper"})
        ccres["n"] = len(keep)
        results.add("ResultsTable:CompleteCases", ccres, "table")

        # The MOI chains of all imputations, treated as multiple chains
        draws = np.stack([f["out"][terms].to_numpy() for f in fits])
        results.add("CombinedResults", summarise(draws, terms), "table")
        if opts.diagnostics:
            add_diagnostic_plots(results, draws, terms,
                                 EstOptions(burnin=answers["burnin"], iterations=draws.shape[1]))
        for name in ("ModelParameters", "ModelResults", "ModelFit", "ResidualsLevel2", "out"):
            if name in cc:
                results.add(f"CompleteCasesModel_{name}", cc[name], cc.kind(name))
        for name in imp_results:
            if name != "script.py":
                results.add(f"Imputation_Model_{name}", imp_results[name], imp_results.kind(name))
        for i, fit in enumerate(fits, 1):
            for name in ("ModelParameters", "ModelResults", "ModelFit", "ResidualsLevel2", "out"):
                if name in fit:
                    results.add(f"Model{i}_{name}", fit[name], fit.kind(name))
        results.add(f"{moi_name}.cpp", fits[0][f"{moi_name}.cpp"], "cpp")
        results.add("equation.tex", fits[0]["equation.tex"], "tex")
        context = {**{k: answers[k] for k in ("numimpute", "impute1st", "imputeevery", "burnin",
                                              "iterations")}, "moi": moi_name, "n_cc": len(keep)}
        results.add("algorithm.tex", render_string(self.algorithm, context), "tex")
        return results


def _is_variance(term: str) -> bool:
    return term.startswith(("sigma2_", "omega_"))


def _subjob(job, template, invars):
    """A Job for another template on the same data, answers validated by it."""
    from statjr_py.engine import Job
    from statjr_py.inputs import resolve

    answers = resolve(template.inputs, invars, list(map(str, job.data.frame.columns)),
                      job.data.frame, template.name)
    options = dataclasses.replace(job.options, diagnostics=False)  # MOI diagnostics only
    return Job(template, job.data, answers, options, dict(job.estoptions), job.executor,
               job.progress)
