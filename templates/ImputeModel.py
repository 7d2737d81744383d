"""ImputeModel: multilevel multiple imputation by a joint latent-normal model.

REALCOM-IMPUTE's model (Goldstein, Carpenter, Kenward & Levin 2009,
Statistical Modelling 9(3); Carpenter & Kenward 2013, *Multiple Imputation
and its Application*, ch. 9): every variable with missing values is a
response; Binary, Ordered and Unordered ones through latent normals; level-1
and level-2 responses correlated through level 2.  The sampler is the shared
kernel cpp/statjr/impute.hpp; docs/imputation.md gives the algorithm.

Chains: min(numimpute, estoptions ``nchains``).  Each runs ``impute1st``
iterations (Metropolis proposals tuned in the first half), then takes a
completed dataset, then another every ``imputeevery`` iterations until
``numimpute`` are in hand, used in the order chain0_iter1000,
chain1_iter1000, ..., chain0_iter1050, ...  Each chain's seed is spawned from
the run's seed (numpy SeedSequence), so ``processes`` and the executor decide
only how many chains run at once.
"""
from __future__ import annotations

import logging
import math
import warnings

import numpy as np
import pandas as pd

from statjr_py import (L2ID, DataWarning, InputError, Integer, ModelSpec, Param, Template, Text,
                       VariableList, YesNo)
from statjr_py.sdk import (Fetch, Schedule, autocorrelation, check_memory, column, design,
                           level2_index, sort_by_unit)

log = logging.getLogger("statjr_py.templates.ImputeModel")

TYPES = ["Normal", "Binary", "Ordered", "Unordered"]
#: Sweeps of the joint model alone before the model of interest joins (SMC):
#: missing categories then start from plausible draws (docs/validation.md).
SMC_WARMUP = 100
TYPE_CODE = {t: i for i, t in enumerate(TYPES)}
#: Step 6 of the sweep, the moves on each categorical level-1 coordinate's
#: random-effect column (parameter expansion; docs/imputation.md).  False gives the older
#: sampler, draw for draw: bench/imputation_mixing.py sets it to compare.
PARAMETER_EXPANSION = True
#: Bounds on the counts asked: beyond them a run is a typo, not an analysis
#: (1000 imputations is ten times what any guidance asks for; an Unordered
#: variable with more than 50 categories has too few cases per category).
MAX_IMPUTATIONS, MAX_CATEGORIES, MAX_ITERATIONS = 1000, 50, 10 ** 9


def imputation_questions(ask, two_level: bool, min_imputations: int = 1) -> None:
    """ImputeModel's questions after numlevs/L2ID, in the seed's order and keys.

    2LevelImpute asks the same questions after its MOI questions, with
    ``min_imputations`` 2: Rubin's rules need a between-imputation variance.
    """
    y1 = ask(VariableList("yimp1", "What responses are at level 1?", allow_cat=False,
                          help="Every level-1 variable with missing values, plus complete ones you "
                               "want modelled jointly (responses of the MOI, auxiliary variables)."))
    for i, v in enumerate(y1, 1):
        _ask_type(ask, f"bin1_{i}", v.name)
    for i, v in enumerate(y1):
        ask(VariableList(f"ximp1_{i}", f"Explanatory variables for {v.name} in imputation model:",
                         help="Fully observed predictors (cons for an intercept; name.cat for "
                              "dummies). A variable with missing values must be a response instead.",
                         check=_fully_observed(f"ximp1_{i}", {r.name for r in y1})))
    if two_level:
        if ask(YesNo("want2", "Are there any responses at level 2 for imputation model?:",
                     help="Variables measured on level-2 units (e.g. school type).")):
            y2 = ask(VariableList("yimp2", "Responses at level 2 for imputation model:", allow_cat=False,
                                  help="The first observed value in each unit is the unit's value."))
            both = sorted({v.name for v in y1} & {v.name for v in y2})
            if both:
                raise InputError(f"input 'yimp2': '{both[0]}' is already a level-1 response (yimp1); "
                                 "a variable is a response at one level only, so remove it from one list")
            types = [_ask_type(ask, f"bin2_{i}", v.name) for i, v in enumerate(y2, 1)]
            for j, (v, (t, p)) in enumerate(zip(y2, types)):
                if t == "Unordered":
                    for k in range(p - 1):
                        ask(VariableList(f"ximp2_{j}_{k}", f"Explanatory variables for category {k} at "
                                         "level 2 for imputation model:",
                                         help="Level-2 predictors only (constant within units)."))
                else:
                    ask(VariableList(f"ximp2_{j}", f"Explanatory variables for {v.name} at level 2 "
                                     "for imputation model:",
                                     help="Level-2 predictors only (constant within units)."))
        ask(YesNo("condmarg", "Use conditional marginal algorithm?",
                  help="Yes: the conditional algorithm, drawing level-1 latents given the level-2 "
                       "random effects (faster). No: the marginal variant, drawing them with the "
                       "random effects integrated out. Both target the same posterior."))
    ask(Integer("numimpute", "Number of imputed data sets:", minimum=min_imputations,
                maximum=MAX_IMPUTATIONS,
                help="How many completed datasets to produce (5 to 20 is usual)."))
    ask(Integer("impute1st", "Number of iterations before first imputation:", minimum=1,
                maximum=MAX_ITERATIONS,
                help="Burn-in included: the first dataset is taken at this iteration."))
    ask(Integer("imputeevery", "Number of iterations between subsequent imputations:", minimum=1,
                maximum=MAX_ITERATIONS,
                help="Spacing between datasets from one chain, for approximate independence."))


