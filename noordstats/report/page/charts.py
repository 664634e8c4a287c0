"""Plotly figures for the report notebooks, and how they are displayed.

Every builder returns a :class:`Chart`: the figure plus exactly the rows it draws, so the
"download CSV" link under a chart gives the reader the data they see. Titles, axis and legend
labels, hover texts, notes and the CSV's headers are in the report's language (``lang``), and
plotly writes numbers with that language's separators. :func:`show_chart` displays one output
bundle that JupyterLab draws interactively (the plotly mimetype) and that an exported HTML page
draws with the page's own plotly.js (a ``text/html`` part: a ``div`` plus a ``Plotly.newPlot``
call; where no plotly.js is loaded, as in a page exported with plain ``--to html``, the ``div``
tells the reader how to get the chart). Text from CBS or from the config is HTML-escaped before
it enters a figure (plotly renders a subset of HTML in titles, labels and hover text).

Missing figures stay missing: a bar that CBS did not publish is not drawn and the chart's note
names it; a line is drawn only between consecutive years, never across a gap.
"""

from __future__ import annotations

import hashlib
import html
import itertools
import json
import math
import textwrap
from dataclasses import dataclass
from functools import cache
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from plotly.subplots import make_subplots

from noordstats import i18n
from noordstats.cbs_codes import describe_period
from noordstats.declarations.indicators import load_indicators
from noordstats.declarations.themes import Theme, load_themes
from noordstats.declarations.verdicts import Verdict
from noordstats.i18n import t
from noordstats.regions import NETHERLANDS
from noordstats.report import wording
from noordstats.report.page.blocks import csv_href, page_only, verdict_name
from noordstats.report.page.summary import OUTPUT_METADATA_KEY

PLOTLY_MIMETYPE = "application/vnd.plotly.v1+json"


#: one colour per region in the order given (the report's region first)
REGION_COLOURS = ["#1f5fa8", "#d9822b", "#4c9a4a", "#b54a8f", "#7f7f7f", "#8c6d31", "#17becf"]


SECTOR_CHART_COLUMNS = [
    "region_code", "region_name", "sector_code", "sector_name", "year", "status",
    "jobs_thousands", "share_of_region_pct", "location_quotient",
]  # fmt: skip


TREND_CHART_COLUMNS = [
    "indicator_id", "region_code", "region_name", "period_code", "year", "value", "unit", "status",
    "table_id",
]  # fmt: skip


#: the margins around every chart's plot area (px)
CHART_MARGIN = {"l": 10, "r": 10, "t": 60, "b": 40}


_TEMPLATE = go.layout.Template(
    layout={
        "font": {"family": "Helvetica, Arial, sans-serif", "size": 13, "color": "#222"},
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "colorway": REGION_COLOURS,
        "xaxis": {"gridcolor": "#e5e5e5", "zerolinecolor": "#999", "automargin": True},
        "yaxis": {"gridcolor": "#e5e5e5", "zerolinecolor": "#999", "automargin": True},
        "hoverlabel": {"align": "left"},
        "margin": CHART_MARGIN,
    }
)


_CONFIG = {"displaylogo": False, "responsive": True}
#: the page-wide JavaScript name of the charts' template (:func:`chart_template_script`)
TEMPLATE_VARIABLE = "noordstatsChartTemplate"


@dataclass
class Chart:
    """A figure and the rows it shows. ``figure`` is None when there is nothing to draw; ``note``
    then says why, and otherwise holds a footnote (e.g. which figures CBS did not publish)."""

    chart_id: str
    title: str
    data: pd.DataFrame
    figure: go.Figure | None
    note: str = ""
    #: the chart's text alternative in the page's language: what it shows and its main
    #: comparison, generated from ``data`` (shown as the chart's figcaption, its accessible name)
    summary: str = ""


def escape_text(value: Any) -> str:
    """Text for a plotly label: plotly renders tags such as ``<b>`` and ``<a>``, so CBS and
    config text is escaped (plotly turns the entities back into the literal characters)."""
    return html.escape(str(value), quote=False)


