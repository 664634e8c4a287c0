"""One honest statement of how fresh a report's data is, made from the tables' origin records.

:func:`describe_freshness` is a pure function: origin records (``TableOrigin`` fields, as the
notebook summary carries them) and a language in, words out. It says first, in one sentence,
what happened (every CBS table fetched live today; or CBS could not be reached, and the figures
come from the copy shipped with noordstats of a given date), then groups the tables by what
happened to them: live, from the cache, from the shipped copy, and from publishers other than
CBS. A table that is not CBS's (DUO's) is never asked for live: it is out of date only by its
own declared rule (``release`` in ``data/tables.yaml``), not an alarm because CBS was asked.
Every word comes from the catalogue in the page's language; periods are written as words.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from noordstats import i18n
from noordstats.cbs_codes import describe_period
from noordstats.i18n import t

#: the groups of the folded-away list, in the order a reader sees them
GROUPS = ("snapshot", "cache", "live", "other")
REASON_KINDS = ("unreachable", "unusable", "not_live")


@dataclass(frozen=True)
class Freshness:
    """What a page says about its data: a sentence, whether it is an alarm, and the tables
    grouped by what happened to them (``(group, heading, items)``, empty groups left out)."""

    sentence: str
    is_alarm: bool
    groups: list[tuple[str, str, list[str]]] = field(default_factory=list)


def group_of(table: dict[str, Any]) -> str:
    """``live``, ``cache`` or ``snapshot`` for a CBS table; ``other`` for another publisher's."""
    if (table.get("publisher") or "CBS") != "CBS":
        return "other"
    return table.get("source") if table.get("source") in ("live", "cache") else "snapshot"


def is_overdue(table: dict[str, Any], today: dt.date) -> bool:
    """A table that is not CBS's is out of date once today is past its declared last day."""
    last_day = table.get("overdue_after")
    return bool(last_day) and today > dt.date.fromisoformat(str(last_day)[:10])


def is_stale(table: dict[str, Any], today: dt.date | None = None) -> bool:
    """Asked for live and not delivered (a CBS table), or past its own rule (another
    publisher's)."""
    if group_of(table) == "other":
        return is_overdue(table, today or dt.date.today())
    return bool(table.get("stale_reason"))


def describe_freshness(
    tables: Iterable[dict[str, Any]], lang: str, today: dt.date | None = None
) -> Freshness:
    """The freshness statement of a page whose tables have these origin records."""
    today = today or dt.date.today()
    tables = list(tables)
    grouped: dict[str, list[dict[str, Any]]] = {g: [] for g in GROUPS}
    for table in tables:
        grouped[group_of(table)].append(table)
    cbs = [t_ for g in ("snapshot", "cache", "live") for t_ in grouped[g]]
    fallen_back = [t_ for t_ in cbs if t_.get("stale_reason")]
    overdue = [t_ for t_ in grouped["other"] if is_overdue(t_, today)]
    parts = [_cbs_sentence(grouped, cbs, fallen_back, lang)] if cbs else []
    parts += [t("fresh.other_overdue", lang, **_other_fields(x, lang)) for x in overdue]
    if not parts:
        parts = [t("fresh.other_only", lang)]
    groups = [
        (
            g,
            t(f"fresh.group.{g}", lang, n=len(grouped[g])),
            [_item(x, g, lang, today) for x in grouped[g]],
        )
        for g in GROUPS
        if grouped[g]
    ]
    return Freshness(" ".join(parts), bool(fallen_back or overdue), groups)