def _ask_type(ask, key: str, name: str) -> tuple[str, int]:
    t = ask(Text(key, f"Response Type for response {name}:", choices=TYPES,
                 help="Normal (continuous), Binary (0/1), Ordered or Unordered categories. "
                      "Ordered uses one latent variable, so it assumes the categories relate to "
                      "everything else monotonically; if that is in doubt, choose Unordered "
                      "(or smc: Yes in 2LevelImpute)."))
    p = 2 if t == "Binary" else 0
    if t in ("Ordered", "Unordered"):
        p = ask(Integer(f"ncats{name}", f"Number of categories for {name}:", minimum=2,
                        maximum=MAX_CATEGORIES, check=_codes_fit(name, t),
                        help="Categories must be coded 0, 1, ..., p-1 in the data."))
    return t, p


def covariance_masks(fixed_resps, q: int, offset: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Which elements of a q x q covariance matrix are free, and the fixed ones' values.

    The one statement of the model's constraints: the names of the recorded
    parameters and the C++ sampler (through ``ModelSpec.arrays``) both read
    these masks, so they cannot disagree.  A categorical response's latent
    coordinates have variance 1 (a probit's scale is not identified), and the
    p - 1 coordinates of one Unordered response have correlation 1/2 among
    themselves, the covariance that independent utilities give; left free it
    is barely identified (docs/imputation.md, Departure 1).

    Parameters
    ----------
    fixed_resps : list of Response
        The responses whose latent coordinates are constrained in this matrix:
        the level-1 ones for Omega_e, the level-2 ones for Omega_u.
    q : int
        The matrix's order.
    offset : int
        Index of the responses' first coordinate in the matrix (Omega_u puts
        the level-1 coordinates first).

    Returns
    -------
    free : ndarray of int32, (q, q)
        1 where the element is a parameter, 0 where it is fixed; symmetric.
    value : ndarray of float64, (q, q)
        The fixed elements' values, 0 where free.
    """
    free = np.ones((q, q), dtype=np.int32)
    value = np.zeros((q, q))
    for r in fixed_resps:
        if r.type_name == "Normal":
            continue
        idx = [offset + r.coord + m for m in range(len(r.coords))]
        for a in idx:
            free[a, a], value[a, a] = 0, 1.0
            if r.type_name == "Unordered":
                for b in idx:
                    if b != a:
                        free[a, b], value[a, b] = 0, 0.5
    return free, value


class Response:
    """One response of the imputation model and its latent coordinates."""

    def __init__(self, name: str, type_name: str, ncat: int, col: int, coord: int):
        self.name, self.type_name, self.ncat, self.col, self.coord = name, type_name, ncat, col, coord
        self.type = TYPE_CODE[type_name]

    @property
    def coords(self) -> list[str]:
        if self.type_name == "Unordered":
            return [f"{self.name}_{k}" for k in range(self.ncat - 1)]
        return [self.name]


def _responses(answers, level: int) -> list[Response]:
    key = f"yimp{level}"
    out, coord = [], 0
    for i, v in enumerate(answers.get(key) or []):
        t = answers[f"bin{level}_{i + 1}"]
        p = answers.get(f"ncats{v.name}") or (2 if t == "Binary" else 0)
        out.append(Response(v.name, t, p, i, coord))
        coord += len(out[-1].coords)
    return out


def _fully_observed(key: str, responses: set[str]):
    """A check for an explanatory-variable question: no missing values (a response
    listed here gets its own message from the model)."""
    def check(variables, frame) -> None:
        for v in variables:
            if v.name not in responses and v.name in frame.columns and frame[v.name].isna().any():
                raise InputError(f"input '{key}': explanatory variable '{v.name}' has missing "
                                 "values; declare it as a response of the imputation model instead")
    return check


def _codes_fit(name: str, type_name: str):
    """A check for a category count: the data's codes are 0, ..., p-1, each observed."""
    def check(p, frame) -> None:
        if name in frame.columns:
            values = pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float)
            _check_codes(Response(name, type_name, p, 0, 0), values, key=f"ncats{name}")
    return check