def _status(status: Any, lang: str) -> str:
    key = f"status.{status}"
    return t(key, lang) if i18n.has(key) else str(status)


def bar_sector_profile(
    profile: pd.DataFrame,
    title: str | None = None,
    lang: str | None = None,
    theme: Theme | None = None,
) -> Chart:
    """Share of each region's jobs in the theme's sectors, and the location quotient (LQ > 1 =
    more concentrated than in the Netherlands). ``profile``: ``indicators.sector_profile``;
    the title names ``theme`` unless ``title`` is given."""
    lang = i18n.resolve(lang)
    if title is None:
        name = i18n.declared(theme, "title", lang) if theme is not None else ""
        title = t("chart.sector.title", lang, theme=name).lstrip(": ")
    data = profile.reindex(columns=SECTOR_CHART_COLUMNS).reset_index(drop=True)
    if data.empty:
        return Chart("sector-profile", title, data, None, t("chart.sector.none", lang))
    figure = make_subplots(
        rows=1,
        cols=2,
        shared_yaxes=True,
        horizontal_spacing=0.04,
        subplot_titles=(t("chart.sector.share", lang), t("chart.sector.lq", lang)),
    )
    sectors = [escape_text(s) for s in dict.fromkeys(data.sector_name)]
    groups = data.groupby("region_code", sort=False, observed=True)
    for index, (code, rows) in enumerate(groups):
        hover = [
            escape_text(
                t(
                    "chart.sector.hover",
                    lang,
                    region=f"{r.region_name} ({code})",
                    sector=r.sector_name,
                    year=r.year,
                    jobs=i18n.number(r.jobs_thousands, lang, 1),
                    status=_status(r.status, lang),
                )
            )
            for r in rows.itertuples()
        ]
        for col, measure in ((1, "share_of_region_pct"), (2, "location_quotient")):
            figure.add_trace(
                go.Bar(
                    x=rows[measure].tolist(),
                    y=[escape_text(s) for s in rows.sector_name],
                    orientation="h",
                    name=escape_text(rows.region_name.iloc[0]),
                    legendgroup=str(code),
                    showlegend=col == 1,
                    marker_color=REGION_COLOURS[index % len(REGION_COLOURS)],
                    customdata=hover,
                    hovertemplate="%{customdata}<br>%{x:.2f}<extra></extra>",
                ),
                row=1,
                col=col,
            )
    figure.add_vline(x=1, line_dash="dot", line_color="#555", row=1, col=2)
    figure.update_yaxes(categoryorder="array", categoryarray=sectors[::-1])
    height = min(900, 160 + 26 * len(sectors) * groups.ngroups)
    finish_layout(figure, title, height=height, lang=lang)
    figure.update_layout(barmode="group", legend={"orientation": "h", "y": -0.08})
    missing = data[data.location_quotient.isna() | data.share_of_region_pct.isna()]
    note = ""
    if not missing.empty:
        pairs = "; ".join(
            t("chart.sector.pair", lang, sector=r.sector_name, region=r.region_name)
            for r in missing.itertuples()
        )
        note = t("chart.sector.missing", lang, pairs=pairs)
    summary = describe_sectors(data, title, lang)
    return Chart("sector-profile", title, data, figure, note, summary)


