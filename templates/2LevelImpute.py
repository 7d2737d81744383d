"""2LevelImpute: multiple imputation, a model of interest on every dataset, Rubin's rules.

The super-template of the seed: it asks about the model of interest (MOI)
and the imputation model, then

1. runs ImputeModel (its chains in parallel) for ``numimpute`` datasets;
2. fits the MOI to each dataset (in parallel) with 1LevelMod, 2LevelMod or
   2LevelRS, chosen from MOIlevel, MOIdist and MOIslope;
3. pools the fits with Rubin's rules (statjr_py.pooling.rubin) and tests sets
   of terms jointly (D1, D2 and, for Normal 1-level and random-intercept
   MOIs, D3 from ML refits: ResultsTable:Tests);
4. fits the MOI to the complete cases for comparison.

Complete-data degrees of freedom for Rubin's rules (nu_com): n - k for
coefficients of level-1 variables and for sigma2_e; J - k for coefficients
of level-2 variables (constant within level-2 units, e.g. a school type) and
for level-2 variances, the conservative choice the imputation notes suggest
(n cases, J units, k fixed effects).  Variances get no p-value: a Wald test
of a variance against zero is not valid.
"""
from __future__ import annotations

import functools
import importlib
import logging
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

from statjr_py import (L2ID, SVG, DataWarning, InputError, Integer, Results, Template, Text, Var,
                       YesNo, get_template)
from statjr_py.sdk import (add_diagnostic_plots, choose_model, d1, d2, d3_test, column_levels, design,
                           level2_index, models_of_interest, render_string, rubin, summarise,
                           warn_convergence)
from statjr_py.sdk import (ImputedVariable, check_memory, imputation_diagnostics, imputation_svg,
                           missing_by_unit)

log = logging.getLogger("statjr_py.templates.2LevelImpute")


#: Modules only the steps after the imputation model use: Rubin's rules' t and F
#: tails (scipy.special, 0.2-0.25 s to import).  They are imported on a thread
#: while the imputation chains run, when the main thread only waits, instead of
#: after them, when the user does.
LATER_MODULES = ("scipy.special",)


def import_later_modules() -> None:
    """Import :data:`LATER_MODULES` now; a failure is left for their real import to report."""
    for name in LATER_MODULES:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - the real import, later, raises it with its context
            log.debug("could not import %s ahead of time", name, exc_info=True)


#: 2LevelImpute's own questions, asked of neither the MOI nor the imputation model.
OWN_KEYS = {"MOIlevel", "MOIdist", "MOIslope", "smc", "burnin", "iterations", "jointtests",
            "imputationplots"}


