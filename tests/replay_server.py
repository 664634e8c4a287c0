"""An OData v3 replay server for the tests: it serves snapshot tables the way opendata.cbs.nl
does, so that ``cbsodata`` itself makes real HTTP requests against it (127.0.0.1, a free port),
and the recorded answers of the real service (``tests/fixtures/cbs-api``, see
``tests/cbs_recordings.py``) as CBS sent them.

Routes, under both ``/ODataApi/OData`` and ``/ODataFeed/OData`` (any case: cbsodata 1.3 asks
``/ODataFeed/odata``, CBS's own links say ``OData``; a slash after the resource is allowed):

    /<prefix>/<table>/                    the table root listing (TypedDataSet and UntypedDataSet)
    /<prefix>/<table>/TableInfos          Identifier, Title, Modified, RecordCount, ...
    /<prefix>/<table>/DataProperties      dimensions (Dimension / GeoDimension / TimeDimension),
                                          TopicGroups (Key "", Position null) and the topics
                                          nested in them by ParentID (Key, Title, Unit, Decimals,
                                          Datatype Long/Double, Default, PresentationType)
    /<prefix>/<table>/CategoryGroups      empty
    /<prefix>/<table>/<Dimension>         code list: Key, Title (and Status for the periods)
    /<prefix>/<table>/TypedDataSet        rows with codes: numbers, null for missing
    /<prefix>/<table>/UntypedDataSet      rows with codes: right-aligned strings, '.' for missing
    /ODataCatalog/Tables                  the recorded catalog entries, and one per snapshot table

The real format, for every table (checked against the recordings in
``tests/test_cbs_wire_format.py``): pages of 10,000 rows (``page_size``: smaller for paging
tests) linked by ``odata.nextLink`` of the form
``http://<host>/ODataFeed/OData/<table>/<Resource>/?$format=json&$skip=10000`` (capital "OData",
a slash after the resource, a literal ``$``; the request's ``$filter``/``$select`` kept);
period Status spelled as CBS does (``Definitief``, ``Voorlopig``, ``NaderVoorlopig``; '' where the
snapshot does not know it); keys padded to one width per dimension (``'PV20  '``), in the code
list and in the rows alike; a trailing space on some titles, as CBS has them (``'2011 december '``:
the snapshot lost which, so the server puts one on the titles of provisional periods and on the
last title of every code list); HTTP 400 for a ``$filter`` or ``$select`` naming a property the
resource lacks. Recorded tables (80137ned, 83599NED, 84799NED) are served from the recordings: a
request CBS's own answer fits (no ``$filter``/``$select``/``$top``, the server's page size equal
to the recording's) gets the recorded bytes, with only the scheme and host of ``odata.nextLink``
rewritten to this server; any other request is answered from the recorded rows. A resource that
was not recorded is a 404.

Every collection honours ``$filter`` (eq, ne, startswith, endswith, substringof, and, or, not,
parentheses), ``$select``, ``$skip`` and ``$top``.

Every request is logged in ``server.requests``. Faults are injected with ``server.add_fault``:
a :class:`Fault` matches requests (by resource and an optional predicate) and replaces the
normal answer by an action from :data:`ACTIONS` (an HTTP status with headers, a connection
reset, a delay, a truncated body, a rewritten body). New fault modes are new actions.
"""

from __future__ import annotations

import dataclasses
import json
import re
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

import pandas as pd

from noordstats import paths
from noordstats.declarations.tables import declarations, get_declaration
from noordstats.storage import store
from tests import cbs_recordings
from tests.cbs_recordings import RecordedResource

PREFIXES = ("ODataApi/OData", "ODataFeed/OData")
#: fields of a catalog entry that a table's TableInfos does not have
CATALOG_ONLY_FIELDS = ("Updated", "ApiUrl", "FeedUrl", "SummaryAndLinks")
CATALOG_PATH = "/ODataCatalog/Tables"
DEFAULT_PAGE_SIZE = cbs_recordings.CBS_PAGE_SIZE  # 10,000, as CBS pages
#: CBS's spelling of a period status (OData v3 Perioden ``Status``), by the project's name
CBS_STATUS = {
    "definitief": "Definitief",
    "voorlopig": "Voorlopig",
    "nader voorlopig": "NaderVoorlopig",
}
_MONTHS = [
    "januari", "februari", "maart", "april", "mei", "juni",
    "juli", "augustus", "september", "oktober", "november", "december",
]  # fmt: skip


# ---------------------------------------------------------------- tables in the v3 wire format