def _check_codes(r: Response, values: np.ndarray, key: str | None = None) -> None:
    seen = np.unique(values[~np.isnan(values)])
    if r.type_name == "Normal":
        return
    allowed = np.arange(r.ncat)
    bad = seen[~np.isin(seen, allowed)]
    if bad.size:
        codes = ", ".join(f"{c:g}" for c in seen[:12])
        where = f"input '{key}' = {r.ncat}: " if key else ""
        if r.type_name == "Binary":
            raise InputError(f"{where}response '{r.name}' is Binary but has values {codes}; code it 0/1")
        raise InputError(f"{where}response '{r.name}' ({r.type_name}, {r.ncat} categories) has codes "
                         f"{codes}; code its categories 0, 1, ..., {r.ncat - 1}")
    never = np.setdiff1d(allowed, seen)
    if never.size:
        raise InputError(f"{f'input {key!r} = {r.ncat}: ' if key else ''}response '{r.name}' "
                         f"({r.type_name}, {r.ncat} categories) is never observed "
                         f"in category {int(never[0])}: nothing in the data can tell the model about "
                         f"it, so imputations would differ in their categories; recode the observed "
                         f"categories as 0, ..., {seen.size - 1} and give {seen.size} categories")


def _explanatory(frame, variables, key: str, responses: set[str]) -> tuple[np.ndarray, list[str]]:
    for v in variables:
        if v.name in responses:
            raise InputError(f"input '{key}': '{v.name}' is a response of the imputation model; "
                             "a variable cannot also explain the others, remove it from this list")
    X, terms = design(frame, variables)
    if np.isnan(X).any():
        bad = [v.name for v in variables if np.isnan(column(frame, v.name)).any()]
        raise InputError(f"input '{key}': explanatory variable '{bad[0]}' has missing values; "
                         "declare it as a response of the imputation model instead")
    return X, terms


def _per_unit(frame: pd.DataFrame, unit: np.ndarray, J: int, name: str) -> np.ndarray:
    """A level-2 variable as one value per unit: the first observed one."""
    x = column(frame, name)
    out = np.full(J, np.nan)
    seen = ~np.isnan(x)
    order = np.flatnonzero(seen)
    first = {}
    for i in order:
        first.setdefault(unit[i], x[i])
    for j, v in first.items():
        out[j] = v
    varies = seen & (x != out[unit])
    if varies.any():
        warnings.warn(f"level-2 variable '{name}' is not constant within level-2 units (e.g. row "
                      f"{int(np.argmax(varies)) + 1}); the first observed value in each unit is used",
                      DataWarning, stacklevel=2)
    return out


