"""The template SDK: public imports only, no import cycles, typed parameters,
models of interest by protocol, and seeds spawned per chain and per fit."""
import ast
import importlib
from pathlib import Path

import numpy as np
import pytest

import statjr_py
from statjr_py import Param, RunStatJR, get_template, registry
from statjr_py.inputs import next_question

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).parent
PUBLIC = {"statjr_py": set(statjr_py.__all__),
          "statjr_py.sdk": set(importlib.import_module("statjr_py.sdk").__all__)}


def _walk(node):
    """ast.walk, leaving out ``if TYPE_CHECKING:`` blocks (annotations only, never run)."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and getattr(child.test, "id", "") == "TYPE_CHECKING":
            continue
        yield child
        yield from _walk(child)


def _imports(path: Path):
    """(module, name, level) for every import in a file, nested ones included."""
    tree = ast.parse(path.read_text())
    for node in _walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                yield node.module, alias.name, node.level
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, None, 0


@pytest.mark.parametrize("path", sorted((ROOT / "templates").glob("*.py"))
                         + [HERE / "templates" / "StudentT.py"], ids=lambda p: p.stem)
def test_templates_import_only_public_names(path):
    for module, name, _ in _imports(path):
        if not module.startswith("statjr_py"):
            continue
        assert module in PUBLIC, f"{path.name} imports from private module {module}"
        assert name in PUBLIC[module], f"{path.name} imports {name} from {module}, not in its __all__"


def test_no_import_cycles():
    """Every import between statjr_py's modules, lazy ones too, forms no cycle."""
    pkg = ROOT / "statjr_py"
    modules = {}
    for path in pkg.rglob("*.py"):
        rel = path.relative_to(ROOT).with_suffix("")
        name = ".".join(rel.parts)
        if name.endswith(".__init__"):
            name = name[: -len(".__init__")]
        modules[name] = path
    graph = {m: set() for m in modules}
    for mod, path in modules.items():
        package = mod if path.name == "__init__.py" else mod.rsplit(".", 1)[0]
        for module, name, level in _imports(path):
            if level:
                base = package.split(".")
                base = base[: len(base) - (level - 1)]
                target = ".".join(base + ([module] if module else []))
            else:
                target = module
            for cand in (f"{target}.{name}" if name else None, target):
                if cand in modules and cand != mod:
                    graph[mod].add(cand)
                    break
    # the package's own __init__ re-exports everything; edges into it are the cycle risk
    seen, stack, cycles = set(), [], []

    def visit(m):
        if m in stack:
            cycles.append(stack[stack.index(m):] + [m])
            return
        if m in seen:
            return
        seen.add(m)
        stack.append(m)
        for n in sorted(graph[m]):
            visit(n)
        stack.pop()

    for m in sorted(graph):
        visit(m)
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_modules_stay_readable():
    too_long = [str(p.relative_to(ROOT)) for p in list((ROOT / "statjr_py").rglob("*.py"))
                + list((ROOT / "cpp").rglob("*.hpp")) + list((ROOT / "templates").glob("*"))
                if len(p.read_text().splitlines()) > 650]
    assert not too_long


# --------------------------------------------------------------- parameters
def test_params_are_typed_and_tables_carry_the_kind():
    res = RunStatJR("2LevelMod", "tutorial", {"y": "normexam", "L2ID": "school", "D": "Normal",
                                              "x": "cons,standlrt,avslrt"},
                    {"burnin": 20, "iterations": 100, "nchains": 1, "diagnostics": False})
    table = res["ModelResults"].set_index("term")
    assert table.loc["standlrt", "kind"] == "coefficient"
    assert table.loc["sigma2_u", "kind"] == "variance"
    assert "deviance" not in table.index  # recorded, not monitored
    levels = {p.name: p.level for p in res.params}
    # avslrt (the school mean of standlrt) is constant within schools: a level-2 coefficient
    assert levels == {"cons": 1, "standlrt": 1, "avslrt": 2, "sigma2_u": 2, "sigma2_e": 1}