@dataclass
class ServedTable:
    """One table as CBS's OData v3 service describes it; a resource that is None is not served
    (404: not recorded). ``recorded``: resources whose recorded bytes can be served as they are,
    as long as the collection is still the recorded one (an override replaces it)."""

    table_id: str
    info: dict[str, Any] | None
    properties: list[dict[str, Any]] | None
    code_lists: dict[str, list[dict[str, Any]]]
    typed_rows: list[dict[str, Any]] | None
    untyped_rows: list[dict[str, Any]] | None
    category_groups: list[dict[str, Any]] | None = field(default_factory=list)
    recorded: dict[str, RecordedResource] = field(default_factory=dict)

    def resources(self) -> list[str]:
        fixed = ["TableInfos", "UntypedDataSet", "TypedDataSet", "DataProperties", "CategoryGroups"]
        return [r for r in fixed if self.source(r) is not None] + list(self.code_lists)

    def fields(self, resource: str, rows: list[dict[str, Any]]) -> set[str]:
        """Property names of a resource (data sets: also when they have no rows)."""
        if resource in {"TypedDataSet", "UntypedDataSet"} and self.properties is not None:
            return {"ID", *(p["Key"] for p in self.properties if p["Key"])}
        return set().union(*rows) if rows else set()

    def source(self, resource: str) -> Any:
        """The object a resource is answered from (its identity tells an override apart)."""
        return {
            "TableInfos": self.info,
            "DataProperties": self.properties,
            "CategoryGroups": self.category_groups,
            "TypedDataSet": self.typed_rows,
            "UntypedDataSet": self.untyped_rows,
            **self.code_lists,
        }.get(resource)

    def collection(self, resource: str) -> list[dict[str, Any]] | None:
        found = self.source(resource)
        if resource == "TableInfos" and found is not None:
            return [found]
        return found

    def recorded_pages(self, resource: str) -> RecordedResource | None:
        """The recording of a resource, if it is still what the table serves."""
        recorded = self.recorded.get(resource)
        if recorded is None or not recorded.exact:
            return None
        if resource and self.source(resource) is not _recorded_source(recorded, resource):
            return None
        return recorded


def _recorded_source(recorded: RecordedResource, resource: str) -> Any:
    return recorded.rows[0] if resource == "TableInfos" else recorded.rows


def recorded_served_table(table_id: str) -> ServedTable | None:
    """A recorded table (tests/fixtures/cbs-api) as served, or None if none was recorded."""
    found = cbs_recordings.recorded_table(table_id)
    if found is None:
        return None

    def rows(name: str) -> list[dict[str, Any]] | None:
        return found[name].rows if name in found else None

    properties = rows("DataProperties")
    dimension_keys = [
        p["Key"] for p in properties or [] if p["Type"] not in {"Topic", "TopicGroup"}
    ]
    info = found["TableInfos"].rows[0] if "TableInfos" in found else None
    if info is None and table_id.lower() == "84799ned":
        # not recorded; its recorded catalog entry carries the same fields (Modified, Title)
        entry = cbs_recordings.catalog_entry_84799ned()
        info = {k: v for k, v in entry.items() if k not in CATALOG_ONLY_FIELDS}
    return ServedTable(
        table_id=table_id,
        info=info,
        properties=properties,
        code_lists={k: found[k].rows for k in dimension_keys if k in found},
        typed_rows=rows("TypedDataSet"),
        untyped_rows=rows("UntypedDataSet"),
        category_groups=rows("CategoryGroups"),
        recorded=found,
    )