class ImputeModel(Template):
    name = "ImputeModel"
    reserved = ("beta(", "gamma(", "omega_e(", "omega_u(", "threshold(", "MOI:")
    convergence_fix = ("run the imputation model longer: raise impute1st (its burn-in) and "
                       "imputeevery (the spacing of the datasets)")
    description = "Multilevel multiple imputation by a joint latent-normal model (REALCOM-IMPUTE)."

    equation = r"""\begin{aligned}
\mathbf{z}_{ij} &= \left({% for c in coords1 %}z^{\text{ {{- c | tex -}} }}_{ij}{% if not loop.last %}, {% endif %}{% endfor %}\right)' = X_{ij}\beta {% if two_level %}+ \mathbf{u}_j {% endif %}+ \mathbf{e}_{ij}, \quad \mathbf{e}_{ij} \sim \mathrm{N}_{ {{- coords1 | length -}} }(0, \Omega_e) \\
{% if coords2 %}\mathbf{w}_j &= \left({% for c in coords2 %}w^{\text{ {{- c | tex -}} }}_j{% if not loop.last %}, {% endif %}{% endfor %}\right)' = X_{2j}\gamma + \mathbf{v}_j \\
{% endif %}{% if two_level %}(\mathbf{u}_j{% if coords2 %}, \mathbf{v}_j{% endif %}) &\sim \mathrm{N}(0, \Omega_u), \quad j = 1, \dots, {{ J }} \\
{% endif %}
{% for r in r1 + r2 %}{% if r.type_name == "Binary" %}\text{ {{- r.name | tex -}} } &= 1 \iff z > 0 \text{ (probit, unit variance)} \\
{% elif r.type_name == "Ordered" %}\text{ {{- r.name | tex -}} } &= c \iff \alpha_{c} < z \le \alpha_{c+1},\ \alpha_1 = 0 \text{ (unit variance)} \\
{% elif r.type_name == "Unordered" %}\text{ {{- r.name | tex -}} } &= c < {{ r.ncat - 1 }} \iff z_c = \max_m z_m > 0;\ = {{ r.ncat - 1 }} \iff \max_m z_m < 0 \text{ (unit variances)} \\
{% endif %}{% endfor %}
\beta, \gamma, \Omega_e, \Omega_u &\propto 1 \text{ on their free elements (docs/imputation.md)}
\end{aligned}
"""
    algorithm = r"""One iteration ({{ "conditional" if conditional else "marginal" }} algorithm):
\begin{enumerate}
\item Level-1 latents and missing values, one coordinate at a time from its conditional normal given the
others{% if two_level and not conditional %}, with $\mathbf{u}_j$ integrated out (given the unit's other rows){% endif %}, truncated as the observed category requires.
\item $\beta \sim \mathrm{N}(A^{-1}b, A^{-1})$, $A = \sum_i X_i'\Omega_e^{-1}X_i$ formed from cross-products computed once.
{% if two_level %}\item $\mathbf{u}_j \mid \mathbf{v}_j$: normal with precision $\Omega_{u\mid v}^{-1} + n_j\Omega_e^{-1}$.
{% if coords2 %}\item Level-2 latents and missing values from their conditionals under $\Omega_u$ given $\mathbf{u}_j$.
\item $\gamma$: generalised least squares of $\mathbf{w}_j - \Omega_{vu}\Omega_{uu}^{-1}\mathbf{u}_j$ on $X_{2j}$.
{% endif %}{% if expansion %}\item Moves on the random effects $\mathbf{u}_{\cdot c}$ of each categorical coordinate $c$, its latents integrated out
and then redrawn: per unit from their prior (Metropolis), and $\mathbf{u}_{\cdot c} \to g\,\mathbf{u}_{\cdot c}$,
$\Omega_u \to D\Omega_u D$ with $D = \mathrm{diag}(1, \dots, g, \dots, 1)$ (parameter expansion, Metropolis on $\log g$); then
exact shifts of the random effects against the intercepts.
{% endif %}{% endif %}
\item $\Omega_e${% if two_level %}, $\Omega_u${% endif %} (flat priors on their free elements): inverse-Wishart draws when no variance
is fixed; otherwise random-walk Metropolis on the free correlations among the fixed-variance coordinates, against
their marginal (Browne 2006), then an exact inverse-Wishart and matrix-normal draw of the free block given them,
all from the $q\times q$ cross-product of residuals; scales tuned in the first half of the first {{ impute1st }} iterations.
\item Ordered thresholds: Cowles (1996) Metropolis with the latent integrated out.
\end{enumerate}
"""

    def imputation_questions(self, ask, two_level: bool, min_imputations: int = 1) -> None:
        """The imputation-model questions, for super-templates (2LevelImpute)."""
        imputation_questions(ask, two_level, min_imputations)

    def inputs(self, ask):
        two = ask(YesNo("numlevs", "Do either the model of interest (MOI) and/or imputation have two levels?",
                        help="Yes for a two-level imputation model (pupils in schools, ...)."))
        if two:
            ask(L2ID("L2ID", "Level 2 ID:", help="The identifier of level-2 units (e.g. school)."))
        imputation_questions(ask, two)

    # ------------------------------------------------------------------ model
    def model(self, data, answers, moi: dict | None = None):
        """The model's arrays and context; ``moi`` (from 2LevelImpute) adds a
        Normal two-level model of interest for SMC imputation: ``{"y": name,
        "x": [Var], "z": [Var]}``."""
        frame = data.frame
        two = answers["numlevs"]
        r1, r2 = _responses(answers, 1), _responses(answers, 2)
        names = [r.name for r in r1 + r2]
        if len(set(names)) < len(names):
            raise InputError("inputs 'yimp1'/'yimp2': a variable is listed as a response twice; "
                             "list each response once")
        n = len(frame)
        if two:
            unit, ids = level2_index(frame, answers["L2ID"])
        else:
            unit, ids = np.zeros(n, dtype=np.int32), np.array([0])
        J = len(ids)
        order, start = sort_by_unit(unit, J)
        Y1 = np.column_stack([column(frame, r.name) for r in r1])
        for r in r1:
            _check_codes(r, Y1[:, r.col])
        blocks, k1, terms1 = [], [], []
        for i, r in enumerate(r1):
            X, terms = _explanatory(frame, answers[f"ximp1_{i}"], f"ximp1_{i}", set(names))
            for c in r.coords:
                blocks.append(X)
                k1.append(X.shape[1])
                terms1 += [Param(f"beta({c},{t})", "coefficient", 1) for t in terms]
        X1 = np.column_stack(blocks)
        Y2 = np.zeros((J, 0))
        k2, terms2, blocks2 = [], [], []
        if r2:
            Y2 = np.column_stack([_per_unit(frame, unit, J, r.name) for r in r2])
            for r in r2:
                _check_codes(r, Y2[:, r.col])
            first_row = np.r_[start[:-1]]
            sorted_frame = frame.iloc[order]
            for j, r in enumerate(r2):
                keys = ([f"ximp2_{j}_{k}" for k in range(r.ncat - 1)] if r.type_name == "Unordered"
                        else [f"ximp2_{j}"])
                for key, c in zip(keys, r.coords):
                    X, terms = _explanatory(sorted_frame, answers[key], key, set(names))
                    for v in answers[key]:
                        _per_unit(frame, unit, J, v.name)  # warns when not constant within units
                    blocks2.append(X[first_row])
                    k2.append(X.shape[1])
                    terms2 += [Param(f"gamma({c},{t})", "coefficient", 2) for t in terms]
        X2 = np.column_stack(blocks2) if blocks2 else np.zeros((J, 0))
        coords1 = [c for r in r1 for c in r.coords]
        coords2 = [c for r in r2 for c in r.coords]
        free_e, value_e = covariance_masks(r1, len(coords1))
        params = terms1 + terms2 + self._covariance_names("omega_e", coords1, free_e, level=1)
        if two:
            free_u, value_u = covariance_masks(r2, len(coords1 + coords2), offset=len(coords1))
            params += self._covariance_names("omega_u", coords1 + coords2, free_u, level=2)
        for r in r1 + r2:
            if r.type_name == "Ordered":
                params += [Param(f"threshold({r.name},{c})", "threshold", 1 if r in r1 else 2)
                           for c in range(2, r.ncat)]
        arrays = {"Y1": Y1[order], "X1": X1[order], "start": start,
                  "Y2": _nonempty(Y2), "X2": _nonempty(X2),
                  # which covariance elements are free and the values of the fixed
                  # ones: cpp/statjr/impute.hpp takes them from here, never re-derives them
                  "Oe_free": free_e.ravel(), "Oe_value": value_e.ravel()}
        if two:
            arrays.update(Ou_free=free_u.ravel(), Ou_value=value_u.ravel())
        smc = None
        if moi is not None:
            smc, moi_arrays, moi_params = _substantive(frame, moi, r1, r2, order)
            arrays.update(moi_arrays)
            params += moi_params
        context = {"two_level": two, "conditional": bool(answers.get("condmarg", True)),
                   "expansion": PARAMETER_EXPANSION,
                   "r1": r1, "r2": r2, "k1": k1, "k2": k2, "n": n, "J": J,
                   "nparams": len(params), "coords1": coords1,
                   "coords2": coords2, "impute1st": answers["impute1st"], "smc": smc}
        notes = {"order": order, "unit": unit, "ids": ids, "r1": r1, "r2": r2, "J": J, "n": n,
                 "outcome": moi["y"] if moi else None}
        return ModelSpec(arrays=arrays, params=params, context=context, notes=notes)

    @staticmethod
    def _covariance_names(prefix, coords, free, level=1) -> list[Param]:
        """The free elements of a covariance matrix (``free`` from
        :func:`covariance_masks`), upper triangle by rows: the order in which
        the sampler records them, so the names and the draws cannot drift apart."""
        q = len(coords)
        return [Param(f"{prefix}({coords[a]},{coords[b]})", "variance" if a == b else "covariance",
                      level)
                for a in range(q) for b in range(a, q) if free[a, b]]

    # -------------------------------------------------------------------- run
    def run(self, ctx, moi: dict | None = None, spec=None):
        """Chains of the joint model, completed datasets taken as they go.

        ``min(numimpute, nchains)`` chains each run ``impute1st``
        iterations, give a completed dataset, then another every
        ``imputeevery`` iterations (:meth:`Schedule.snapshots`).
        """
        answers, opts = ctx.answers, ctx.options
        spec = spec if spec is not None else self.model(ctx.data, answers, moi)
        M, first, every = answers["numimpute"], answers["impute1st"], answers["imputeevery"]
        nchains = min(M, opts.nchains)
        per_chain = math.ceil(M / nchains)
        frame_bytes = int(ctx.data.frame.memory_usage(deep=False).sum())
        check_memory(2 * M * frame_bytes, f"ImputeModel: {M} completed datasets",
                     "lower numimpute")
        r1, r2 = spec.notes["r1"], spec.notes["r2"]
        size = spec.notes["n"] * (len(r1) + (moi is not None)) + spec.notes["J"] * len(r2)
        schedule = Schedule.snapshots(first, every, per_chain, Fetch({"completed": ("completed", size)}))
        fit = ctx.sample(spec, schedule, nchains)

        def datasets(fit, results):
            listing = []
            for t in range(per_chain):
                iteration = first + t * every
                for c in range(nchains):
                    name = f"impute_datafile_chain{c}_iter{iteration}"
                    l1, l2 = self._datasets(ctx.data.frame, answers, spec.notes,
                                            fit.snapshots[c][t]["completed"])
                    results.add(name, l1, "dataset")
                    if r2:
                        results.add(f"impute_L2Data_chain{c}_iter{iteration}", l2, "dataset")
                    listing.append({"dataset": name, "chain": c, "iteration": iteration,
                                    "used": len(listing) < M})
            results.add("ImputedDatasets", pd.DataFrame(listing), "table")
            used = [results[row["dataset"]] for row in listing if row["used"]]
            long = long_frame(ctx.data.frame, used)
            results.add("impute_long", long, "table")
            results.add("impute_flong", stata_flong(long), "dataset")
            # how alike successive datasets of one chain are: the autocorrelation at lag imputeevery
            table = results["ModelResults"]
            kept = fit.kept
            table["acf_imputeevery"] = [
                float(np.mean([autocorrelation(kept[c, :, k], every)[every] if kept.shape[1] > every
                               else np.nan for c in range(kept.shape[0])]))
                for k in (spec.names.index(t) for t in table["term"])]

        return ctx.standard_outputs(fit, extra=datasets)

    @staticmethod
    def _datasets(frame: pd.DataFrame, answers, notes, completed: np.ndarray):
        """The caller's data with missing cells filled; observed cells untouched."""
        n, J, order, unit = notes["n"], notes["J"], notes["order"], notes["unit"]
        r1, r2 = notes["r1"], notes["r2"]
        l1 = completed[: n * len(r1)].reshape(n, len(r1))
        values = np.empty_like(l1)
        values[order] = l1  # back to the caller's row order
        out = frame.copy(deep=True)
        for r in r1:
            _fill(out, r.name, values[:, r.col])
        l2 = completed[n * len(r1):n * len(r1) + J * len(r2)].reshape(J, len(r2))
        if notes.get("outcome"):  # SMC: the outcome, imputed from the model of interest
            y = np.empty(n)
            y[order] = completed[n * len(r1) + J * len(r2):]
            _fill(out, notes["outcome"], y)
        units = pd.DataFrame({answers["L2ID"]: notes["ids"]}) if answers["numlevs"] else None
        for r in r2:
            _fill(out, r.name, l2[unit, r.col])
            units[r.name] = l2[:, r.col]
        return out, units


