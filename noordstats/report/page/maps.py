"""Maps for the report notebooks: an indicator for every COROP area (or province), drawn from
the shipped GeoJSON, with the report's region outlined. Areas without a figure stay grey."""

from __future__ import annotations

import json
import math
from functools import cache

import pandas as pd
import plotly.graph_objects as go
from plotly.colors import sample_colorscale

from noordstats import i18n, paths, regions
from noordstats.analysis import indicators
from noordstats.declarations.files import ConfigError
from noordstats.declarations.indicators import load_indicators
from noordstats.i18n import t
from noordstats.report import wording
from noordstats.report.page import charts
from noordstats.report.page.charts import Chart, escape_text, finish_layout

MAP_COLOURSCALE = "Blues"


MISSING_FILL = "#d9d9d9"


#: degrees of longitude per degree of latitude on screen at the Netherlands' latitude (~52.2 N)
MAP_ASPECT = 1 / math.cos(math.radians(52.2))


def map_indicator(
    indicator_ids: list[str],
    highlight: str | None = None,
    source: str = "snapshot",
    lang: str | None = None,
) -> Chart:
    """A map of the first of ``indicator_ids`` that has figures for COROP areas (else for
    provinces), latest year; the COROP areas of ``highlight`` are outlined."""
    lang = i18n.resolve(lang)
    for indicator_id in indicator_ids:
        indicator = load_indicators()[indicator_id]
        for level in ("CR", "PV"):
            try:
                values = indicators.map_values(indicator_id, level=level, source=source)
            except ConfigError:
                continue
            values = wording.with_unit(values, indicator, "year", lang)
            title = f"{i18n.declared(indicator, 'title', lang)}, {values.year.iloc[0]}"
            return map_regions(values, title, highlight, lang)
    empty = pd.DataFrame(columns=["region_code", "region_name", "value", "unit"])
    return Chart("map", t("map.title", lang), empty, None, t("map.none", lang))


def map_regions(
    values: pd.DataFrame, title: str, highlight: str | None = None, lang: str | None = None
) -> Chart:
    """A choropleth of one indicator for every COROP area or province (provinces are drawn by
    filling their COROP areas). ``values``: ``indicators.map_values``. Drawn as filled shapes on
    plain axes, so the page needs no map tiles or base-map downloads."""
    lang = i18n.resolve(lang)
    data = values.reset_index(drop=True)
    level = str(data.region_code.iloc[0])[:2] if not data.empty else ""
    chart_id = f"map-{level.lower()}"
    if level not in {"CR", "PV"}:
        return Chart(chart_id, title, data, None, t("map.levels", lang))
    province_of = regions.load_regions().set_index("region_code").province_code
    by_code = data.set_index("region_code")
    finite = data.value.dropna()
    low, high = (float(finite.min()), float(finite.max())) if len(finite) else (0.0, 1.0)
    unit = str(data.unit.iloc[0])
    outlined = _corop_areas_within(highlight)
    figure = go.Figure()
    for code, (lon, lat) in _corop_shapes().items():
        area = code if level == "CR" else province_of[code]
        known = area in by_code.index
        value = float(by_code.at[area, "value"]) if known else math.nan
        name = by_code.at[area, "region_name"] if known else regions.region_name(area)
        fill = MISSING_FILL
        if not math.isnan(value):
            fill = sample_colorscale(MAP_COLOURSCALE, [_scale(value, low, high)])[0]
        figure.add_trace(
            go.Scatter(
                x=lon,
                y=lat,
                mode="lines",
                fill="toself",
                fillcolor=fill,
                line={
                    "color": "#222" if code in outlined else "white",
                    "width": 1.6 if code in outlined else 0.6,
                },
                hoveron="fills",
                hoverinfo="text",
                text=escape_text(f"{name} ({area}): {i18n.number(value, lang)} {unit}"),
                showlegend=False,
            )
        )
    figure.add_trace(_colour_bar(low, high, unit))
    finish_layout(figure, title, height=560, lang=lang)
    figure.update_xaxes(visible=False)
    figure.update_yaxes(visible=False, scaleanchor="x", scaleratio=MAP_ASPECT)
    note = t("map.grey", lang) if data.value.isna().any() else ""
    summary = charts.describe_map(data, title, highlight, lang)
    return Chart(chart_id, title, data, figure, note, summary)


def _colour_bar(low: float, high: float, unit: str) -> go.Scatter:
    """An invisible trace that carries the map's colour scale."""
    return go.Scatter(
        x=[None],
        y=[None],
        mode="markers",
        marker={
            "color": [low, high],
            "colorscale": MAP_COLOURSCALE,
            "cmin": low,
            "cmax": high,
            "showscale": True,
            "colorbar": {"title": {"text": escape_text(unit)}, "thickness": 14},
        },
        hoverinfo="skip",
        showlegend=False,
    )


def _corop_areas_within(region: str | None) -> set[str]:
    if not region or region[:2] not in regions.REPORT_LEVELS:
        return set()
    return {region} if region.startswith("CR") else set(regions.corop_areas_of(region))


def _scale(value: float, low: float, high: float) -> float:
    return 0.5 if high == low else (value - low) / (high - low)


@cache
def _corop_shapes() -> dict[str, tuple[list, list]]:
    """COROP code -> (longitudes, latitudes) of its outline rings, separated by None."""
    collection = json.loads(paths.COROP_GEOJSON_FILE.read_text(encoding="utf-8"))
    shapes = {}
    for feature in collection["features"]:
        geometry = feature["geometry"]
        polygons = geometry["coordinates"]
        if geometry["type"] == "Polygon":
            polygons = [polygons]
        lon: list = []
        lat: list = []
        for polygon in polygons:
            for ring in polygon:
                lon += [point[0] for point in ring] + [None]
                lat += [point[1] for point in ring] + [None]
        shapes[feature["properties"]["statcode"]] = (lon, lat)
    return dict(sorted(shapes.items()))
