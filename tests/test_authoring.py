"""docs/authoring.md's example template works exactly as printed."""
import re
from pathlib import Path

import numpy as np
import pytest

from statjr_py import RunStatJR, registry

DOC = Path(__file__).resolve().parents[1] / "docs" / "authoring.md"


def blocks() -> dict[str, str]:
    """The doc's code blocks by the file name after the language: ```python NormalMean.py"""
    return dict(re.findall(r"```(?:python|cpp) (\S+)\n(.*?)```", DOC.read_text(), flags=re.S))


@pytest.fixture
def example_folder(tmp_path, monkeypatch):
    for name, text in blocks().items():
        (tmp_path / name).write_text(text)
    monkeypatch.setenv("STATJR_TEMPLATES", str(tmp_path))
    registry.clear_cache()
    yield tmp_path
    registry.clear_cache()


def test_authoring_example_runs_and_is_right(example_folder, tutorial):
    res = RunStatJR("NormalMean", "tutorial", {"y": "normexam"},
                    {"burnin": 100, "iterations": 3000, "nchains": 2, "seed": 4})
    table = res["ModelResults"].set_index("term")
    y = tutorial["normexam"].to_numpy(float)
    # Closed form: the posterior mean of mu is the sample mean (vague prior).
    assert abs(table.loc["mu", "mean"] - y.mean()) < 4 * table.loc["mu", "mcse"]
    # a posterior sd from ESS draws has relative Monte Carlo error ~ 1/sqrt(2 ESS)
    rel = 1 / np.sqrt(2 * table.loc["mu", "ess_bulk"])
    assert abs(table.loc["mu", "sd"] / (y.std(ddof=1) / np.sqrt(len(y))) - 1) < 4 * rel
    assert abs(table.loc["sigma2", "mean"] - y.var(ddof=1)) < 4 * table.loc["sigma2", "mcse"] + 1e-3
    assert "1000000.0" in res["equation.tex"]


def test_the_moi_example_is_the_tested_template():
    """The doc prints tests/templates/StudentT.* verbatim (test_sdk runs it through 2LevelImpute)."""
    here = Path(__file__).parent / "templates"
    found = blocks()
    for name in ("StudentT.py", "StudentT.cpp.j2"):
        assert found[name] == (here / name).read_text()