def _substantive(frame, moi, r1, r2, order):
    """The model of interest's design as a recipe of columns (cpp/statjr/smc.hpp).

    A column is fixed data (kind 0), a response's current value (1; 3 at
    level 2) or a dummy of a categorical response's current category (2; 4).
    """
    by1, by2 = {r.name: r for r in r1}, {r.name: r for r in r2}
    cols, terms, fixed = [], [], []
    for v in moi["x"]:
        src, lev = (by1.get(v.name), 1) if v.name in by1 else (by2.get(v.name), 2)
        if src is None:
            X, names = design(frame, [v])
            if np.isnan(X).any():
                raise InputError(f"input 'x': '{v.name}' has missing values but is not a response of "
                                 "the imputation model; add it to yimp1 (or yimp2)")
            for k, name in enumerate(names):
                cols.append((0, len(fixed), 0))
                fixed.append(X[:, k])
                terms.append(name)
        elif v.cat:
            if src.type_name == "Normal":
                raise InputError(f"input 'x': '{v.name}.cat' is a Normal response; drop the .cat suffix")
            for code in range(src.ncat - 1):
                cols.append((2 if lev == 1 else 4, src.col, code))
                terms.append(f"{v.name}_{code}")
        else:
            cols.append((1 if lev == 1 else 3, src.col, 0))
            terms.append(v.name)
    zcols = []
    for v in moi["z"]:
        if v.name not in terms:
            raise InputError(f"input 'z': '{v.name}' must also be an explanatory variable (x) of the "
                             "model of interest for compatible imputation")
        zcols.append(terms.index(v.name))
    q = len(zcols)
    zt = [terms[c] for c in zcols]
    params = [Param(f"MOI:{t}", "coefficient") for t in terms]
    params += ([Param("MOI:sigma2_u", "variance", 2)] if q == 1 else
               [Param(f"MOI:omega_u({zt[a]},{zt[b]})", "variance" if a == b else "covariance", 2)
                for a in range(q) for b in range(a, q)])
    params.append(Param("MOI:sigma2_e", "variance", 1))
    XF = np.column_stack(fixed) if fixed else np.zeros((len(frame), 1))
    arrays = {"MY": column(frame, moi["y"])[order], "MXF": XF[order]}
    return {"nf": XF.shape[1], "cols": cols, "zcols": zcols, "warmup": SMC_WARMUP}, arrays, params


