"""Maps for the report notebooks: an indicator for every COROP area (or province), drawn from
the shipped GeoJSON, with the report's region outlined. Areas without a figure stay grey.

The outlines are drawing, not a statistic: they are simplified to half a pixel of the drawn map
(neighbours keep one common border) and written as integer thousandths of a degree, which draws
the same map in about a third fewer bytes (each map is in the page and in the kept notebook)."""

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

#: a point of an outline, as (longitude, latitude)
Point = tuple[float, float]


MISSING_FILL = "#d9d9d9"


#: degrees of longitude per degree of latitude on screen at the Netherlands' latitude (~52.2 N)
MAP_ASPECT = 1 / math.cos(math.radians(52.2))
#: the map's height on the page (px), and the height of its plot area (the charts' margins taken
#: off): the Netherlands fills that height on a page wider than about 500 px, less on a narrower
MAP_HEIGHT = 560
MAP_PLOT_HEIGHT = MAP_HEIGHT - charts.CHART_MARGIN["t"] - charts.CHART_MARGIN["b"]
#: how far (in screen pixels, at the map's largest drawn size) a simplified outline may stray
#: from the file's: the outlines are drawing, not a statistic, and half a pixel does not show
SIMPLIFY_PIXELS = 0.5
#: outlines are drawn in thousandths of a degree from the south-west corner of the areas (the
#: shipped file's own precision), as integers: the same drawing in fewer bytes
COORDINATE_SCALE = 1000


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
    finish_layout(figure, title, height=MAP_HEIGHT, lang=lang)
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
    """COROP code -> (x, y) of its outline rings, separated by None: the shipped outlines
    simplified to half a pixel of the drawn map (:func:`_simplify`), in integer thousandths of a
    degree east and north of the areas' south-west corner."""
    collection = json.loads(paths.COROP_GEOJSON_FILE.read_text(encoding="utf-8"))
    rings: list[tuple[str, list[Point]]] = []
    for feature in collection["features"]:
        geometry = feature["geometry"]
        polygons = geometry["coordinates"]
        if geometry["type"] == "Polygon":
            polygons = [polygons]
        code = feature["properties"]["statcode"]
        rings += [(code, [(p[0], p[1]) for p in ring]) for polygon in polygons for ring in polygon]
    points = [p for _, ring in rings for p in ring]
    west, south = min(p[0] for p in points), min(p[1] for p in points)
    north = max(p[1] for p in points)
    tolerance = SIMPLIFY_PIXELS * (north - south) / MAP_PLOT_HEIGHT  # degrees of latitude
    simplified = _simplify([ring for _, ring in rings], tolerance)
    shapes: dict[str, tuple[list, list]] = {}
    for (code, _), ring in zip(rings, simplified, strict=True):
        x, y = shapes.setdefault(code, ([], []))
        x += [round((p[0] - west) * COORDINATE_SCALE) for p in ring] + [None]
        y += [round((p[1] - south) * COORDINATE_SCALE) for p in ring] + [None]
    return dict(sorted(shapes.items()))


def _simplify(rings: list[list[Point]], tolerance: float) -> list[list[Point]]:
    """Closed rings (longitude, latitude) simplified by Douglas-Peucker: no point further than
    ``tolerance`` (degrees of latitude, as drawn: longitude counts ``1 / MAP_ASPECT``) from the
    outline. Each stretch of border between the points where the areas that share it change is
    simplified once, so two neighbours keep one common border (no slivers or gaps between
    them). A ring too small to keep three corners stays as it is."""
    owners: dict[Point, set[int]] = {}
    for index, ring in enumerate(rings):
        for point in ring:
            owners.setdefault(point, set()).add(index)
    done: dict[tuple[Point, ...], list[Point]] = {}
    result = []
    for ring in rings:
        points = ring[:-1] if ring[0] == ring[-1] else ring
        count = len(points)
        nodes = [
            k
            for k in range(count)
            if owners[points[k]] != owners[points[k - 1]]
            or owners[points[k]] != owners[points[(k + 1) % count]]
        ]
        if len(nodes) < 2:  # not shared, or shared whole: two corners any copy would pick
            first = points.index(min(points))
            far = max(range(count), key=lambda k: _distance(points[k], points[first]))
            nodes = sorted({first, far})
        out: list[Point] = []
        for start, end in zip(nodes, nodes[1:] + nodes[:1], strict=True):
            stretch = tuple(
                points[k % count] for k in range(start, end + (count if end <= start else 0) + 1)
            )
            key = min(stretch, stretch[::-1])
            if key not in done:
                done[key] = _douglas_peucker(list(key), tolerance)
            kept = done[key] if key == stretch else done[key][::-1]
            out += kept[:-1]
        out.append(out[0])
        result.append(out if len(out) >= 4 else list(ring))
    return result


def _douglas_peucker(points: list[Point], tolerance: float) -> list[Point]:
    """``points`` without those within ``tolerance`` of the line the others draw (ends kept)."""
    if len(points) < 3:
        return points
    distances = [_distance(p, points[0], points[-1]) for p in points[1:-1]]
    far = max(range(len(distances)), key=distances.__getitem__) + 1
    if distances[far - 1] <= tolerance:
        return [points[0], points[-1]]
    return _douglas_peucker(points[: far + 1], tolerance)[:-1] + _douglas_peucker(
        points[far:], tolerance
    )


def _distance(point: Point, start: Point, end: Point | None = None) -> float:
    """How far ``point`` lies from the segment ``start``-``end`` (from ``start`` when there is no
    end), as drawn: in degrees of latitude, a degree of longitude counting ``1 / MAP_ASPECT``."""
    px, py = point[0] / MAP_ASPECT, point[1]
    ax, ay = start[0] / MAP_ASPECT, start[1]
    bx, by = (end[0] / MAP_ASPECT, end[1]) if end is not None else (ax, ay)
    length = (bx - ax) ** 2 + (by - ay) ** 2
    share = 0.0 if length == 0 else ((px - ax) * (bx - ax) + (py - ay) * (by - ay)) / length
    share = min(1.0, max(0.0, share))
    return math.hypot(px - ax - share * (bx - ax), py - ay - share * (by - ay))
