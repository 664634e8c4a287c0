"""Executed notebook -> an HTML report that works offline, for the suite and for Jupyter's tools.

nbconvert's ``lab`` template loads require.js and MathJax from CDNs; the ``noordstats_report``
template (``noordstats/report/templates``) drops both and refers to two files beside the page
instead: ``plotly.min.js`` (plotly's own bundle, the version the figures were made with) and
``report.css`` (a small stylesheet, print rules included). With ``self_contained=True`` both are
inlined, so one HTML file stands alone (about 4.8 MB). Code cells are hidden; outputs and the
narrative stay; the summary cell and cells tagged ``noordstats-notebook-only`` are left out, and
so are tracebacks and text written to stderr (log records, warnings): a reader's page never
shows them, the executed notebook keeps them for the analyst.

:class:`NoordstatsExporter` is that export as an nbconvert exporter, registered under the name
``noordstats`` (entry point ``nbconvert.exporters`` in pyproject.toml), so that

* ``jupyter nbconvert --to noordstats NOTEBOOK.ipynb`` writes ``NOTEBOOK.html`` with
  ``plotly.min.js`` and ``report.css`` beside it (nbconvert writes the exporter's ``outputs``
  into the page's folder), and
* JupyterLab's File → Save and Export Notebook As menu offers *Noordstats*; the server answers
  with a zip of the page and its two files (the server's ``/nbconvert/noordstats/<path>``).

It also draws charts whose executed notebook kept only plotly's JSON (the suite's ``.ipynb``
files drop the HTML twin): their HTML is made again from the figure.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import plotly

from noordstats import paths
from noordstats.i18n import DEFAULT_LANG, languages
from noordstats.report.page.summary import SUMMARY_TAG, output_marks, read_summary
from noordstats.storage import store

if TYPE_CHECKING:  # nbformat imports jsonschema (~1 s): not needed to plan or skip reports
    import nbformat

TEMPLATE_NAME = "noordstats_report"
PLOTLY_JS_NAME = "plotly.min.js"
CSS_NAME = "report.css"
CSS_FILE = paths.REPORT_CSS_FILE
NOTEBOOK_ONLY_TAG = "noordstats-notebook-only"
PLOTLY_MIMETYPE = "application/vnd.plotly.v1+json"


def plotly_js_path() -> Path:
    """plotly.js as shipped inside the installed plotly package."""
    return Path(plotly.__file__).parent / "package_data" / PLOTLY_JS_NAME


def report_css() -> str:
    """The reports' stylesheet (a few rules: the code cells are hidden; print layout)."""
    return CSS_FILE.read_text(encoding="utf-8")


def write_assets(folder: Path) -> list[Path]:
    """Write ``plotly.min.js`` and ``report.css`` into ``folder`` (atomically, only when they
    differ from what is there); return the paths."""
    js_target = folder / PLOTLY_JS_NAME
    source = plotly_js_path()
    if not js_target.exists() or store.sha256_file(js_target) != store.sha256_file(source):
        with store.atomic_path(js_target) as tmp:
            tmp.write_bytes(source.read_bytes())
    css_target = folder / CSS_NAME
    css = report_css()
    if not css_target.exists() or css_target.read_text(encoding="utf-8") != css:
        store.write_text_atomic(css_target, css)
    return [js_target, css_target]


def report_language(notebook: Any) -> str:
    """The language a report notebook was run in: its summary's, else its papermill
    parameter's, else the default."""
    summary = read_summary(notebook) or {}
    lang = summary.get("lang") or notebook.metadata.get("papermill", {}).get("parameters", {}).get(
        "lang"
    )
    return lang if lang in languages() else DEFAULT_LANG


def chart_outputs_to_html(notebook: Any) -> Any:
    """Give every plotly output without an HTML part the chart's HTML (in the report's
    language), so a page exported from an executed notebook draws every chart."""
    # deferred: charts imports plotly's figure classes and pandas; only an export needs them
    from noordstats.report.page.charts import chart_html

    lang = report_language(notebook)
    for index, cell in enumerate(notebook.cells):
        for number, output in enumerate(cell.get("outputs", [])):
            data = output.get("data", {})
            if PLOTLY_MIMETYPE in data and "text/html" not in data:
                figure = data[PLOTLY_MIMETYPE]
                data["text/html"] = chart_html(f"chart-{index}-{number}", dict(figure), lang)
    return notebook


def is_reader_output(output: Any) -> bool:
    """Whether a cell output belongs in a reader's page: not a traceback, not text written to
    stderr (log records, warnings). Those stay in the executed notebook, for the analyst."""
    if output.get("output_type") == "error":
        return False
    return not (output.get("output_type") == "stream" and output.get("name") == "stderr")


def without_log_outputs(notebook: Any) -> Any:
    """A copy of ``notebook`` (the cells' lists are new; the notebook itself is not changed)
    holding only the outputs a reader's page shows (:func:`is_reader_output`)."""
    # deferred: nbformat imports jsonschema (~1 s), needed only once something is exported
    from nbformat import NotebookNode

    cells = [
        NotebookNode({**cell, "outputs": [o for o in cell["outputs"] if is_reader_output(o)]})
        if "outputs" in cell
        else cell
        for cell in notebook.cells
    ]
    return NotebookNode({**notebook, "cells": cells})