def line_trends(
    series: pd.DataFrame,
    title: str | None = None,
    lang: str | None = None,
    region: str | None = None,
) -> Chart:
    """One line per region over the years. ``series``: ``indicators.indicator_series``.

    Levels (counts, amounts) of regions of different size are drawn as an index, first year =
    100 (``value_index``), so their growth compares; a share of the Netherlands is drawn without
    Nederland itself (100% by definition). The CSV holds the rows drawn, values and index. The
    chart's text names ``region``'s place among the regions drawn (default: the first one), and
    none where it has no figure."""
    lang = i18n.resolve(lang)
    if "unit" not in series and len(series):  # the analysis' rows: the unit in the page's words
        indicator = load_indicators()[str(series.indicator_id.iloc[0])]
        series = wording.with_unit(series, indicator, "value", lang)
    data = series.reindex(columns=[*TREND_CHART_COLUMNS, "value_index"]).reset_index(drop=True)
    if title is None:
        indicator = load_indicators().get(str(data.indicator_id.iloc[0])) if len(data) else None
        title = i18n.declared(indicator, "title", lang) if indicator else ""
    if data.empty:
        return Chart("trend", title, data, None, t("chart.trend.none", lang))
    notes = []
    if _is_share_of_nl(data.indicator_id.iloc[0]) and (data.region_code != NETHERLANDS).any():
        data = data[data.region_code != NETHERLANDS].reset_index(drop=True)
        notes.append(t("chart.trend.nl_is_100", lang))
    as_index = data.region_code.nunique() > 1 and bool(data.value_index.notna().all())
    if as_index:
        notes.append(t("chart.trend.as_index", lang))
    else:
        data = data.drop(columns="value_index")
    measure = "value_index" if as_index else "value"
    unit = t("chart.trend.index_unit", lang) if as_index else escape_text(data.unit.iloc[0])
    figure = go.Figure()
    for code, rows in data.groupby("region_code", sort=False, observed=True):
        name = escape_text(rows.region_name.iloc[0])
        labels, common = _trend_hover(rows, lang)
        years, values, labels = _break_at_gaps(rows.year.tolist(), rows[measure].tolist(), labels)
        figure.add_trace(
            go.Scatter(
                x=years,
                y=values,
                mode="lines+markers",
                connectgaps=False,
                name=name,
                customdata=labels,
                hovertemplate=(
                    f"{name} ({escape_text(code)})<br>%{{customdata}}{common}<extra></extra>"
                ),
            )
        )
    finish_layout(figure, title, height=420, lang=lang)
    figure.update_layout(yaxis_title=unit)
    notes += _mark_table_breaks(figure, data, lang)
    notes += _mark_boundary_breaks(figure, series, region or str(data.region_code.iloc[0]), lang)
    if data.year.nunique() <= 12:
        figure.update_xaxes(dtick=1)
    summary = describe_trend(data, title, lang, region)
    return Chart(
        f"trend-{data.indicator_id.iloc[0]}", title, data, figure, " ".join(notes), summary
    )


def _trend_hover(rows: pd.DataFrame, lang: str) -> tuple[list[str], str]:
    """One trace's hover text: per point ``<period in words>: <value>`` (``2023: 1,98``;
    ``4e kwartaal 2023: 1,98``), and what every point shares, once for the trace's template:
    the unit, and the CBS status when the whole trace has one (``" % (definitief)"``). A unit or
    a status that varies along the trace stays with each point (``2023 (voorlopig): 1,98``)."""
    one_unit = rows.unit.nunique(dropna=False) == 1
    one_status = rows.status.nunique(dropna=False) == 1
    labels = []
    for p, v, u, s in zip(rows.period_code, rows.value, rows.unit, rows.status, strict=True):
        period = describe_period(p, lang)
        if not one_status:
            period = t("period.with_status", lang, period=period, status=_status(s, lang))
        label = f"{period}: {i18n.number(v, lang)}"
        labels.append(escape_text(label if one_unit else f"{label} {u}"))
    common = f" {rows.unit.iloc[0]}" if one_unit else ""
    if one_status:
        common += f" ({_status(rows.status.iloc[0], lang)})"
    return labels, escape_text(common)


def _mark_boundary_breaks(
    figure: go.Figure, series: pd.DataFrame, region: str, lang: str
) -> list[str]:
    """Where the report region's growth figures span a confirmed series break (a CBS boundary
    change with an outlying change): a dotted line at the break year and a note."""
    if "confirmed_break_years" not in series:
        return []
    own = series[series.region_code == region]
    years = sorted({int(y) for years in own.confirmed_break_years for y in years})
    for year in years:
        figure.add_vline(
            x=year - 0.5,
            line_dash="dot",
            line_color="#a05a00",
            annotation_text=escape_text(t("chart.trend.boundary_mark", lang, region=region)),
        )
    if not years:
        return []
    name = str(own.region_name.iloc[0])
    return [t("chart.trend.boundary_break", lang, region=name, years=", ".join(map(str, years)))]


