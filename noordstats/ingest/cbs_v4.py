"""CBS's OData v4 service (datasets.cbs.nl/odata/v1) read into the shapes the v3 readers take.

:class:`V4Client` has the interface of :class:`~noordstats.ingest.cbs_http._Client`, so one
reader (:mod:`noordstats.ingest.live_read`, :mod:`noordstats.ingest.catalog`) makes the same
tidy frame of a table whichever service it came from:

- ``TableInfos`` <- the ``Properties`` singleton (Identifier, Title, Description, Modified,
  Frequency, TemporalCoverage, Status);
- ``DataProperties`` <- ``Dimensions`` (``Kind``: GeoDimension, GeoDetail, TimeDimension,
  Dimension) and ``MeasureCodes`` (Identifier, Title, Unit, Decimals, DataType; nested in
  ``MeasureGroups`` by MeasureGroupId when a measure has one);
- a dimension's code list <- ``<Dim>Codes`` (Identifier -> Key, Title, period ``Status``);
- ``TypedDataSet`` <- ``Observations`` (long: one cell a row) pivoted to one row per category
  combination and one column per measure. The ``$filter`` of the v3 reader is sent as it is
  (v4 understands the same ``startswith``/``eq``; its codes are unpadded). A cell whose
  ``ValueAttribute`` is not ``None`` (``Impossible``, ``Confidential``, ...) is missing, never
  zero, and counted with its reason in :attr:`V4Client.cell_notes`; a ``StringValue`` is kept
  there too (it is text, not a number).

The catalog is ``/CBS/Datasets`` (:func:`get_catalog_v4`). Measure identifiers differ from v3's
topic keys (``M000352`` vs ``BevolkingOp1Januari_1``): declared tables match them by title and
unit (:func:`~noordstats.ingest.reconcile.match_measures`).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from noordstats.ingest.cbs_http import (
    HttpPolicy,
    V4Service,
    _Transport,
    _UnusableAnswer,
    get_v4,
)

API_V3, API_V4 = "v3", "v4"
APIS = ("v3", "v4", "auto")
#: the cell attribute of an ordinary number
PLAIN = "None"
#: a $filter on Measure is pushed down for at most this many measures (else: every measure)
MAX_MEASURE_FILTER = 40
#: v4 DataType -> the v3 Datatype the readers know (numbers) or String (text)
_DATATYPES = {"Long": "Long", "Integer": "Long", "Short": "Long", "Float": "Double",
              "Double": "Double", "Decimal": "Double", "String": "String"}  # fmt: skip


class V4Client:
    """OData v4 calls for one table, answered in v3 shapes (see the module docstring)."""

    api = API_V4

    def __init__(self, service: V4Service, policy: HttpPolicy, table_id: str, progress=None):
        self.catalog, self.table_id = service, table_id
        self.transport = _Transport(
            policy, lambda resource, rows: (progress or _quiet)(table_id, resource, rows)
        )
        self._dimensions: list[dict[str, Any]] | None = None
        self._measures: list[str] = []
        self.cell_notes: dict[str, Any] = {"value_attributes": {}, "string_values": []}

    def data_url(self) -> str:
        return f"{self.catalog.table_url(self.table_id)}/Observations"

    def _get(self, resource: str, singleton: bool = False, **params: str):
        url = f"{self.catalog.table_url(self.table_id)}/{resource}"
        return get_v4(self.transport, url, params, resource=resource, singleton=singleton)

    def get_modified(self) -> tuple[str, dict[str, Any]]:
        props = self._get("Properties", singleton=True)
        if not isinstance(props, dict) or not props.get("Modified"):
            raise _UnusableAnswer("Properties has no Modified date")
        info = {
            "Identifier": props.get("Identifier") or self.table_id,
            "Title": props.get("Title"),
            "ShortTitle": props.get("ShortTitle"),
            "Summary": props.get("Description") or props.get("Summary") or "",
            "Modified": str(props["Modified"]),
            "Frequency": props.get("Frequency") or "",
            "Period": props.get("TemporalCoverage") or "",
            "Status": props.get("Status"),
            "ObservationCount": props.get("ObservationCount"),
        }
        return str(props["Modified"]), info

    def dimensions(self) -> list[dict[str, Any]]:
        if self._dimensions is None:
            self._dimensions = self._get("Dimensions")
        return self._dimensions

    def get(
        self, resource: str, select: list[str] | None = None, filters: str | None = None
    ) -> list[dict[str, Any]]:
        if resource == "TableInfos":
            return [self.get_modified()[1]]
        if resource == "DataProperties":
            return self._properties()
        if resource in {"TypedDataSet", "UntypedDataSet"}:
            return self._observations(select, filters)
        if resource in {str(d.get("Identifier")) for d in self.dimensions()}:
            return [_code(c) for c in self._get(f"{resource}Codes")]
        raise _UnusableAnswer(f"{resource}: not a dimension of {self.table_id} at CBS's v4")

    def _properties(self) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = []
        for dim in self.dimensions():
            entries.append(
                {"ID": f"d{len(entries)}", "ParentID": None, "Type": dim.get("Kind") or "Dimension",
                 "Key": str(dim.get("Identifier")), "Title": str(dim.get("Title") or "")}
            )  # fmt: skip
        measures = self._get("MeasureCodes")
        self._measures = [str(m.get("Identifier")) for m in measures]
        if any(m.get("MeasureGroupId") is not None for m in measures):
            for group in self._get("MeasureGroups"):
                entries.append(
                    {"ID": f"g{group.get('Id')}", "Type": "TopicGroup", "Key": "",
                     "Title": str(group.get("Title") or ""),
                     "ParentID": None if group.get("ParentId") is None else f"g{group['ParentId']}"}
                )  # fmt: skip
        for measure in measures:
            group = measure.get("MeasureGroupId")
            entries.append(
                {"ID": f"m{measure.get('Identifier')}", "Type": "Topic",
                 "ParentID": None if group is None else f"g{group}",
                 "Key": str(measure.get("Identifier")), "Title": str(measure.get("Title") or ""),
                 "Unit": measure.get("Unit"), "Decimals": measure.get("Decimals"),
                 "Datatype": _DATATYPES.get(str(measure.get("DataType")), "Double")}
            )  # fmt: skip
        return entries

    def _observations(self, select: list[str] | None, filters: str | None) -> list[dict]:
        keys = [str(d.get("Identifier")) for d in self.dimensions()]
        measures = [c for c in select or [] if c != "ID" and c not in keys]
        text_filter = filters
        if measures and len(measures) <= MAX_MEASURE_FILTER:
            wanted = " or ".join(f"Measure eq '{m}'" for m in measures)
            text_filter = f"({filters}) and ({wanted})" if filters else wanted
        params = {"$filter": text_filter} if text_filter else {}
        cells = self._get("Observations", **params)
        rows: dict[tuple, dict[str, Any]] = {}
        attributes: Counter = Counter()
        for cell in cells:
            try:
                key = tuple(str(cell[k]).strip() for k in keys)
                measure = str(cell["Measure"])
            except KeyError as exc:
                raise _UnusableAnswer(f"Observations: a cell without {exc.args[0]}") from None
            if measures and measure not in measures:
                continue
            row = rows.setdefault(key, dict(zip(keys, key, strict=True)))
            attribute = str(cell.get("ValueAttribute") or PLAIN)
            value = cell.get("Value")
            if attribute != PLAIN:
                attributes[(measure, attribute)] += 1
                value = None
            if cell.get("StringValue") not in (None, ""):
                self.cell_notes["string_values"].append(
                    {"measure": measure, "key": list(key), "text": cell["StringValue"]}
                )
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int | float)
            ):
                raise _UnusableAnswer(f"Observations: Value of {measure} is not a number")
            row[measure] = value
        self.cell_notes["value_attributes"] = {
            f"{m}: {a}": n for (m, a), n in sorted(attributes.items())
        }
        empty = dict.fromkeys(measures or self._measures)
        return [{"ID": i, **row, **{m: row.get(m) for m in empty}} for i, row in
                enumerate(rows.values())]  # fmt: skip


def _code(entry: dict[str, Any]) -> dict[str, Any]:
    code = {"Key": str(entry.get("Identifier")), "Title": str(entry.get("Title") or "")}
    if "Status" in entry:
        code["Status"] = entry.get("Status")
    return code


def _quiet(table_id: str, resource: str, count: int) -> None:
    return None


def get_catalog_v4(
    service: V4Service, policy: HttpPolicy | None = None
) -> tuple[list[dict[str, Any]], int]:
    """Every entry of ``/CBS/Datasets`` in the fields of the v3 catalog the search reads
    (Identifier, Title, Summary, Period, Frequency, Modified) plus ObservationCount and Status
    -> (entries, requests made). Raises what :func:`~noordstats.ingest.cbs_http.get_v4` does."""
    transport = _Transport(policy or HttpPolicy.from_env(), lambda resource, rows: None)
    found = get_v4(transport, f"{service.root}/CBS/Datasets", resource="Datasets")
    entries = []
    for entry in found:
        if "Identifier" not in entry or "Title" not in entry:
            raise _UnusableAnswer("Datasets: entries without Identifier and Title")
        entries.append(
            {
                "Identifier": entry["Identifier"],
                "Title": entry["Title"],
                "ShortTitle": entry.get("ShortTitle"),
                "Summary": entry.get("Description") or entry.get("Summary") or "",
                "Period": entry.get("TemporalCoverage") or "",
                "Frequency": entry.get("Frequency") or "",
                "Modified": entry.get("Modified") or "",
                "ObservationCount": entry.get("ObservationCount"),
                "Status": entry.get("Status"),
            }
        )
    return entries, transport.request_count