def page_title(notebook: Any) -> str | None:
    """The report's title as its header block marked it (for a page exported by hand)."""
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            title = output_marks(output).get("title")
            if title:
                return str(title)
    return None


def drop_stylesheet_outputs(notebook: Any) -> Any:
    """Leave out the stylesheet a notebook shows for JupyterLab: the page links report.css."""
    for cell in notebook.cells:
        if "outputs" in cell:
            cell["outputs"] = [o for o in cell["outputs"] if not output_marks(o).get("stylesheet")]
    return notebook


@cache
def exporter_class() -> type:
    """:class:`NoordstatsExporter` (made on first use: nbconvert takes about a second to import,
    and a run that renders nothing skips it)."""
    # deferred: nbconvert takes about a second to import; a run that renders nothing skips it
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor, TagRemovePreprocessor
    from traitlets import Bool, default

    # deferred: charts imports plotly's figure classes and pandas; only an export needs them
    from noordstats.report.page.charts import chart_template_script

    class _NoordstatsExporter(HTMLExporter):
        """The noordstats report page: offline, code hidden, plotly.js and CSS beside it."""

        export_from_notebook = "Noordstats"
        self_contained = Bool(
            False, help="inline plotly.js and the stylesheet instead of writing them beside"
        ).tag(config=True)

        @default("template_name")
        def _template_name_default(self) -> str:
            return TEMPLATE_NAME

        @default("extra_template_basedirs")
        def _extra_template_basedirs_default(self) -> list[str]:
            return [str(paths.REPORT_TEMPLATES_DIR)]

        @default("exclude_input")
        def _exclude_input_default(self) -> bool:
            return True

        @default("exclude_input_prompt")
        def _exclude_input_prompt_default(self) -> bool:
            return True

        @default("exclude_output_prompt")
        def _exclude_output_prompt_default(self) -> bool:
            return True

        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            # the summary cell is for the suite (noordstats.report.page.summary), not for the reader
            self.register_preprocessor(
                TagRemovePreprocessor(
                    remove_cell_tags={SUMMARY_TAG, NOTEBOOK_ONLY_TAG}, enabled=True
                ),
                enabled=True,
            )

        def _init_preprocessors(self) -> None:
            super()._init_preprocessors()
            # pygments' stylesheet (syntax colours, 4.6 KB in a <style> of every page) colours
            # code, and a page hides its code. This template's conf.json turns it off, but
            # nbconvert merges the templates' conf.json files base-last, so the lab template's
            # "enabled": true wins; it is turned off here.
            for preprocessor in self._preprocessors:
                if isinstance(preprocessor, CSSHTMLHeaderPreprocessor):
                    preprocessor.enabled = False

        def from_notebook_node(
            self, nb: Any, resources: dict[str, Any] | None = None, **kw: Any
        ) -> tuple[str, dict[str, Any]]:
            nb = drop_stylesheet_outputs(chart_outputs_to_html(without_log_outputs(nb)))
            self.language_code = report_language(nb)
            if not nb.metadata.get("title"):
                nb.metadata["title"] = page_title(nb) or nb.metadata.get("title", "")
            resources = dict(resources or {})
            settings = {
                "self_contained": self.self_contained,
                "plotly_js_href": PLOTLY_JS_NAME,
                "css_href": CSS_NAME,
                "chart_template_script": chart_template_script(),
            }
            if self.self_contained:
                settings["plotly_js"] = plotly_js_path().read_text(encoding="utf-8")
                settings["css"] = report_css()
            resources["noordstats"] = {**settings, **resources.get("noordstats", {})}
            body, resources = super().from_notebook_node(nb, resources, **kw)
            if not resources["noordstats"]["self_contained"] and resources.get("write_assets", 1):
                outputs = resources.setdefault("outputs", {})
                outputs[PLOTLY_JS_NAME] = plotly_js_path().read_bytes()
                outputs[CSS_NAME] = report_css().encode("utf-8")
            return body, resources

    _NoordstatsExporter.__name__ = _NoordstatsExporter.__qualname__ = "NoordstatsExporter"
    return _NoordstatsExporter


def __getattr__(name: str) -> Any:
    """``noordstats.report.runner.export.NoordstatsExporter`` (the entry point) without importing
    nbconvert when this module is imported."""
    if name == "NoordstatsExporter":
        return exporter_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@cache
def _exporter() -> Any:
    return exporter_class()()


def export_html(notebook: nbformat.NotebookNode, self_contained: bool = False) -> str:
    """The HTML page of an executed notebook (code hidden); the suite writes the two files
    beside it once per folder (:func:`write_assets`)."""
    settings: dict[str, Any] = {"self_contained": self_contained}
    if self_contained:
        settings["plotly_js"] = plotly_js_path().read_text(encoding="utf-8")
        settings["css"] = report_css()
    resources = {"noordstats": settings, "write_assets": 0}
    body, _ = _exporter().from_notebook_node(notebook, resources=resources)
    return body