def _mark_table_breaks(figure: go.Figure, data: pd.DataFrame, lang: str) -> list[str]:
    """Where the series passes from an older table to the one that continues it: a dotted line
    before the newer table's first year, and a note naming both."""
    if "table_id" not in data or data.table_id.nunique() < 2:
        return []
    first = data.groupby("table_id", observed=True).year.min().sort_values()
    notes = []
    for (older, _), (newer, year) in itertools.pairwise(first.items()):
        figure.add_vline(
            x=int(year) - 0.5,
            line_dash="dot",
            line_color="#888",
            annotation_text=escape_text(f"{older} | {newer}"),
        )
        notes.append(t("chart.trend.table_break", lang, year=int(year), older=older, newer=newer))
    return notes


def _wrap(text: str, width: int = 60) -> str:
    """Break a long (escaped) label into lines for plotly (``<br>``)."""
    return "<br>".join(textwrap.wrap(text, width)) or text


def _is_share_of_nl(indicator_id: str) -> bool:
    indicator = load_indicators().get(indicator_id)
    return indicator is not None and indicator.transform == "share_of_nl"


def _break_at_gaps(years: list, values: list, labels: list) -> tuple[list, list, list]:
    """Insert a break (None) wherever a year is missing, so no line bridges a gap."""
    out_years: list = []
    out_values: list = []
    out_labels: list = []
    for i, year in enumerate(years):
        if i and year - years[i - 1] > 1:
            out_years.append(None)
            out_values.append(None)
            out_labels.append(None)
        out_years.append(year)
        out_values.append(values[i])
        out_labels.append(labels[i])
    return out_years, out_values, out_labels


def bars_region_vs_nl(
    profile: pd.DataFrame, region_name: str, title: str | None = None, lang: str | None = None
) -> Chart:
    """Small multiples: for each figure of a region profile, the region's value beside the
    Netherlands', each on its own axis (the figures have different units).
    ``profile``: ``indicators.region_profile`` as ``wording.headline_texts`` words it."""
    lang = i18n.resolve(lang)
    title = t("chart.region_vs_nl.title", lang) if title is None else title
    data = profile.reindex(
        columns=["indicator_id", "title", "period", "unit", "value", "nl_value",
                 "fallback_region_code", "fallback_region_name"]
    ).reset_index(drop=True)  # fmt: skip
    if data.empty:
        return Chart("region-vs-nl", title, data, None, t("chart.region_vs_nl.none", lang))
    columns = 2
    rows = math.ceil(len(data) / columns)
    figure = make_subplots(
        rows=rows,
        cols=columns,
        subplot_titles=[_wrap(escape_text(f"{r.title} ({r.period})")) for r in data.itertuples()],
        horizontal_spacing=0.12,
        vertical_spacing=0.5 / rows,
    )
    for index, r in enumerate(data.itertuples()):
        # a figure of the province the region lies in is drawn under the province's name
        shown = r.fallback_region_name if isinstance(r.fallback_region_name, str) else region_name
        names = [escape_text(shown), t("chart.netherlands", lang)]
        figure.add_trace(
            go.Bar(
                x=[r.value, r.nl_value],
                y=names,
                orientation="h",
                marker_color=REGION_COLOURS[:2],
                text=[i18n.number(r.value, lang), i18n.number(r.nl_value, lang)],
                textposition="auto",
                hovertemplate=f"%{{y}}: %{{x:,.4g}} {escape_text(r.unit)}<extra></extra>",
                showlegend=False,
            ),
            row=index // columns + 1,
            col=index % columns + 1,
        )
    figure.update_annotations(font_size=11)
    figure.update_yaxes(autorange="reversed")
    finish_layout(figure, title, height=90 + 150 * rows, lang=lang)
    missing = data[data.value.isna() | data.nl_value.isna()]
    note = ""
    if not missing.empty:
        note = t("chart.region_vs_nl.missing", lang, titles="; ".join(missing.title))
    summary = describe_region_vs_nl(data, title, region_name, lang)
    return Chart("region-vs-nl", title, data, figure, note, summary)