class TwoLevelImpute(Template):
    name = "2LevelImpute"
    description = ("Multilevel multiple imputation, a model of interest fitted to every "
                   "imputed dataset, and Rubin's rules (with a complete-case fit).")
    headline = ("ResultsTable:Imputation", "ResultsTable:Tests", "ResultsTable:CompleteCases")

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
        moi, dist = self.ask_model_of_interest(ask, two)
        # at least 2 imputations: Rubin's rules need the between-imputation variance
        get_template("ImputeModel").imputation_questions(ask, two, min_imputations=2)
        smc = ask(YesNo("smc", "Impute compatibly with the model of interest (SMC)?", default=False,
                        help="Yes: the MOI is fitted inside the imputation model and missing covariates "
                             "are imputed compatibly with it (its random slopes and category effects); "
                             "the MOI's response then leaves the joint model. Needs a two-level Normal "
                             "MOI and the conditional algorithm. No: the joint model alone, as REALCOM."))
        if smc and (moi.moi_level != 2 or dist != "Normal"):
            raise InputError("input 'smc' = 'Yes': compatible imputation needs a two-level Normal model of "
                             "interest (MOIlevel '2 levels', MOIdist 'Normal'); answer 'No'")
        ask(Integer("burnin", "Length of burnin for MOI:", minimum=0, maximum=10 ** 9, default=500))
        ask(Integer("iterations", "Number of iterations for MOI:", minimum=1, maximum=10 ** 9,
                    default=5000,
                    help="Monitored iterations of each MOI fit (default 5000)."))
        ask(YesNo("imputationplots", "Draw the imputation model's six-panel plots?", default=False,
                  help="Yes: one diagnostic plot per imputation-model parameter "
                       "(Imputation_Model_<parameter>.svg), drawn when first viewed or saved. "
                       "Its R-hat, ESS and autocorrelations are in Imputation_Model_ModelResults "
                       "either way."))
        ask(Text("jointtests", "Sets of MOI terms to test jointly (optional):", optional=True,
                 help="Each categorical variable's dummies are tested together anyway. Name other "
                      "sets as terms joined by '+', sets separated by ';', e.g. "
                      "'standlrtmiss+girlmiss; schgendmiss_0+schgendmiss_1'."))

    @staticmethod
    def ask_model_of_interest(ask, two_level: bool):
        """MOIlevel, MOIdist and MOIslope from the registered models of interest,
        then the chosen model's own questions; returns (model, distribution)."""
        mois = models_of_interest()
        level = 1
        if two_level:
            offered = sorted({m.moi_level for m in mois})
            names = {1: "1 level", 2: "2 levels"}
            level = 2 if ask(Text("MOIlevel", "The next few questions will ask you to specify your "
                                  "MOI. In your MOI, do you want to model 1 or 2 levels?",
                                  choices=[names[v] for v in offered])) == "2 levels" else 1
        at_level = [m for m in mois if m.moi_level == level]
        dists = list(dict.fromkeys(d for m in at_level for d in m.moi_distributions))
        dist = ask(Text("MOIdist", "What distribution would you like to use to model the response "
                        "variable(s) in your MOI?", choices=dists))
        slope = False
        if level == 2:
            slope = ask(YesNo("MOIslope", "In your MOI, do you want to fit random slope/coefficient(s)?",
                              help="If Yes, include the variables whose coefficients vary at level 2 "
                                   "among the responses of the imputation model too."))
        moi = choose_model(level, dist, slope)
        if moi is None:
            fits = [m.name for m in at_level if dist in m.moi_distributions]
            raise InputError(f"input 'MOIslope' = {'Yes' if slope else 'No'}: no model of interest "
                             f"fits {dist} responses {'with' if slope else 'without'} random slopes "
                             f"(those for {dist}: {', '.join(fits) or 'none'}); answer "
                             f"{'No' if slope else 'Yes'}")
        moi.moi_questions(ask, dist)
        return moi, dist

    def reserved_names(self):
        """Every model of interest's and the imputation model's parameter names."""
        names = []
        for moi in models_of_interest() + [get_template("ImputeModel")]:
            names += moi.reserved_names()
        return tuple(dict.fromkeys(names))

    # ------------------------------------------------------------------ pieces
    @staticmethod
    def moi(answers) -> tuple[str, dict]:
        """The model of interest's template name and its own invars."""
        level = 2 if answers.get("MOIlevel") == "2 levels" else 1
        moi = choose_model(level, answers["MOIdist"], bool(answers.get("MOIslope")))
        return moi.name, moi.moi_invars(answers, answers["MOIdist"], answers.get("L2ID"))

    @staticmethod
    def moi_keys(answers) -> list[str]:
        """The keys the chosen model of interest asked (its own questions)."""
        level = 2 if answers.get("MOIlevel") == "2 levels" else 1
        moi = choose_model(level, answers["MOIdist"], bool(answers.get("MOIslope")))
        return moi.moi_keys(answers, answers["MOIdist"])

    def imputation_invars(self, answers) -> dict:
        """ImputeModel's answers; with SMC the MOI's outcome leaves the joint model."""
        skip = set(self.moi_keys(answers)) | OWN_KEYS
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

    def moi_variables(self, answers) -> list[str]:
        """The data variables the model of interest uses (its complete cases drop on them)."""
        names = []
        for k in self.moi_keys(answers) + ["L2ID"]:
            q, value = answers.questions.get(k), answers.get(k)
            if q is None or value is None or q.kind not in ("variable", "varlist", "l2id"):
                continue
            names += [v.name for v in value] if isinstance(value, list) else [value]
        return list(dict.fromkeys(names))

    @staticmethod
    def level2_terms(frame: pd.DataFrame, answers) -> set[str]:
        """Fixed-effect terms whose column is constant within level-2 units."""
        if not answers.get("L2ID"):
            return set()
        unit, _ = level2_index(frame, answers["L2ID"])
        X, terms = design(frame, answers["x"])
        return {t for t, level in zip(terms, column_levels(X, unit)) if level == 2}

    @staticmethod
    def add_imputation_diagnostics(results, frame, answers, datasets, plots: bool) -> None:
        """Imputation_Diagnostics (observed against imputed, variance components),
        Imputation_MissingByUnit and, with plots, one SVG per imputed variable."""
        variables = [ImputedVariable(v.name, answers[f"bin{level}_{i}"], level)
                     for level in (1, 2) for i, v in enumerate(answers.get(f"yimp{level}") or [], 1)
                     if frame[v.name].isna().any()]
        l2id = answers.get("L2ID")
        unit = level2_index(frame, l2id)[0] if l2id else None
        results.add("Imputation_Diagnostics",
                    imputation_diagnostics(frame, datasets, variables, unit), "table")
        if l2id:
            results.add("Imputation_MissingByUnit",
                        missing_by_unit(frame, [v.name for v in variables], l2id), "table")
        if not plots:
            return
        for var in variables:
            rows = np.arange(len(frame)) if var.level == 1 or unit is None \
                else np.unique(unit, return_index=True)[1]
            x = frame[var.name].to_numpy(dtype=float)[rows]
            miss = np.isnan(x)
            imputed = np.concatenate([d[var.name].to_numpy(dtype=float)[rows][miss] for d in datasets])
            results.add(f"Imputation_Diagnostics_{var.name}.svg",
                        SVG(functools.partial(imputation_svg, var, x[~miss], imputed)), "svg")

    @staticmethod
    def test_sets(frame, answers) -> list[tuple[str, list[str]]]:
        """(name, terms): each .cat variable's dummies, then the user's ``jointtests``."""
        sets = [(f"{v.name}.cat", design(frame, [v])[1]) for v in answers["x"] if v.cat]
        x_terms = design(frame, answers["x"])[1]
        for text in (answers.get("jointtests") or "").split(";"):
            names = [t.strip() for t in text.split("+") if t.strip()]
            if not names:
                continue
            unknown = [t for t in names if t not in x_terms]
            if unknown:
                raise InputError(f"input 'jointtests': {unknown[0]!r} is not a term of the model of "
                                 f"interest; its terms are {', '.join(x_terms)}")
            sets.append(("+".join(names), names))
        return sets

    def joint_tests(self, frame, answers, moi, fits, dfc: dict, datasets=()) -> pd.DataFrame:
        """ResultsTable:Tests: each set of terms tested all zero by D1, D2 and, where the
        model of interest has a maximum-likelihood fit, D3.

        D1 uses the complete-data df of the set's terms (the smallest of them,
        as for a level-2 variable J - k); see statjr_py.pooling.  D1 and D2
        pool the MCMC fits' posterior means and covariances.  D3 (Meng & Rubin
        1992) refits the model by ML to every imputed dataset, with and without
        the set's terms (``moi.ml_fit``: Normal 1- and 2-level random-intercept
        models), as mitml's testModels does with lm and lmer(REML = FALSE).
        Models without one (random slopes, Binomial, Poisson) have no D3 rows.
        """
        dist = answers["MOIdist"]
        try:
            full = [moi.ml_fit(d, answers, dist) for d in datasets]
        except InputError as exc:  # e.g. one row per unit: the ML fit D3 needs does not exist
            warnings.warn(DataWarning(f"no D3 tests: {exc}"), stacklevel=2)
            full = []
        has_ml = bool(full) and all(f is not None for f in full)
        if not has_ml:
            log.info("%s has no maximum-likelihood fit for %s responses: no D3 tests", moi.name, dist)
        rows = []
        for name, terms in self.test_sets(frame, answers):
            est, cov = [], []
            for f in fits:
                names, mean, c = moi.estimates(f)
                idx = [names.index(t) for t in terms]
                est.append(mean[idx])
                cov.append(c[np.ix_(idx, idx)])
            for method, res in (("D1", d1(est, cov, min(dfc[t] for t in terms))),
                                ("D2", d2(est, cov))):
                rows.append({"test": name, "terms": "+".join(terms), "method": method, **res})
            if has_ml:
                try:
                    null = [moi.ml_fit(d, answers, dist, drop=terms) for d in datasets]
                except InputError as exc:
                    warnings.warn(DataWarning(f"no D3 test of {name}: {exc}"), stacklevel=2)
                    continue
                rows.append({"test": name, "terms": "+".join(terms), "method": "D3",
                             **d3_test(full, null)})
        return pd.DataFrame(rows, columns=["test", "terms", "method", "F", "df1", "df2", "p", "riv"])

    # --------------------------------------------------------------------- run
    def run(self, ctx):
        answers, opts, frame = ctx.answers, ctx.options, ctx.data.frame
        missing_in_x = [v.name for v in answers["x"] if v.name != "cons"
                        and frame[v.name].isna().any()
                        and v.name not in {r.name for r in (answers.get("yimp1") or [])}
                        | {r.name for r in (answers.get("yimp2") or [])}]
        if missing_in_x:
            raise InputError(f"input 'x': '{missing_in_x[0]}' has missing values but is not a response "
                             "of the imputation model; add it to yimp1 (or yimp2)")
        responses = {v.name: answers[f"bin{level}_{i}"] for level in (1, 2)
                     for i, v in enumerate(answers.get(f"yimp{level}") or [], 1)}
        for v in answers["x"]:
            if v.cat and responses.get(v.name) == "Normal":
                raise InputError(f"input 'x': '{v.name}.cat' is imputed as a Normal response, so its "
                                 "imputed values are not categories; drop .cat, or impute it as "
                                 "Ordered or Unordered")
        self.test_sets(frame, answers)  # a misnamed joint test fails now, not after the fits
        given = [k for k in ("burnin", "iterations", "thinning") if k in ctx.estoptions]
        if given:
            raise InputError(f"estoptions {given[0]!r} = {ctx.estoptions[given[0]]!r}: 2LevelImpute "
                             "takes the MOI's burn-in and iterations as its own answers 'burnin' and "
                             "'iterations' (the imputation model's as 'impute1st' and "
                             "'imputeevery'); move it to invars")
        imp = get_template("ImputeModel")
        moi_spec = None
        if answers.get("smc"):
            moi_spec = {"y": answers["y"], "x": answers["x"],
                        "z": answers.get("z") or [Var("cons")]}
        imp_ctx = ctx.subcontext(imp, self.imputation_invars(answers),
                                 diagnostics=opts.diagnostics and answers["imputationplots"])
        moi_name, moi_invars = self.moi(answers)
        M, b, n_it = answers["numimpute"], answers["burnin"], answers["iterations"]
        imp_chains = min(M, opts.nchains)
        per_chain = -(-M // imp_chains)
        ctx.report("imputation and complete cases",
                   plan=imp_chains * (answers["impute1st"] + (per_chain - 1) * answers["imputeevery"])
                   + (M + opts.nchains) * (b + n_it))
        # each fit is checked below, all together, not one by one
        moi_opts = {"burnin": b, "iterations": n_it, "nchains": 1, "processes": 1,
                    "diagnostics": False, "check_convergence": False}
        keep = frame.dropna(subset=[c for c in self.moi_variables(answers) if c in frame.columns])
        cc_opts = {**moi_opts, "nchains": opts.nchains, "processes": opts.processes,
                   "check_convergence": opts.check_convergence}
        # The complete-case fit needs no imputation: it runs beside it, and so compiles the
        # MOI's sampler (which the fits below reuse) while the imputation model compiles.
        terms = len(design(frame, answers["x"])[1]) + 4
        check_memory(8 * 3 * (M + opts.nchains) * n_it * terms,
                     f"2LevelImpute: {M} fits of the model of interest storing {n_it} draws of about "
                     f"{terms} parameters each", "lower 'iterations' or numimpute")
        cc_seed = ctx.spawn_option_seeds(1)
        imp_spec = imp.model(imp_ctx.data, imp_ctx.answers, moi_spec)  # its data checked first
        threading.Thread(target=import_later_modules, name="statjr-imports", daemon=True).start()
        with ThreadPoolExecutor(1) as beside:
            cc_future = beside.submit(ctx.fit, moi_name, [keep], moi_invars, cc_opts, cc_seed)
            imp_results = imp.run(imp_ctx, moi=moi_spec, spec=imp_spec)
            listing = imp_results["ImputedDatasets"]
            datasets = [imp_results[name] for name in listing.loc[listing["used"], "dataset"]]
            ctx.report("model of interest on each imputed dataset")
            fits = ctx.fit(moi_name, datasets, moi_invars, moi_opts)
            cc = cc_future.result()[0]
        results = Results()

        # Rubin's rules over the MOI fits, the complete-data df from each parameter's kind and level
        params = fits[0].params
        for i, f in enumerate(fits[1:], 2):
            if [p.name for p in f.params] != [p.name for p in params]:
                raise InputError(f"the model of interest has other terms on imputed dataset {i} "
                                 "than on dataset 1 (a .cat variable whose imputed categories "
                                 "differ); its estimates cannot be pooled: check ncats and the "
                                 "categories observed")
        terms = [p.name for p in params]
        tables = [f["ModelResults"].set_index("term") for f in fits]
        q = np.array([[t.loc[k, "mean"] for k in terms] for t in tables])
        u = np.array([[t.loc[k, "sd"] ** 2 for k in terms] for t in tables])
        n = len(frame)
        J = frame[answers["L2ID"]].nunique() if answers.get("L2ID") else n
        kfix = sum(p.kind == "coefficient" for p in params)
        level2 = self.level2_terms(frame, answers)
        dfc = [(J - kfix) if (p.level == 2 or p.name in level2) else (n - kfix) for p in params]
        pooled = rubin(q, u, dfc, terms=terms, test=[p.kind == "coefficient" for p in params])
        pooled.insert(1, "kind", [p.kind for p in params])
        pooled["m"] = len(fits)
        pooled["df_method"] = "Barnard-Rubin (1999)"
        results.add("ResultsTable:Imputation", pooled, "table")
        results.add("ResultsTable:Tests", self.joint_tests(
            frame, answers, choose_model(2 if answers.get("MOIlevel") == "2 levels" else 1,
                                         answers["MOIdist"], bool(answers.get("MOIslope"))),
            fits, dict(zip(terms, dfc)), datasets), "table")
        ccres = cc["ModelResults"][["term", "kind", "mean", "sd", "2.5%", "97.5%"]].rename(
            columns={"mean": "estimate", "sd": "se", "2.5%": "ci_lower", "97.5%": "ci_upper"})
        ccres["n"] = len(keep)
        results.add("ResultsTable:CompleteCases", ccres, "table")

        self.add_imputation_diagnostics(results, frame, answers, datasets, opts.diagnostics)

        # The MOI chains of all imputations, treated as multiple chains
        draws = np.stack([f["out"][terms].to_numpy() for f in fits])
        results.add("CombinedResults", summarise(draws, params), "table")
        if opts.check_convergence:
            # each fit against its own posterior (split R-hat of its chain, its ESS); across
            # imputations the chains differ by design, so CombinedResults' R-hat is no test
            each = pd.concat([f["ModelResults"].assign(term=f["ModelResults"]["term"]
                                                       + f" (imputation {i})")
                              for i, f in enumerate(fits, 1)], ignore_index=True)
            warn_convergence(each, f"{moi_name} fits to the {len(fits)} imputed datasets",
                             "raise the MOI's 'burnin' and 'iterations' answers", opts.rhat_max,
                             opts.ess_min, stacklevel=2)
        if opts.diagnostics:
            first = fits[0]["out"]["iteration"].iloc[0]
            add_diagnostic_plots(results, draws, terms, int(first), 1)
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
