"""docs/worked-example.ipynb runs from top to bottom, and Results shows itself in a notebook."""
from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parents[1] / "docs" / "worked-example.ipynb"


def test_the_example_notebook_runs():
    nbformat = pytest.importorskip("nbformat", reason="install statjr-py[test] for nbformat")
    nbclient = pytest.importorskip("nbclient", reason="install statjr-py[test] for nbclient")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbclient.NotebookClient(nb, timeout=600, kernel_name="python3").execute()
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    html = [o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {})]
    assert any("ResultsTable:Imputation" in h for h in html)  # Results' own view
    assert any("image/svg+xml" in o.get("data", {}) for o in outputs)  # a plot, drawn


def test_results_html_lists_headline_tables_and_outputs(tutorial):
    from statjr_py import RunStatJR
    res = RunStatJR("1LevelMod", "tutorial", {"y": "normexam", "D": "Normal", "x": "cons,standlrt"},
                    {"burnin": 50, "iterations": 300, "nchains": 2})
    page = res._repr_html_()
    assert page.index("<h4>ModelResults</h4>") < page.index("<h4>ModelFit</h4>") < page.index("<li>")
    assert "standlrt.svg <small>[svg]</small>" in page


def test_to_arviz_has_chains_draws_and_names(tutorial):
    az = pytest.importorskip("arviz", reason="install statjr-py[arviz]")
    from statjr_py import InputError, RunStatJR
    res = RunStatJR("2LevelMod", "tutorial", {"y": "normexam", "L2ID": "school", "D": "Normal",
                                              "x": "cons,standlrt"},
                    {"burnin": 50, "iterations": 300, "nchains": 2, "diagnostics": False})
    idata = res.to_arviz()
    post = idata.posterior
    assert dict(post.sizes) == {"chain": 2, "draw": 300}
    assert set(post.data_vars) == {"cons", "standlrt", "sigma2_u", "sigma2_e", "deviance"}
    assert int(post["draw"][0]) == 51  # iteration numbers
    table = res["ModelResults"].set_index("term")
    summary = az.summary(idata, var_names=["standlrt"])
    assert summary["ess_bulk"].iloc[0] == pytest.approx(table.loc["standlrt", "ess_bulk"], rel=0.01)
    with pytest.raises(InputError, match="fit = 'Model9'"):
        res.to_arviz("Model9")