def bar_verdicts(claims: pd.DataFrame, title: str | None = None, lang: str | None = None) -> Chart:
    """How many claims of each theme got each verdict (stacked bars).
    ``claims``: ``claims.evaluate_claims``."""
    lang = i18n.resolve(lang)
    title = t("chart.verdicts.title", lang) if title is None else title
    titles = {k: i18n.declared(v, "title", lang) for k, v in load_themes().items()}
    data = (
        claims.groupby(["theme", "verdict"], sort=False, observed=True)
        .size()
        .rename("claims")
        .reset_index()
    )
    if data.empty:
        return Chart("verdicts", title, data, None, t("chart.verdicts.none", lang))
    data.insert(1, "theme_title", data.theme.map(titles).fillna(data.theme))
    themes = [escape_text(titles.get(t, t)) for t in dict.fromkeys(claims.theme)]
    figure = go.Figure()
    for verdict in [v for v in Verdict if v in set(data.verdict)]:
        rows = data[data.verdict == verdict]
        figure.add_trace(
            go.Bar(
                x=rows.claims.tolist(),
                y=[escape_text(t) for t in rows.theme_title],
                orientation="h",
                name=escape_text(verdict_name(verdict, lang)),
                marker_color=verdict.colour,
                hovertemplate=escape_text(t("chart.verdicts.hover", lang))
                + f"<extra>{escape_text(verdict_name(verdict, lang))}</extra>",
            )
        )
    finish_layout(figure, title, height=min(900, 180 + 32 * len(themes)), lang=lang)
    figure.update_layout(
        barmode="stack",
        legend={"orientation": "h", "y": 1.0, "yanchor": "bottom", "traceorder": "normal"},
        margin={"t": 90},
    )
    figure.update_xaxes(title_text=t("chart.verdicts.axis", lang), dtick=1)
    figure.update_yaxes(categoryorder="array", categoryarray=themes[::-1])
    return Chart("verdicts", title, data, figure, summary=describe_verdicts(data, title, lang))


def finish_layout(figure: go.Figure, title: str, height: int, lang: str | None = None) -> None:
    lang = i18n.resolve(lang)
    figure.update_layout(
        template=_TEMPLATE,
        title={"text": escape_text(title), "x": 0, "xanchor": "left"},
        height=height,
        separators=i18n.plotly_separators(lang),
    )


def _n(value: Any, lang: str, decimals: int | None = None) -> str:
    return i18n.number(float(value), lang, decimals) if not i18n.is_missing(value) else "–"


def _decimals(indicator_id: Any) -> int | None:
    indicator = load_indicators().get(str(indicator_id))
    return indicator.decimals if indicator is not None else None


def describe_trend(data: pd.DataFrame, title: str, lang: str, region: str | None = None) -> str:
    """ "<title>, 2010–2023. In 2023: Noord-Nederland 1,98; Nederland 1,00. Noord-Nederland: 1e
    van 4." from the rows a trend chart draws (its latest year, every region drawn; an index
    chart says so)."""
    measure = "value_index" if "value_index" in data else "value"
    decimals = None if measure == "value_index" else _decimals(data.indicator_id.iloc[0])
    latest = int(data.year.max())
    rows = data[data.year == latest]
    values = "; ".join(
        t(
            "chart.alt.pair",
            lang,
            region=r.region_name,
            value=_n(getattr(r, measure), lang, decimals),
        )
        for r in rows.itertuples()
    )
    first = rows.iloc[0] if len(rows) else None
    place = ""
    own = region or data.region_code.iloc[0]  # the report's region: its place among those drawn
    is_own = first is not None and first.region_code == own and own != NETHERLANDS
    if is_own and len(rows) > 1 and not i18n.is_missing(first[measure]):
        rank = int((rows[measure] > first[measure]).sum()) + 1
        place = t("chart.alt.place", lang, region=first.region_name, rank=rank, n=len(rows))
    if measure == "value_index":
        title = t("chart.alt.as_index", lang, title=title, first=int(data.year.min()))
    return t(
        "chart.alt.trend", lang, title=title, first=int(data.year.min()), last=latest,
        values=values, place=place,
    )  # fmt: skip