def test_param_kind_is_checked():
    with pytest.raises(ValueError, match="kind"):
        Param("x", "slope")


# ----------------------------------------------------------------- seeds
def test_seeds_are_spawned_per_chain_and_per_fit():
    from statjr_py.engine import prepare

    ctx = prepare("1LevelMod", "tutorial", {"y": "normexam", "D": "Normal", "x": "cons"},
                  {"seed": 7})
    first, second = ctx.spawn_seeds(3), ctx.spawn_seeds(3)
    assert len(set(first + second)) == 6
    assert first == [int(c.generate_state(1, dtype=np.uint64)[0])
                     for c in np.random.SeedSequence(7).spawn(3)]
    assert all(0 <= s < 2 ** 63 for s in ctx.spawn_option_seeds(5))


# ------------------------------------------------------- models of interest
@pytest.fixture
def with_test_templates(monkeypatch):
    monkeypatch.setenv("STATJR_TEMPLATES", str(HERE / "templates"))
    registry.clear_cache()
    yield
    registry.clear_cache()


def test_moi_choices_come_from_the_registry(tutmiss, with_test_templates):
    tmpl = get_template("2LevelImpute")
    cols = list(tutmiss.columns)
    _, q = next_question(tmpl.inputs, {"numlevs": "Yes", "L2ID": "school", "MOIlevel": "1 level"},
                         cols, tutmiss)
    assert q.key == "MOIdist"
    assert q.choices == ["Normal", "Binomial", "Poisson", "StudentT"]
    _, q = next_question(tmpl.inputs, {"numlevs": "Yes", "L2ID": "school", "MOIlevel": "2 levels"},
                         cols, tutmiss)
    assert "StudentT" not in q.choices


def test_a_new_model_of_interest_is_one_file(tutmiss, with_test_templates):
    """tests/templates/StudentT.py becomes 2LevelImpute's MOI with no edit to 2LevelImpute."""
    invars = {"numlevs": "Yes", "L2ID": "school", "MOIlevel": "1 level", "MOIdist": "StudentT",
              "y": "normexam", "x": "cons,standlrtmiss", "nu": "4",
              "yimp1": "normexam,standlrtmiss", "bin1_1": "Normal", "bin1_2": "Normal",
              "ximp1_0": "cons", "ximp1_1": "cons", "want2": "No", "condmarg": "Yes",
              "numimpute": "2", "impute1st": "100", "imputeevery": "20",
              "burnin": "100", "iterations": "400"}
    res = RunStatJR("2LevelImpute", tutmiss, invars, {"diagnostics": False, "seed": 3})
    pooled = res["ResultsTable:Imputation"].set_index("term")
    assert list(pooled.index) == ["cons", "standlrtmiss", "sigma2"]
    assert list(pooled["kind"]) == ["coefficient", "coefficient", "variance"]
    assert np.isnan(pooled.loc["sigma2", "p"]) and pooled.loc["standlrtmiss", "p"] < 1e-6
    # the slope of normexam on standlrt is about 0.6 in these data (lme4 and OLS alike)
    assert abs(pooled.loc["standlrtmiss", "estimate"] - 0.6) < 5 * pooled.loc["standlrtmiss", "se"]
    assert "StudentT.cpp" in res


def test_estimates_give_a_vector_and_its_covariance(tutorial):
    res = RunStatJR("1LevelMod", "tutorial", {"y": "normexam", "D": "Normal", "x": "cons,standlrt"},
                    {"burnin": 50, "iterations": 2000, "nchains": 2, "diagnostics": False})
    names, mean, cov = get_template("1LevelMod").estimates(res)
    assert names == ["cons", "standlrt"]
    assert cov.shape == (2, 2) and np.allclose(cov, cov.T)
    sd = res["ModelResults"].set_index("term").loc[names, "sd"].to_numpy()
    assert np.allclose(np.sqrt(np.diag(cov)), sd, rtol=1e-6)