@cache
def build_served_table(snapshot_dir: Path, table_id: str) -> ServedTable:
    """A snapshot table (frame + meta record) -> its OData v3 resources."""
    meta = store.read_meta(snapshot_dir, table_id)
    if meta is None:
        raise KeyError(table_id)
    frame = store.read_table(snapshot_dir, table_id)
    region_key, period_key = meta["region_dimension"], meta["period_dimension"]
    dims = meta["dimensions"]
    national = getattr(get_declaration(table_id), "national", False)
    key_columns = {
        **{key: f"{dim['column']}_code" for key, dim in dims.items()},
        **({} if national else {region_key: "region_code"}),
        period_key: "period_code",
    }
    measures = list(meta["measures"])
    text = frame[[*key_columns.values(), "measure_code"]].astype(str)
    wide = (
        text.assign(value=frame["value"])
        .pivot(index=list(key_columns.values()), columns="measure_code", values="value")
        .reindex(columns=measures)
        .reset_index()
        .sort_values(list(key_columns.values()), ignore_index=True)
    )
    declared = get_declaration(table_id).dimensions
    listed: dict[str, dict[str, str]] = {}  # code list of every dimension: {code: title}
    for key, dim in dims.items():
        # CBS lists every category; the snapshot may hold a few (a partial capture)
        listed[key] = {code: label for label, code in declared[key].codes.items()} | dim["codes"]
    if not national:
        names = frame[["region_code", "region_name"]].astype(str).drop_duplicates()
        listed[region_key] = dict(zip(names.region_code, names.region_name, strict=True))
    statuses = period_statuses(frame)
    listed[period_key] = {code: period_title(code) for code in statuses}
    # a snapshot whose codes were rebuilt from CBS's titles ('A-U', 'L_totaal'): CBS keys them
    # its own way ('T001081', '301000', 'A047593'), and its keys and measure keys are CBS keys
    decl = get_declaration(table_id)
    if decl.codes_from_labels:
        for key in dims:
            mapping = cbs_style_keys(listed[key], set(declared[key].codes.values()))
            column = key_columns[key]
            wide[column] = wide[column].map(mapping)
            listed[key] = {mapping[code]: title for code, title in listed[key].items()}
    served = {key: cbs_key_of(key, dims[key]["title"]) for key in dims}
    served |= {k: k for k in key_columns if k not in served}
    measure_keys = {m: m for m in measures}
    if decl.keys_from_labels:
        measure_keys = {
            m: m if re.search(r"_\d+$", m) else f"{m}_{i}" for i, m in enumerate(measures, 1)
        }
    # CBS pads every key of a dimension to one width, in the code list and in the rows alike
    widths = {
        key: max(6 if key == region_key else 0, *wide[col].str.len(), *map(len, listed[key]))
        for key, col in key_columns.items()
    }
    decimals = {m: _decimals(wide[m]) for m in measures}
    datatypes = {m: "Long" if decimals[m] == 0 else "Double" for m in measures}
    typed, untyped = [], []
    keys = {key: wide[col].str.ljust(widths[key]).tolist() for key, col in key_columns.items()}
    values = {m: wide[m].tolist() for m in measures}
    for i in range(len(wide)):
        row = {"ID": i, **{served[key]: keys[key][i] for key in key_columns}}
        numbers = {measure_keys[m]: _typed(values[m][i], datatypes[m]) for m in measures}
        typed.append({**row, **numbers})
        untyped.append(
            {**row, **{measure_keys[m]: _untyped(numbers[measure_keys[m]], decimals[m])
                       for m in measures}}
        )  # fmt: skip

    code_lists: dict[str, list[dict[str, Any]]] = {}
    for key, codes in listed.items():
        if key == period_key:
            continue
        last = max(codes)
        code_lists[served[key]] = [
            {"Key": code.ljust(widths[key]), "Title": title + (" " if code == last else ""),
             "Description": None, "CategoryGroupID": None}
            for code, title in sorted(codes.items())
        ]  # fmt: skip
    code_lists[served[period_key]] = [
        {"Key": code.ljust(widths[period_key]), "Title": _period_title(title, code, statuses),
         "Description": None, "Status": statuses[code]}
        for code, title in sorted(listed[period_key].items())
    ]  # fmt: skip

    properties: list[dict[str, Any]] = []
    for key, dim in dims.items():
        properties.append(_dimension(len(properties), "Dimension", served[key], dim["title"]))
    if not national:
        properties.append(_dimension(len(properties), "GeoDimension", region_key, "Regio's"))
    properties.append(_dimension(len(properties), "TimeDimension", period_key, "Perioden"))
    topics = {measure_keys[m]: meta["measures"][m] for m in measures}
    properties.extend(
        _topics(
            topics,
            {measure_keys[m]: d for m, d in decimals.items()},
            {measure_keys[m]: d for m, d in datatypes.items()},
            meta["title"],
            first_id=len(properties),
        )
    )
    periods = meta["periods"]
    info = {
        "ID": 0, "Title": meta["title"], "ShortTitle": meta["title"][:80],
        "Identifier": table_id, "Summary": "", "Modified": default_modified(meta),
        "MetaDataModified": default_modified(meta), "ReasonDelivery": "Replay (noordstats tests)",
        "ExplanatoryText": "", "OutputStatus": "Regulier", "Source": "CBS.", "Language": "nl",
        "Catalog": "CBS", "Frequency": "Perjaar", "Period": f"{periods[0]}-{periods[-1]}",
        "ShortDescription": "", "Description": "", "DefaultPresentation": "",
        "DefaultSelection": "", "GraphTypes": "", "RecordCount": len(typed),
        "ColumnCount": len(key_columns) + len(measures), "SearchPriority": "1",
    }  # fmt: skip
    return ServedTable(table_id, info, properties, code_lists, typed, untyped)


#: Announced for a table whose snapshot states neither a CBS Modified nor a capture date (the
#: snapshot records no build date: a rebuild must reproduce it byte for byte).
UNDATED_MODIFIED = "2025-01-01"


@cache
def _sbi2008_keys() -> dict[str, str]:
    """CBS's keys of SBI 2008 categories by title, as 83582NED's declaration lists them."""
    return dict(get_declaration("83582NED").dimensions["BedrijfstakkenBranchesSBI2008"].codes)


def cbs_style_keys(codes: dict[str, str], keep: set[str]) -> dict[str, str]:
    """{snapshot code: the key CBS gives the category}: a code that is a CBS key (``keep``)
    stays; an SBI 2008 title gets its key from 83582NED's list (``'A-U Alle economische
    activiteiten'`` -> ``T001081``); a total ``T00....``, any other category ``A0.....``, in
    the order of the titles (keys unlike the titles and the codes made from them)."""
    mapping, total, other = {}, 1100, 47500
    for code, title in sorted(codes.items(), key=lambda item: item[1]):
        if code in keep:
            mapping[code] = code
        elif title in _sbi2008_keys():
            mapping[code] = _sbi2008_keys()[title]
        elif title.lower().startswith(("totaal", "alle ")):
            mapping[code], total = f"T00{total:04d}", total + 1
        else:
            mapping[code], other = f"A0{other:05d}", other + 1
    return mapping