def describe_sectors(data: pd.DataFrame, title: str, lang: str) -> str:
    """The first region's location quotient per sector (Nederland = 1) and its highest one."""
    own = data[data.region_code == data.region_code.iloc[0]]
    pairs = "; ".join(
        t("chart.alt.pair", lang, region=r.sector_name, value=_n(r.location_quotient, lang, 2))
        for r in own.itertuples()
    )
    return t("chart.alt.sectors", lang, title=title, region=own.region_name.iloc[0], pairs=pairs)


def _shown_region(row: Any, region_name: str, lang: str) -> str:
    """The region a profile figure is of: the report's, or the province it lies in."""
    fallback = getattr(row, "fallback_region_name", None)
    return t("chart.alt.only", lang, region=fallback) if isinstance(fallback, str) else region_name


def describe_region_vs_nl(data: pd.DataFrame, title: str, region_name: str, lang: str) -> str:
    """Each figure of the profile: the region's value and Nederland's."""
    pairs = "; ".join(
        t(
            "chart.alt.vs_nl",
            lang,
            figure=r.title,
            region=_shown_region(r, region_name, lang),
            value=_n(r.value, lang, _decimals(r.indicator_id)),
            nl=_n(r.nl_value, lang, _decimals(r.indicator_id)),
        )
        for r in data.itertuples()
    )
    return f"{title}. {pairs}."


def describe_verdicts(data: pd.DataFrame, title: str, lang: str) -> str:
    """How many claims got each verdict, over all themes."""
    counts = data.groupby("verdict", sort=False, observed=True).claims.sum()
    pairs = "; ".join(
        t("chart.alt.pair", lang, region=verdict_name(v, lang), value=int(counts[v]))
        for v in Verdict
        if v in counts.index
    )
    return f"{title}. {pairs}."


def describe_map(data: pd.DataFrame, title: str, highlight: str | None, lang: str) -> str:
    """The map's highest and lowest area, and the highlighted region's figure where it has one."""
    known = data.dropna(subset=["value"])
    if known.empty:
        return title
    top = known.loc[known.value.idxmax()]
    low = known.loc[known.value.idxmin()]
    own = known[known.region_code == highlight]
    text = t(
        "chart.alt.map", lang, title=title, n=len(known),
        high=t("chart.alt.pair", lang, region=top.region_name, value=_n(top.value, lang)),
        low=t("chart.alt.pair", lang, region=low.region_name, value=_n(low.value, lang)),
    )  # fmt: skip
    if not own.empty:
        r = own.iloc[0]
        text += " " + t("chart.alt.pair", lang, region=r.region_name, value=_n(r.value, lang)) + "."
    return text


def show_chart(chart: Chart, lang: str | None = None) -> None:
    """Display a chart (or why there is none), its footnote and a link to download its data."""
    lang = i18n.resolve(lang)
    # deferred: IPython is needed only inside a kernel
    from IPython.display import HTML, display

    if chart.figure is None:
        display(HTML(render_note(f"{chart.title}: {chart.note}")))
        return
    figure = json.loads(pio.to_json(chart.figure, validate=False, engine="json"))
    bundle = {PLOTLY_MIMETYPE: figure, "text/html": render_chart_html(chart, figure, lang)}
    display(bundle, raw=True)
    # the footnote and the link, one output as the page shows them; the kept notebook keeps only
    # the footnote (the analyst has the frame; the link would hold the rows a second time)
    note = render_note(chart.note) if chart.note else ""
    display(
        {"text/html": note + render_csv_link(chart, lang)},
        raw=True,
        metadata={OUTPUT_METADATA_KEY: page_only(note)},
    )


def render_note(text: str) -> str:
    return f'<p class="noordstats-note">{html.escape(text)}</p>'


