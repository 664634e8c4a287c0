"""Executed notebook -> an HTML report that works offline.

nbconvert's ``lab`` template loads require.js and MathJax from CDNs; the ``noordstats_report``
template (``noordstats/templates``) drops both and refers to two files beside the page instead,
written once per output folder by :func:`write_assets`: ``plotly.min.js`` (plotly's own bundle,
the version the figures were made with) and ``report.css`` (a small stylesheet). With
``self_contained=True`` both are inlined, so one HTML file stands alone (about 4.8 MB).
Code cells are hidden; outputs and the narrative stay.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import plotly

from noordstats import paths
from noordstats.report.summary import SUMMARY_TAG
from noordstats.storage import store

if TYPE_CHECKING:  # nbformat imports jsonschema (~1 s): not needed to plan or skip reports
    import nbformat

TEMPLATE_NAME = "noordstats_report"
PLOTLY_JS_NAME = "plotly.min.js"
CSS_NAME = "report.css"
CSS_FILE = paths.REPORT_TEMPLATES_DIR / TEMPLATE_NAME / CSS_NAME


def plotly_js_path() -> Path:
    """plotly.js as shipped inside the installed plotly package."""
    return Path(plotly.__file__).parent / "package_data" / PLOTLY_JS_NAME


def report_css() -> str:
    """The reports' stylesheet (a few rules: the code cells are hidden)."""
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


@cache
def _exporter():
    # deferred: nbconvert takes about a second to import; a run that renders nothing skips it
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    exporter = HTMLExporter(
        template_name=TEMPLATE_NAME,
        extra_template_basedirs=[str(paths.REPORT_TEMPLATES_DIR)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    # the summary cell is for the suite (noordstats.report.summary), not for the reader
    exporter.register_preprocessor(
        TagRemovePreprocessor(remove_cell_tags={SUMMARY_TAG}, enabled=True), enabled=True
    )
    return exporter


def export_html(notebook: nbformat.NotebookNode, self_contained: bool = False) -> str:
    """The HTML page of an executed notebook (code hidden)."""
    settings = {
        "self_contained": self_contained,
        "plotly_js_href": PLOTLY_JS_NAME,
        "css_href": CSS_NAME,
    }
    if self_contained:
        settings["plotly_js"] = plotly_js_path().read_text(encoding="utf-8")
        settings["css"] = report_css()
    body, _ = _exporter().from_notebook_node(notebook, resources={"noordstats": settings})
    return body
