"""Pure arithmetic of the indicators: shares, location quotients, growth, ranks.

Every function takes plain numbers or pandas objects and propagates NaN: a missing (secret,
unpublished) input gives a missing result, never a zero.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

Number = float | pd.Series


def compute_share_pct(part: Number, total: Number) -> Number:
    """``part / total x 100`` (NaN where total is 0 or missing)."""
    return _divide(part, total) * 100.0


def compute_ratio(numerator: Number, denominator: Number) -> Number:
    """``numerator / denominator`` (NaN where the denominator is 0 or missing)."""
    return _divide(numerator, denominator)


def compute_per_1000(count: Number, inhabitants: Number) -> Number:
    """``count / inhabitants x 1000``."""
    return _divide(count, inhabitants) * 1000.0


def compute_location_quotient(
    region_part: Number, region_total: Number, nl_part: Number, nl_total: Number
) -> Number:
    """LQ = (region part / region total) / (NL part / NL total); 1 = same weight as NL."""
    return _divide(_divide(region_part, region_total), _divide(nl_part, nl_total))


def compute_growth_pct(start: Number, end: Number) -> Number:
    """% change from ``start`` to ``end``."""
    return (_divide(end, start) - 1.0) * 100.0


def compute_cagr_pct(start: Number, end: Number, years: int) -> Number:
    """Average annual % change from ``start`` to ``end`` over ``years`` years."""
    if years <= 0:
        raise ValueError("years must be positive")
    ratio = _divide(end, start)
    return (np.power(ratio, 1.0 / years) - 1.0) * 100.0


def compute_chained_cagr_pct(
    yearly_changes_pct: pd.DataFrame, span: int, skipped: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Average annual % change over the ``span`` years ending in each year, compounded from
    yearly % changes (rows: consecutive years; columns: series). NaN where any of those ``span``
    yearly changes is missing. A year marked True in ``skipped`` (same shape; a series break)
    does not count: the figure is the average over the other years of the span, each of which
    must be published."""
    if skipped is None:
        skipped = pd.DataFrame(
            False, index=yearly_changes_pct.index, columns=yearly_changes_pct.columns
        )
    logs = np.log1p(yearly_changes_pct.where(~skipped) / 100.0)
    counted = logs.notna().astype(int).rolling(span, min_periods=span).sum()
    complete = (counted + skipped.astype(int).rolling(span, min_periods=span).sum()) == span
    sums = logs.fillna(0.0).rolling(span, min_periods=span).sum()
    averaged = (sums / counted.where(counted > 0)).where(complete)
    return np.expm1(averaged) * 100.0


def rank_values(values: pd.Series, better: str) -> pd.Series:
    """Rank 1 = best: highest first when ``better`` is 'higher' or 'neutral', lowest first when
    'lower'. Missing values get no rank (NaN); ties share the best rank."""
    ascending = better == "lower"
    return values.rank(ascending=ascending, method="min", na_option="keep")


def _divide(numerator: Number, denominator: Number) -> Number:
    if isinstance(numerator, pd.Series) or isinstance(denominator, pd.Series):
        denom = (
            denominator.where(denominator != 0)
            if isinstance(denominator, pd.Series)
            else (np.nan if denominator == 0 else denominator)
        )
        return numerator / denom
    if denominator == 0 or pd.isna(denominator) or pd.isna(numerator):
        return float("nan")
    return float(numerator) / float(denominator)