def render_chart_html(chart: Chart, figure: dict[str, Any], lang: str | None = None) -> str:
    """A ``div`` and the script that draws ``figure`` (the chart's figure as plotly JSON) into
    it with the page's plotly.js."""
    lang = i18n.resolve(lang)
    return chart_html(chart.chart_id, figure, lang, chart.summary or chart.title)


def chart_html(
    chart_id: str, figure: dict[str, Any], lang: str | None = None, summary: str = ""
) -> str:
    """The HTML of one chart: a ``figure`` holding a ``div`` with a note that says how to get
    the chart where no plotly.js is loaded (a page exported with plain ``--to html``, a mail
    reader), a script that replaces the note by the chart when plotly.js is there, and a
    ``figcaption`` with the chart's text alternative (``summary``; else the figure's title),
    which is the figure's accessible name and is printed with it."""
    lang = i18n.resolve(lang)
    if not summary:
        title = figure.get("layout", {}).get("title", {})
        summary = html.unescape(str(title.get("text", ""))) if isinstance(title, dict) else ""
    caption = html.escape(summary or t("chart.alt.unnamed", lang))
    digest = hashlib.sha1(json.dumps(figure, sort_keys=True).encode()).hexdigest()[:10]
    div_id = f"{chart_id}-{digest}"
    height = int(figure.get("layout", {}).get("height", 450))
    fallback = html.escape(t("chart.fallback", lang))
    layout = dict(figure.get("layout", {}))
    layout_js = _script_json(layout)
    if layout.get("template") == template_json():  # the page holds it once
        del layout["template"]
        shared = f"{{template: window.{TEMPLATE_VARIABLE}}}"
        layout_js = f"Object.assign({shared}, {_script_json(layout)})"
    return (
        f'<figure class="noordstats-chart" data-chart-id="{html.escape(chart_id)}" '
        f'aria-labelledby="{div_id}-caption">'
        f'<div id="{div_id}" class="plotly-graph-div" style="height:{height}px;width:100%">'
        f'<p class="noordstats-chart-fallback">{fallback}</p>'
        "</div><script>(function () {"
        f'var el = document.getElementById("{div_id}");'
        "if (!window.Plotly) {return;}"
        "el.textContent = '';"
        f"Plotly.newPlot(el, {_script_json(figure.get('data', []))}, "
        f"{layout_js}, {_script_json(_CONFIG)});"
        "})();</script>"
        f'<figcaption id="{div_id}-caption" class="noordstats-chart-text">{caption}</figcaption>'
        "</figure>"
    )


@cache
def template_json() -> dict[str, Any]:
    """The charts' template as plotly JSON: what every figure built here holds in
    ``layout.template``, ~540 bytes."""
    figure = go.Figure(layout={"template": _TEMPLATE})
    return json.loads(pio.to_json(figure, validate=False, engine="json"))["layout"]["template"]


def chart_template_script() -> str:
    """JavaScript that defines the charts' template once for a page (the report template puts
    it in the page's head): a chart whose figure has this template refers to it instead of
    holding a copy. Where a chart's HTML runs without it, plotly.js draws the chart in its own
    default look."""
    return f"window.{TEMPLATE_VARIABLE} = {_script_json(template_json())};"


def _script_json(value: Any) -> str:
    """JSON that is safe inside a ``<script>`` element (no ``</script>``, no ``<!--``)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).replace("<", "\\u003c")


def render_csv_link(chart: Chart, lang: str | None = None) -> str:
    """An ``<a download>`` whose ``data:`` URI holds exactly the chart's rows (no request), with
    headers in ``lang`` and written as spreadsheets of ``lang`` read CSV."""
    lang = i18n.resolve(lang)
    name = html.escape(f"{chart.chart_id}.csv")
    text = html.escape(t("chart.download", lang, n=len(chart.data)))
    return (
        f'<p class="noordstats-download"><a download="{name}" class="noordstats-chart-csv" '
        f'href="{csv_href(chart.data, lang)}">{text}</a></p>'
    )