def cbs_key_of(key: str, title: str) -> str:
    """A dimension key as CBS forms them: ``'Bedrijfstakken/branches SBI 2008'`` ->
    ``'BedrijfstakkenBranchesSBI2008'`` (a key that is one already stays)."""
    if re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", key):
        return key
    return "".join(w[0].upper() + w[1:] for w in re.findall(r"[0-9A-Za-z]+", title))


def _typed(value: Any, datatype: str) -> float | int | None:
    """A TypedDataSet cell: null for missing, an integer for a Long topic, else a float."""
    if pd.isna(value):
        return None
    return int(value) if datatype == "Long" else float(value)


def _period_title(title: str, code: str, statuses: dict[str, str]) -> str:
    """A period title, with CBS's trailing space on provisional periods and the last period."""
    provisional = statuses[code] in {"Voorlopig", "NaderVoorlopig"}
    return title + " " if provisional or code == max(statuses) else title


def _topics(
    measures: dict[str, dict[str, Any]],
    decimals: dict[str, int],
    datatypes: dict[str, str],
    table_title: str,
    first_id: int,
) -> list[dict[str, Any]]:
    """Topics nested in TopicGroups as CBS nests them (Key "", Position null, ParentID; topic ID
    != Position). The snapshot does not know CBS's groups: one group named after the table
    holds one group per unit."""
    entries: list[dict[str, Any]] = []
    position = first_id
    outer = first_id
    entries.append(_topic_group(outer, None, table_title))
    group_of_unit: dict[str, int] = {}
    for key, measure in measures.items():
        unit = measure.get("unit") or ""
        if unit not in group_of_unit:
            group_of_unit[unit] = first_id + len(entries)
            entries.append(_topic_group(group_of_unit[unit], outer, unit or "Zonder eenheid"))
        entries.append(
            {
                "odata.type": "Cbs.OData.Topic", "ID": first_id + len(entries),
                "Position": position, "ParentID": group_of_unit[unit], "Type": "Topic",
                "Key": key, "Title": measure["title"], "Description": None,
                "Datatype": datatypes[key], "Unit": unit, "Decimals": decimals[key],
                "Default": "Impossible", "PresentationType": "Absolute",
            }
        )  # fmt: skip
        position += 1
    return entries


def _topic_group(entry_id: int, parent: int | None, title: str) -> dict[str, Any]:
    return {
        "odata.type": "Cbs.OData.TopicGroup", "ID": entry_id, "Position": None,
        "ParentID": parent, "Type": "TopicGroup", "Key": "", "Title": title,
        "Description": None,
    }  # fmt: skip


def default_modified(meta: dict[str, Any]) -> str:
    """The Modified date the server announces unless told otherwise: the snapshot's CBS
    Modified, else its capture date, else :data:`UNDATED_MODIFIED`."""
    return f"{meta.get('modified') or meta.get('captured') or UNDATED_MODIFIED}T02:00:00"


def period_statuses(frame: pd.DataFrame) -> dict[str, str]:
    """CBS Status per period code as CBS spells it (``NaderVoorlopig``), from the snapshot rows
    (rows computed here, status 'berekend', do not count); '' where the snapshot does not
    know it."""
    published = frame[frame.status.astype(str) != "berekend"]
    statuses = published.groupby(published.period_code.astype(str), observed=True).status.agg(
        lambda s: set(s.astype(str))
    )
    result = {}
    for code in frame.period_code.astype(str).unique():
        found = statuses.get(code, set())
        result[code] = CBS_STATUS.get(found.pop(), "") if len(found) == 1 else ""
    return result


def period_title(code: str) -> str:
    """CBS's title of a period code: 2023JJ00 -> '2023', 2023KW01 -> '2023 1e kwartaal'."""
    year, kind, index = code[:4], code[4:6], int(code[6:8])
    if kind == "KW":
        return f"{year} {index}e kwartaal"
    if kind == "MM":
        return f"{year} {_MONTHS[index - 1]}"
    if kind == "HJ":
        return f"{year} {'eerste' if index == 1 else 'tweede'} helft"
    if kind == "SJ":
        return f"{year}/'{(int(year) + 1) % 100:02d}"
    return year


def _dimension(position: int, kind: str, key: str, title: str) -> dict[str, Any]:
    entry = {
        "odata.type": f"Cbs.OData.{kind}", "ID": position, "Position": position,
        "ParentID": None, "Type": kind, "Key": key, "Title": title, "Description": None,
    }  # fmt: skip
    if kind == "TimeDimension":
        entry["ReleasePolicy"] = False
    if kind == "GeoDimension":
        entry["MapYear"] = None
    return entry


def _decimals(values: pd.Series) -> int:
    shown = [repr(float(v)) for v in values.dropna()]
    return max([len(t.split(".")[1].rstrip("0")) for t in shown if "e" not in t], default=0)


def _untyped(value: float | None, decimals: int) -> str:
    return "       ." if value is None else f"{value:.{decimals}f}".rjust(8)