def long_frame(original: pd.DataFrame, completed: list[pd.DataFrame]) -> pd.DataFrame:
    """The data with missing values and every completed dataset, stacked.

    mice's ``complete(imp, action = "long", include = TRUE)`` layout: ``.imp``
    is 0 for the original, then 1..M; ``.id`` numbers the rows 1..n.  R reads
    it with ``as.mids`` (mice) or ``split(d, d$.imp)[-1]`` and
    ``as.mitml.list`` (mitml); Stata with ``mi import flong, m(_imp) id(_id)``
    after renaming (docs/interchange.md).
    """
    n = len(original)
    parts = []
    for m, frame in enumerate([original] + list(completed)):
        part = frame.reset_index(drop=True).copy()
        part.insert(0, ".id", np.arange(1, n + 1))
        part.insert(0, ".imp", m)
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def stata_flong(long: pd.DataFrame) -> pd.DataFrame:
    """``long`` for Stata's ``mi import flong``: ``.imp`` and ``.id`` renamed.

    Stata names cannot begin with a dot.  The two columns become ``_imp`` and
    ``_id`` (more leading underscores if the data already has such a column),
    so the saved ``.dta`` reads with ``mi import flong, m(_imp) id(_id)``; the
    data's own columns keep their names and labels (docs/interchange.md).
    """
    names = {}
    for old in (".imp", ".id"):
        new = "_" + old[1:]
        while new in long.columns or new in names.values():
            new = "_" + new
        names[old] = new
    return long.rename(columns=names)


def _fill(frame: pd.DataFrame, name: str, values: np.ndarray) -> None:
    """Write ``values`` into the missing cells of ``frame[name]`` only."""
    col = frame[name]
    missing = col.isna().to_numpy()
    if not missing.any():
        return
    if pd.api.types.is_integer_dtype(col.dtype):  # nullable integers keep their dtype
        frame.loc[missing, name] = np.round(values[missing]).astype(np.int64)
    else:
        filled = col.to_numpy(dtype=float, copy=True)
        filled[missing] = values[missing]
        frame[name] = pd.Series(filled, index=frame.index, dtype=col.dtype)


def _nonempty(a: np.ndarray) -> np.ndarray:
    """C++ needs a valid pointer even for an empty matrix."""
    return a if a.size else np.zeros(1)