def _cbs_sentence(
    grouped: dict[str, list[dict[str, Any]]],
    cbs: list[dict[str, Any]],
    fallen_back: list[dict[str, Any]],
    lang: str,
) -> str:
    asked = sorted(x["asked_at"] for x in cbs if x.get("asked_at"))
    if not fallen_back:
        if len(grouped["live"]) == len(cbs):
            return t(
                "fresh.all_live", lang, n=len(cbs), date=_date(asked[0] if asked else None, lang)
            )
        return t("fresh.as_shipped", lang, n=len(cbs), dates=_span(_captured(cbs), lang))
    when = _when(asked[0] if asked else None, lang)
    kinds = {x.get("stale_kind") for x in fallen_back}
    if not grouped["live"] and kinds == {"unreachable"}:
        problem = t("fresh.unreachable", lang, when=when)
    else:
        problem = t("fresh.not_fetched", lang, k=len(fallen_back), n=len(cbs), when=when)
    clauses = []
    only = len([g for g in ("snapshot", "cache", "live") if grouped[g]]) == 1
    if grouped["snapshot"]:
        dates = _span(_captured(grouped["snapshot"]), lang)
        key = "fresh.all_snapshot" if only else "fresh.n_snapshot"
        clauses.append(t(key, lang, n=len(grouped["snapshot"]), dates=dates))
    if grouped["cache"]:
        dates = _span([x.get("fetched_at") for x in grouped["cache"]], lang)
        key = "fresh.all_cache" if only else "fresh.n_cache"
        clauses.append(t(key, lang, n=len(grouped["cache"]), dates=dates))
    if grouped["live"]:
        clauses.append(t("fresh.n_live", lang, n=len(grouped["live"])))
    return t("fresh.sentence", lang, problem=problem, origins=t("fresh.and", lang).join(clauses))


def _item(table: dict[str, Any], group: str, lang: str, today: dt.date) -> str:
    period = describe_period(table.get("latest_period"), lang)
    if group == "other":
        text = t("fresh.item.other", lang, period=period, **_other_fields(table, lang))
        if is_overdue(table, today):
            text += t("fresh.item.overdue", lang, date=i18n.date(table.get("overdue_after"), lang))
        return text
    fields = {
        "table": table.get("table_id"),
        "period": period,
        "date": _date(table.get("data_date"), lang),
        "captured": _date(table.get("captured"), lang),
        "fetched": _date(table.get("fetched_at"), lang),
    }
    text = t(f"fresh.item.{group}", lang, **fields)
    if table.get("api"):
        text += t("fresh.item.api", lang, api=table["api"])
    if table.get("stale_reason"):
        text += t("fresh.item.reason", lang, reason=reason_words(table.get("stale_kind"), lang))
    return text


def reason_words(kind: str | None, lang: str) -> str:
    """Why CBS did not deliver a table, in ``lang`` (the error's own text stays in the run
    record, ``run.json``, for the operator)."""
    return t(f"fresh.reason.{kind if kind in REASON_KINDS else 'unknown'}", lang)


def _other_fields(table: dict[str, Any], lang: str) -> dict[str, str]:
    return {
        "table": str(table.get("table_id")),
        "publisher": str(table.get("publisher")),
        "date": _date(table.get("data_date"), lang),
    }


def _captured(tables: list[dict[str, Any]]) -> list[str | None]:
    return [x.get("captured") for x in tables]


def _date(value: str | None, lang: str) -> str:
    return i18n.date(value[:10] if value else None, lang)


def _when(stamp: str | None, lang: str) -> str:
    """``7 december 2026 06:00`` from an ISO date-time (the date alone when there is no time)."""
    if not stamp:
        return t("date.unknown", lang)
    if len(stamp) < 16:
        return _date(stamp, lang)
    return t("fresh.datetime", lang, date=_date(stamp, lang), time=stamp[11:16])


def _span(dates: list[str | None], lang: str) -> str:
    """``op 22 april 2025``, or ``tussen ... en ...`` for several (unknown dates left out)."""
    known = sorted({d[:10] for d in dates if d})
    if not known:
        return t("date.unknown", lang)
    if len(known) == 1:
        return t("fresh.on", lang, date=_date(known[0], lang))
    return t("fresh.range", lang, first=_date(known[0], lang), last=_date(known[-1], lang))