# ---------------------------------------------------------------- $filter


_TOKEN = re.compile(
    r"\s*(?:(?P<punct>[(),])|'(?P<string>(?:[^']|'')*)'|(?P<number>-?\d+(?:\.\d+)?)|(?P<name>[A-Za-z_]\w*))"
)
_COMPARISONS = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "gt": lambda a, b: a is not None and a > b,
    "ge": lambda a, b: a is not None and a >= b,
    "lt": lambda a, b: a is not None and a < b,
    "le": lambda a, b: a is not None and a <= b,
}
_FUNCTIONS = {
    "startswith": lambda a, b: str(a).startswith(str(b)),
    "endswith": lambda a, b: str(a).endswith(str(b)),
    "substringof": lambda a, b: str(a) in str(b),
}

Row = dict[str, Any]
Predicate = Callable[[Row], bool]


class ODataQueryError(ValueError):
    """A query option the service does not understand (answered with HTTP 400)."""


def compile_filter(text: str, fields: set[str]) -> Predicate:
    """An OData v3 ``$filter`` expression -> a predicate on rows."""
    tokens, pos = [], 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            if text[pos:].strip() == "":
                break
            raise ODataQueryError(f"syntax error in $filter at position {pos}: {text[pos:]!r}")
        kind = match.lastgroup
        value = match.group(kind)
        if kind == "string":
            value = value.replace("''", "'")
        elif kind == "number":
            value = float(value)
        tokens.append((kind, value))
        pos = match.end()
    parser = _FilterParser(tokens, fields)
    predicate = parser.parse_or()
    if parser.pos != len(tokens):
        raise ODataQueryError(f"unexpected {tokens[parser.pos][1]!r} in $filter")
    return predicate


class _FilterParser:
    def __init__(self, tokens: list[tuple[str, Any]], fields: set[str]):
        self.tokens, self.fields, self.pos = tokens, fields, 0

    def peek(self) -> tuple[str, Any] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, expected: str | None = None) -> tuple[str, Any]:
        token = self.peek()
        if token is None or (expected is not None and token[1] != expected):
            raise ODataQueryError(f"$filter: expected {expected or 'more'}, got {token}")
        self.pos += 1
        return token

    def parse_or(self) -> Predicate:
        parts = [self.parse_and()]
        while self.peek() == ("name", "or"):
            self.take()
            parts.append(self.parse_and())
        return parts[0] if len(parts) == 1 else lambda row: any(p(row) for p in parts)

    def parse_and(self) -> Predicate:
        parts = [self.parse_not()]
        while self.peek() == ("name", "and"):
            self.take()
            parts.append(self.parse_not())
        return parts[0] if len(parts) == 1 else lambda row: all(p(row) for p in parts)

    def parse_not(self) -> Predicate:
        if self.peek() == ("name", "not"):
            self.take()
            inner = self.parse_not()
            return lambda row: not inner(row)
        return self.parse_primary()

    def parse_primary(self) -> Predicate:
        token = self.peek()
        if token == ("punct", "("):
            self.take("(")
            inner = self.parse_or()
            self.take(")")
            return inner
        if token and token[0] == "name" and token[1] in _FUNCTIONS:
            name = self.take()[1]
            self.take("(")
            first = self.parse_operand()
            self.take(",")
            second = self.parse_operand()
            self.take(")")
            function = _FUNCTIONS[name]
            return lambda row: bool(function(first(row), second(row)))
        left = self.parse_operand()
        op = self.take()[1]
        if op not in _COMPARISONS:
            raise ODataQueryError(f"$filter: unknown operator {op!r}")
        right = self.parse_operand()
        compare = _COMPARISONS[op]
        return lambda row: compare(left(row), right(row))

    def parse_operand(self) -> Callable[[Row], Any]:
        kind, value = self.take()
        if kind in {"string", "number"}:
            return lambda row: value
        if kind == "name" and value == "null":
            return lambda row: None
        if kind == "name":
            if value not in self.fields:
                raise ODataQueryError(f"$filter: no property {value!r}")
            return lambda row: row.get(value)
        raise ODataQueryError(f"$filter: unexpected {value!r}")


# ---------------------------------------------------------------- requests, faults, server


@dataclass
class RequestRecord:
    path: str
    table_id: str | None
    resource: str | None
    params: dict[str, str]
    status: int = 0
    fault: str | None = None
    service: str = "ODataFeed"  # ODataFeed, ODataApi or ODataCatalog
    query: str = ""  # the query string as sent

    @property
    def is_follow_up_page(self) -> bool:
        return "$skip" in self.params


@dataclass
class Answer:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Fault:
    """Misbehave on matching requests: ``resource`` (None: any) and ``when`` (extra predicate
    on the request); ``times`` matching requests (None: all of them) get ``action``."""

    action: str
    resource: str | None = None
    when: Callable[[RequestRecord], bool] | None = None
    times: int | None = 1
    status: int = 500
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    rewrite: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    hits: int = 0

    def matches(self, record: RequestRecord) -> bool:
        if self.times is not None and self.hits >= self.times:
            return False
        if self.resource is not None and record.resource != self.resource:
            return False
        return self.when is None or self.when(record)


