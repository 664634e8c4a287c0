"""The report notebooks as committed: no outputs, no function definitions, the standard kernel;
each one executes with its defaults on the embedded snapshot (as JupyterLab would run it) without
an error, and refuses a bad parameter in its first cell."""

from __future__ import annotations

import ast
import json

import pytest

from noordstats import paths

NOTEBOOKS = sorted(paths.NOTEBOOKS_DIR.glob("*.ipynb"))
PLOTLY_MIMETYPE = "application/vnd.plotly.v1+json"


def _code_cells(notebook):
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    return [c for c in cells if c["cell_type"] == "code"]


def test_the_three_report_notebooks_exist():
    assert {p.stem for p in NOTEBOOKS} == {"theme", "claims", "region_profile"}


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_without_outputs_for_the_standard_kernel(notebook):
    content = json.loads(notebook.read_text(encoding="utf-8"))
    assert content["metadata"]["kernelspec"]["name"] == "python3"
    for cell in content["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_cells_only_call_the_library(notebook):
    """No function or class definitions, no lambdas, and imports only from noordstats."""
    for cell in _code_cells(notebook):
        tree = ast.parse("".join(cell["source"]))
        for node in ast.walk(tree):
            assert not isinstance(
                node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda
            ), f"{notebook.name}: definition in a cell"
            if isinstance(node, ast.Import):
                raise AssertionError(f"{notebook.name}: 'import' of {node.names[0].name}")
            if isinstance(node, ast.ImportFrom):
                assert node.module.split(".")[0] == "noordstats", (
                    f"{notebook.name}: import from {node.module}"
                )


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_first_cell_after_parameters_validates_them(notebook):
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    index = next(i for i, c in enumerate(cells) if "parameters" in c["metadata"].get("tags", []))
    following = next(c for c in cells[index + 1 :] if c["cell_type"] == "code")
    assert "parameters.check_values(" in "".join(following["source"])


@pytest.mark.slow
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_with_its_defaults(notebook, tmp_path):
    import papermill

    executed = papermill.execute_notebook(
        str(notebook),
        str(tmp_path / notebook.name),
        kernel_name="python3",
        progress_bar=False,
        cwd=str(paths.NOTEBOOKS_DIR),
    )
    outputs = [o for c in executed.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert not [o for o in outputs if o.output_type == "stream" and o.name == "stderr"], (
        "a report notebook should run without warnings"
    )
    assert any(PLOTLY_MIMETYPE in o.get("data", {}) for o in outputs), "no chart"
    html = "".join(o.get("data", {}).get("text/html", "") for o in outputs)
    assert "Bron: CBS, CC BY 4.0" in html


@pytest.mark.slow
@pytest.mark.reliability(
    "bad input",
    "notebook run directly by papermill with region XX99",
    "the notebook's first cell raises ParameterError",
)
def test_notebook_refuses_a_bad_parameter_itself(tmp_path):
    import papermill

    with pytest.raises(papermill.PapermillExecutionError) as caught:
        papermill.execute_notebook(
            str(paths.NOTEBOOKS_DIR / "claims.ipynb"),
            str(tmp_path / "claims.ipynb"),
            parameters={"region": "XX99"},
            kernel_name="python3",
            progress_bar=False,
        )
    assert caught.value.ename == "ParameterError"
    assert "unknown region 'XX99'" in caught.value.evalue