def _act_status(handler: _Handler, fault: Fault, answer: Callable[[], Answer]) -> None:
    handler.send_answer(_error(fault.status, f"injected HTTP {fault.status}", fault.headers))


def _act_reset(handler: _Handler, fault: Fault, answer: Callable[[], Answer]) -> None:
    """Close the connection with a TCP reset, no answer."""
    handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    handler.close_connection = True
    handler.connection.close()


def _act_delay(handler: _Handler, fault: Fault, answer: Callable[[], Answer]) -> None:
    time.sleep(fault.delay)
    handler.send_answer(answer())


def _act_truncate(handler: _Handler, fault: Fault, answer: Callable[[], Answer]) -> None:
    """The normal answer cut in half (no Content-Length, so the client sees broken JSON)."""
    full = answer()
    handler.send_answer(
        dataclasses.replace(full, body=full.body[: len(full.body) // 2]), length=False
    )


def _act_rewrite(handler: _Handler, fault: Fault, answer: Callable[[], Answer]) -> None:
    """The normal JSON answer passed through ``fault.rewrite`` (drift, loops, ...)."""
    full = answer()
    body = fault.rewrite(json.loads(full.body)) if fault.rewrite else json.loads(full.body)
    handler.send_answer(dataclasses.replace(full, body=json.dumps(body).encode()))


#: fault action name -> function(handler, fault, normal answer) that answers the request
ACTIONS: dict[str, Callable[[_Handler, Fault, Callable[[], Answer]], None]] = {
    "status": _act_status,
    "reset": _act_reset,
    "delay": _act_delay,
    "truncate": _act_truncate,
    "rewrite": _act_rewrite,
}


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> Answer:
    body = {"odata.error": {"code": "", "message": {"lang": "en-US", "value": message}}}
    return Answer(status, json.dumps(body).encode(), dict(headers or {}))


class ReplayServer:
    """``with ReplayServer() as server: cbsodata.get_meta(..., catalog_url=server.host)``."""

    def __init__(
        self,
        page_size: int = DEFAULT_PAGE_SIZE,
        snapshot_dir: Path = paths.SNAPSHOT_DIR,
        table_ids: set[str] | None = None,
        recordings: bool = True,
    ):
        """``page_size``: rows per page (CBS: 10,000); ``table_ids``: serve only these;
        ``recordings``: serve the recorded tables (80137ned, 83599NED, 84799NED) too."""
        self.page_size, self.snapshot_dir, self.table_ids = page_size, snapshot_dir, table_ids
        self.recordings = recordings
        self.requests: list[RequestRecord] = []
        self.faults: list[Fault] = []
        self.modified: dict[str, str] = {}
        self.overrides: dict[str, ServedTable] = {}
        self._lock = threading.Lock()
        self._query_cache: dict[tuple, tuple[list[Row], list[Row]]] = {}
        self._httpd: ThreadingHTTPServer | None = None

    # lifecycle
    def __enter__(self) -> ReplayServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        handler = type("Handler", (_Handler,), {"replay": self})
        self._httpd = _QuietServer(("127.0.0.1", 0), handler)
        threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True).start()

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    @property
    def host(self) -> str:
        assert self._httpd is not None, "server not started"
        return f"127.0.0.1:{self._httpd.server_address[1]}"

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    # test controls
    def add_fault(self, action: str, **options: Any) -> Fault:
        if action not in ACTIONS:
            raise ValueError(f"unknown fault action {action!r}; known: {', '.join(ACTIONS)}")
        fault = Fault(action, **options)
        self.faults.append(fault)
        return fault

    def set_modified(self, table_id: str, modified: str) -> None:
        self.modified[table_id] = modified

    def table(self, table_id: str) -> ServedTable | None:
        """The table as served (with overrides and a changed Modified), None if unknown."""
        if self.table_ids is not None and table_id not in self.table_ids:
            return None
        served = self.overrides.get(table_id)
        if served is None and self.recordings:
            served = recorded_served_table(table_id)
        if served is None:
            try:
                served = build_served_table(self.snapshot_dir, table_id)
            except (KeyError, FileNotFoundError):
                return None
        if table_id in self.modified and served.info is not None:
            served = dataclasses.replace(
                served, info={**served.info, "Modified": self.modified[table_id]}
            )
        return served

    def requests_for(self, resource: str, table_id: str | None = None) -> list[RequestRecord]:
        return [
            r for r in self.requests
            if r.resource == resource and (table_id is None or r.table_id == table_id)
        ]  # fmt: skip

    # answering
    def take_fault(self, record: RequestRecord) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.matches(record):
                    fault.hits += 1
                    return fault
        return None

    def answer(self, record: RequestRecord, base_url: str) -> Answer:
        if record.service == "ODataCatalog":
            return self.answer_catalog(record, base_url)
        if record.table_id is None:
            return _error(404, f"no such resource: {record.path}")
        table = self.table(record.table_id)
        if table is None:
            return _error(404, f"Table {record.table_id} not found")
        feed_url = f"{base_url}/{record.service}/OData/{record.table_id}"
        if not record.resource:
            root = table.recorded_pages("")
            if root is not None and not _query_options(record):
                return Answer(200, root.pages[0].body)
            listing = f"{base_url}/{record.service}/odata/{record.table_id}"
            value = [{"name": n, "url": f"{listing}/{n}"} for n in table.resources()]
            return _json({"odata.metadata": f"{feed_url}/$metadata", "value": value})
        rows = table.collection(record.resource)
        if rows is None:
            return _error(404, f"Resource {record.resource} not found for {record.table_id}")
        recorded = table.recorded_pages(record.resource)
        if recorded is not None and (page := self._recorded_page(record, recorded)) is not None:
            return Answer(200, _rewrite_next_link(page, base_url))
        metadata = (
            table.recorded[record.resource].metadata_url
            if record.resource in table.recorded
            else f"{feed_url}/$metadata#Cbs.OData.WebAPI.{record.resource}"
        )
        return self._page(record, table, rows, metadata, f"{feed_url}/{record.resource}/")

    def answer_catalog(self, record: RequestRecord, base_url: str) -> Answer:
        """``/ODataCatalog/Tables``: the recorded entries (and 84799NED's), then one entry per
        snapshot table in the same fields."""
        recorded = cbs_recordings.recorded_catalog()
        rows = self.catalog_rows(base_url)
        return self._page(
            record, _CATALOG, rows, recorded.metadata_url, f"{base_url}/ODataCatalog/Tables"
        )

    def catalog_rows(self, base_url: str) -> list[Row]:
        recorded = cbs_recordings.recorded_catalog().rows
        rows = [*recorded, cbs_recordings.catalog_entry_84799ned()]
        fields = list(recorded[0])
        listed = {row["Identifier"].lower() for row in rows}
        for table_id in sorted(declarations(), key=str.lower):
            if table_id.lower() in listed:
                continue  # a recorded entry (83582NED, 83599NED, 80137ned, 84799NED)
            decl = declarations().get(table_id)
            if decl is not None and (decl.publisher != "CBS" or not table_id.isalnum()):
                continue  # CBS's catalog lists CBS tables only
            table = self.table(table_id)
            if table is not None and table.info is not None:
                rows.append(catalog_entry(table, fields, base_url))
        return rows

    def _page(
        self, record: RequestRecord, table: ServedTable, rows: list[Row], metadata: str, url: str
    ) -> Answer:
        try:
            selected = self._query(record, table, rows)
            skip = int(record.params.get("$skip", 0))
            top = int(record.params["$top"]) if "$top" in record.params else None
        except (ODataQueryError, ValueError) as exc:
            return _error(400, str(exc))
        window = selected[skip:] if top is None else selected[skip : skip + top]
        body: dict[str, Any] = {"odata.metadata": metadata, "value": window[: self.page_size]}
        if len(window) > self.page_size:
            body["odata.nextLink"] = next_link(url, record.params, skip + self.page_size, top)
        return _json(body)

    def _recorded_page(self, record: RequestRecord, recorded: RecordedResource) -> bytes | None:
        """The recorded body that answers the request as CBS answered it, or None when the
        request or the server's page size differs from what was recorded."""
        if set(record.params) - {"$format", "$skip"}:
            return None
        total, size = len(recorded.rows), self.page_size
        paged = [(skip, min(size, total - skip)) for skip in range(0, max(total, 1), size)]
        if [(page.skip, len(page.rows)) for page in recorded.pages] != paged:
            return None
        skip = record.params.get("$skip", "0")
        return next((page.body for page in recorded.pages if str(page.skip) == skip), None)

    def _query(self, record: RequestRecord, table: ServedTable, rows: list[Row]) -> list[Row]:
        text_filter = record.params.get("$filter")
        select = record.params.get("$select")
        key = (record.table_id, record.resource, text_filter, select, id(rows))
        cached = self._query_cache.get(key)
        if cached is not None and cached[0] is rows:
            return cached[1]
        source = rows
        fields = table.fields(record.resource or "", rows)
        if text_filter:
            predicate = compile_filter(text_filter, fields)
            rows = [row for row in rows if predicate(row)]
        if select:
            names = [name.strip() for name in select.split(",")]
            if unknown := [n for n in names if n not in fields]:
                raise ODataQueryError(f"$select: no property {', '.join(unknown)}")
            rows = [{n: row[n] for n in names} for row in rows]
        self._query_cache[key] = (source, rows)
        return rows


def _json(body: dict[str, Any]) -> Answer:
    return Answer(200, json.dumps(body, ensure_ascii=False).encode("utf-8"))


def _query_options(record: RequestRecord) -> set[str]:
    return set(record.params) - {"$format"}


_NEXT_LINK_HOST = re.compile(rb'("odata\.nextLink"\s*:\s*")https?://[^/"]+')


def _rewrite_next_link(body: bytes, base_url: str) -> bytes:
    """A recorded body with the scheme and host of its ``odata.nextLink`` replaced by this
    server's (``https://opendata.cbs.nl/ODataFeed/...`` -> ``http://127.0.0.1:PORT/ODataFeed/...``);
    every other byte as recorded."""
    return _NEXT_LINK_HOST.sub(lambda m: m.group(1) + base_url.encode("ascii"), body, count=1)


def next_link(url: str, params: dict[str, str], skip: int, top: int | None) -> str:
    """CBS's ``odata.nextLink``: ``<url>?$format=json&$skip=10000`` with a literal ``$``; the
    request's other options ($filter, $select) kept, $skip (and $top) last."""
    kept = [(k, v) for k, v in params.items() if k not in {"$skip", "$top"}]
    kept.sort(key=lambda kv: kv[0] != "$format")
    kept.append(("$skip", str(skip)))
    if top is not None:
        kept.append(("$top", str(top - (skip - int(params.get("$skip", 0))))))
    return url + "?" + "&".join(f"{k}={quote(v, safe=_QUERY_SAFE)}" for k, v in kept)


_QUERY_SAFE = "$,'()/:"


def catalog_entry(table: ServedTable, fields: list[str], base_url: str) -> Row:
    """A ``/ODataCatalog/Tables`` entry for a served table, in the recorded entries' fields:
    TableInfos plus Updated, ApiUrl, FeedUrl and SummaryAndLinks."""
    info = table.info or {}
    api, feed = (f"{base_url}/{s}/OData/{table.table_id}" for s in ("ODataApi", "ODataFeed"))
    links = f'<br /><a href="{api}">{api}</a><br /><a href="{feed}">{feed}</a>'
    extra = {
        "Updated": info.get("MetaDataModified") or info.get("Modified"),
        "ApiUrl": api,
        "FeedUrl": feed,
        "SummaryAndLinks": str(info.get("Summary") or "").replace("\n", "<br />") + links,
    }
    entry = {**info, **extra}
    return {name: entry.get(name) for name in fields}


class _CatalogTable(ServedTable):
    """The catalog as a 'table' for :meth:`ReplayServer._query` (fields of its rows)."""


_CATALOG = _CatalogTable("ODataCatalog", None, None, {}, None, None)


class _QuietServer(ThreadingHTTPServer):
    """Clients that hang up (timeouts, resets) are part of the tests, not errors to print."""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    replay: ReplayServer
    protocol_version = "HTTP/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        return None

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        record = _parse_path(unquote(parts.path))
        record.params = dict(parse_qsl(parts.query, keep_blank_values=True))
        record.query = parts.query
        self.replay.requests.append(record)
        host = self.headers.get("Host", self.replay.host)

        def answer() -> Answer:
            return self.replay.answer(record, f"http://{host}")

        fault = self.replay.take_fault(record)
        if fault is not None:
            record.fault = fault.action
            ACTIONS[fault.action](self, fault, answer)
        else:
            self.send_answer(answer())
        record.status = getattr(self, "_sent_status", 0)

    def send_answer(self, answer: Answer, length: bool = True) -> None:
        self._sent_status = answer.status
        self.send_response(answer.status)
        self.send_header("Content-Type", "application/json;odata=minimalmetadata;charset=utf-8")
        if length:
            self.send_header("Content-Length", str(len(answer.body)))
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(answer.body)


def _parse_path(path: str) -> RequestRecord:
    """``/ODataFeed/odata/83582NED/TypedDataSet`` (or ``/ODataFeed/OData/.../TypedDataSet/``)
    -> service, table id and resource; ``/ODataCatalog/Tables`` -> the catalog."""
    for prefix in PREFIXES:
        head = f"/{prefix}/"
        if path.lower().startswith(head.lower()):
            rest = path[len(head) :].split("/")
            table_id = rest[0] or None
            resource = "/".join(part for part in rest[1:] if part) or None
            return RequestRecord(path, table_id, resource, {}, service=prefix.split("/")[0])
    if path.rstrip("/").lower() == CATALOG_PATH.lower():
        return RequestRecord(path, None, "Tables", {}, service="ODataCatalog")
    return RequestRecord(path, None, None, {})


def closed_port_url() -> str:
    """``http://127.0.0.1:<port>`` where nothing listens (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def isolate_live_settings(monkeypatch, cache_dir: Path, timeout: str = "2,5") -> Path:
    """For a live-path test: its own cache folder, no catalog from the environment, quick
    retries (``timeout``: connect,read seconds). Returns the cache folder."""
    monkeypatch.setenv("NOORDSTATS_CACHE_DIR", str(cache_dir))
    monkeypatch.delenv("NOORDSTATS_CATALOG_URL", raising=False)
    monkeypatch.setenv("NOORDSTATS_HTTP_ATTEMPTS", "2")
    monkeypatch.setenv("NOORDSTATS_HTTP_BACKOFF", "0.001")
    monkeypatch.setenv("NOORDSTATS_HTTP_TIMEOUT", timeout)
    return cache_dir
