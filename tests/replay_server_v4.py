"""An OData v4 replay server for the tests: it answers the way CBS's current v4 service does
(``https://datasets.cbs.nl/odata/v1/CBS/<id>/...``), on 127.0.0.1, for the recorded v4 tables
(``tests/fixtures/cbs-api-v4``: 80072ned complete, byte for byte where the request matches) and
for every snapshot table, converted from the v3 resources :mod:`tests.replay_server` builds (so
both servers serve the same table with the same codes, statuses and values).

Routes, under ``/odata/v1``:

    /CBS                         the catalog root (recorded)
    /CBS/Datasets                the catalog: the 53 recorded entries (2020), then one per
                                 snapshot table they lack
    /CBS/<id>                    the table root (its entity sets and the Properties singleton)
    /CBS/<id>/Properties         Identifier, Title, Description, Modified, Frequency, Status, ...
    /CBS/<id>/Dimensions         Identifier, Title, Kind (GeoDimension, TimeDimension, Dimension)
    /CBS/<id>/MeasureCodes       Identifier (``M`` + 6 digits, not v3's key), Title, Unit,
                                 Decimals, DataType, MeasureGroupId
    /CBS/<id>/MeasureGroups      empty
    /CBS/<id>/<Dim>Codes         Identifier (unpadded), Title, Status for the periods
    /CBS/<id>/<Dim>Groups        empty
    /CBS/<id>/Observations       one cell a row: Id, Measure, ValueAttribute, Value,
                                 StringValue, one field per dimension; a missing cell is
                                 ``Value: null`` with ``ValueAttribute: "Impossible"``

The current shape (as in the 2026 recordings of 03759ned and 83625NED): the ``/odata/v1`` root,
``StringValue`` in every observation, unpadded codes, ``@odata.nextLink`` after
``page_size`` observations (``$skip`` in the link, the request's ``$filter`` kept), HTTP 400
for a ``$filter`` naming a property the resource lacks, 404 for an unknown table or resource.
``$filter``, ``$top``, ``$skip`` and ``$count=true`` are honoured. Faults are injected as on
the v3 server (``server.add_fault``: the same actions); every request is in ``server.requests``
with ``table_id`` and ``resource``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

from noordstats import paths
from noordstats.declarations.tables import declarations
from noordstats.storage import store
from tests import replay_server as v3
from tests.cbs_recordings import read_body
from tests.replay_server import Answer, ODataQueryError, ReplayServer, RequestRecord

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "cbs-api-v4"
ROOT = "/odata/v1"
#: observations per page unless told otherwise (CBS publishes no page size; answers of up to
#: about 100,000 cells are reported): the client must follow @odata.nextLink whatever it is
DEFAULT_PAGE_SIZE = 10_000
_V3_TYPES = {"GeoDimension": "GeoDimension", "GeoDetail": "GeoDetail",
             "TimeDimension": "TimeDimension", "Dimension": "Dimension"}  # fmt: skip


@dataclass
class V4Table:
    """One table in the v4 shape; ``recorded``: {resource: the recorded body}, served as it is
    to a request without query options."""

    table_id: str
    properties: dict[str, Any]
    dimensions: list[dict[str, Any]]
    measures: list[dict[str, Any]]
    codes: dict[str, list[dict[str, Any]]]  # {dimension identifier: codes}
    observations: list[dict[str, Any]]
    recorded: dict[str, bytes] = field(default_factory=dict)

    def collection(self, resource: str) -> list[dict[str, Any]] | None:
        if resource == "Dimensions":
            return self.dimensions
        if resource == "MeasureCodes":
            return self.measures
        if resource == "MeasureGroups":
            return []
        if resource == "Observations":
            return self.observations
        for dim in self.codes:
            if resource == f"{dim}Codes":
                return self.codes[dim]
            if resource == f"{dim}Groups":
                return []
        return None

    def fields(self, resource: str) -> set[str]:
        if resource == "Observations":
            keys = [d["Identifier"] for d in self.dimensions]
            return {"Id", "Measure", "ValueAttribute", "Value", "StringValue", *keys}
        rows = self.collection(resource) or []
        return set().union(*rows) if rows else {"Identifier", "Title"}


@cache
def recorded_80072ned() -> V4Table:
    """The recorded 2020 table (tests/fixtures/cbs-api-v4/80072ned), as recorded."""
    folder = FIXTURES / "80072ned"
    bodies = {p.name.removesuffix(".gz"): read_body(p) for p in folder.glob("*.json.gz")}

    def value(name: str) -> Any:
        return json.loads(bodies[name])["value"]

    dims = value("Dimensions.json")
    return V4Table(
        table_id="80072ned",
        properties=json.loads(bodies["Properties.json"]),
        dimensions=dims,
        measures=value("MeasureCodes.json"),
        codes={d["Identifier"]: value(f"{d['Identifier']}Codes.json") for d in dims},
        observations=value("Observations.json"),
        recorded={
            name.removesuffix(".json"): body
            for name, body in bodies.items()
            if name not in {"Datasets.json", "_catalog_root.json", "Observations.count_top1.json"}
        },
    )


@cache
def recorded_datasets() -> tuple[bytes, list[dict[str, Any]]]:
    body = read_body(FIXTURES / "80072ned" / "Datasets.json.gz")
    return body, json.loads(body)["value"]


def measure_identifiers(keys: list[str]) -> dict[str, str]:
    """v3 topic key -> a v4 measure identifier (``M`` + 6 digits, as CBS numbers them; unlike
    the v3 keys, so a client must reconcile by title and unit)."""
    return {key: f"M{900001 + i:06d}" for i, key in enumerate(keys)}


@cache
def build_v4_table(snapshot_dir: Path, table_id: str) -> V4Table:
    """A snapshot table in the v4 shape, converted from its v3 resources."""
    served = v3.build_served_table(snapshot_dir, table_id)
    return convert_v3(served)


def convert_v3(served: v3.ServedTable) -> V4Table:
    """A v3 ServedTable -> the same table in CBS's v4 shape."""
    base = f"https://datasets.cbs.nl/odata/v1/CBS/{served.table_id}"
    dims, topics = [], []
    for prop in served.properties or []:
        kind = prop.get("Type")
        if kind in _V3_TYPES:
            key = prop["Key"]
            dims.append(
                {"@odata.type": f"#Cbs.Ccb.Models.{kind}", "Identifier": key,
                 "Title": prop.get("Title"), "Description": "", "MapYear": None,
                 "ReleasePolicy": True if kind == "TimeDimension" else None, "Kind": kind,
                 "ContainsGroups": False, "ContainsCodes": True,
                 "CodesUrl": f"{base}/{key}Codes", "GroupsUrl": f"{base}/{key}Groups"}
            )  # fmt: skip
        elif kind == "Topic":
            topics.append(prop)
    ids = measure_identifiers([t["Key"] for t in topics])
    measures = [
        {"Identifier": ids[t["Key"]], "Index": i + 1, "Title": t.get("Title"), "Description": "",
         "MeasureGroupId": None, "DataType": t.get("Datatype"), "Unit": t.get("Unit") or "",
         "Decimals": t.get("Decimals"), "PresentationType": t.get("PresentationType")}
        for i, t in enumerate(topics)
    ]  # fmt: skip
    codes: dict[str, list[dict[str, Any]]] = {}
    for dim in dims:
        key = dim["Identifier"]
        listed = []
        for i, code in enumerate(served.code_lists.get(key, [])):
            entry = {"Identifier": str(code["Key"]).strip(), "Index": i + 1,
                     "Title": str(code.get("Title") or "").strip(), "Description": "",
                     "DimensionGroupId": None}  # fmt: skip
            if dim["Kind"] == "TimeDimension":
                entry["Status"] = code.get("Status") or None
                if entry["Status"] == "NaderVoorlopig":
                    entry["Status"] = "Nader voorlopig"
            listed.append(entry)
        codes[key] = listed
    keys = [d["Identifier"] for d in dims]
    observations = []
    for row in served.typed_rows or []:
        for topic in topics:
            value = row.get(topic["Key"])
            observations.append(
                {"Id": len(observations), "Measure": ids[topic["Key"]],
                 "ValueAttribute": "None" if value is not None else "Impossible",
                 "Value": value, "StringValue": None,
                 **{k: str(row[k]).strip() for k in keys}}
            )  # fmt: skip
    info = served.info or {}
    properties = {
        "@odata.context": f"{base}/$metadata#Properties", "Identifier": served.table_id,
        "Title": info.get("Title"), "Description": info.get("Summary") or "",
        "Language": "nl", "Catalog": "CBS", "Modified": v4_modified(info.get("Modified")),
        "Frequency": info.get("Frequency"), "TemporalCoverage": info.get("Period"),
        "Status": "Regulier", "ObservationCount": len(observations), "DatasetType": "Numeric",
    }  # fmt: skip
    return V4Table(served.table_id, properties, dims, measures, codes, observations)


def v4_modified(modified: str | None) -> str | None:
    """v4 writes Modified with its offset (``2026-02-17T00:00:00+01:00``); v3 without."""
    if modified is None or re.search(r"[+-]\d\d:\d\d$|Z$", modified):
        return modified
    return f"{modified}+01:00"


class V4ReplayServer(ReplayServer):
    """``with V4ReplayServer() as server: fetch_table(..., api='v4', v4_url=server.v4_url)``."""

    def __init__(self, page_size: int = DEFAULT_PAGE_SIZE, snapshot_dir: Path = paths.SNAPSHOT_DIR,
                 table_ids: set[str] | None = None, recordings: bool = True):  # fmt: skip
        super().__init__(page_size, snapshot_dir, table_ids, recordings)
        self.v4_overrides: dict[str, V4Table] = {}

    @property
    def v4_url(self) -> str:
        return f"{self.url}{ROOT}"

    def v4_table(self, table_id: str) -> V4Table | None:
        """The table as served (with overrides and a changed Modified), None if unknown."""
        if self.table_ids is not None and table_id not in self.table_ids:
            return None
        table = self.v4_overrides.get(table_id)
        if table is None and self.recordings and table_id.lower() == "80072ned":
            table = recorded_80072ned()
        if table is None:
            try:
                table = build_v4_table(self.snapshot_dir, table_id)
            except (KeyError, FileNotFoundError):
                return None
        if table_id in self.modified:
            props = {**table.properties, "Modified": self.modified[table_id]}
            table = V4Table(table.table_id, props, table.dimensions, table.measures,
                            table.codes, table.observations)  # fmt: skip
        return table

    def take_fault(self, record: RequestRecord):
        _classify(record)  # before a fault is matched by resource
        return super().take_fault(record)

    def answer(self, record: RequestRecord, base_url: str) -> Answer:
        path = record.path
        if not path.startswith(f"{ROOT}/CBS"):
            return _error(404, f"no such resource: {path}")
        _classify(record)
        root = f"{base_url}{ROOT}/CBS"
        if record.resource == "CBS":
            return Answer(200, read_body(FIXTURES / "80072ned" / "_catalog_root.json.gz"))
        if record.resource == "Datasets":
            return self.answer_datasets(record, root)
        table = self.v4_table(record.table_id)
        if table is None:
            return _error(404, f"Dataset {record.table_id} not found")
        resource = record.resource
        plain = not (set(record.params) - {"$format"})
        fits = resource != "Observations" or len(table.observations) <= self.page_size
        if plain and fits and resource in table.recorded and not self._overridden(table):
            return Answer(200, table.recorded[resource])
        if resource == "":
            sets = ["MeasureCodes", "Dimensions", "Observations"]
            sets += [f"{d}{s}" for d in table.codes for s in ("Groups", "Codes")]
            value = [{"name": n, "kind": "EntitySet", "url": n} for n in sets]
            value.append({"name": "Properties", "kind": "Singleton", "url": "Properties"})
            return _json({"@odata.context": f"{root}/{table.table_id}/$metadata", "value": value})
        if resource == "Properties":
            return _json(table.properties)
        rows = table.collection(resource)
        if rows is None:
            return _error(404, f"Resource {resource} not found for {table.table_id}")
        context = f"{root}/{table.table_id}/$metadata#{resource}"
        return self.page(record, rows, table.fields(resource), context,
                         f"{root}/{table.table_id}/{resource}")  # fmt: skip

    def _overridden(self, table: V4Table) -> bool:
        return table.table_id in self.v4_overrides or table.table_id in self.modified

    def answer_datasets(self, record: RequestRecord, root: str) -> Answer:
        _, recorded = recorded_datasets()
        listed = {e["Identifier"].lower() for e in recorded}
        rows = list(recorded)
        for table_id in sorted(declarations(), key=str.lower):
            decl = declarations()[table_id]
            if table_id.lower() in listed or decl.publisher != "CBS" or not table_id.isalnum():
                continue
            if self.table_ids is not None and table_id not in self.table_ids:
                continue
            meta = store.read_meta(self.snapshot_dir, table_id)
            if meta is not None:
                modified = self.modified.get(table_id) or v4_modified(v3.default_modified(meta))
                rows.append(
                    {"Identifier": table_id, "Catalog": "CBS", "Title": meta["title"],
                     "Description": "", "Modified": modified, "Status": "Regulier",
                     "ObservationCount": None, "Language": "nl"}
                )  # fmt: skip
        fields = set().union(*rows)
        return self.page(record, rows, fields, f"{root}/$metadata#Datasets", f"{root}/Datasets")

    def page(self, record: RequestRecord, rows: list[dict], fields: set[str], context: str,
             url: str) -> Answer:  # fmt: skip
        try:
            text_filter = record.params.get("$filter")
            if text_filter:
                key = (url, text_filter, id(rows))
                cached = self._query_cache.get(key)
                if cached is None or cached[0] is not rows:
                    predicate = v3.compile_filter(text_filter, fields)
                    cached = (rows, [row for row in rows if predicate(row)])
                    self._query_cache[key] = cached
                rows = cached[1]
            skip = int(record.params.get("$skip", 0))
            top = int(record.params["$top"]) if "$top" in record.params else None
        except (ODataQueryError, ValueError) as exc:
            return _error(400, str(exc))
        window = rows[skip:] if top is None else rows[skip : skip + top]
        body: dict[str, Any] = {"@odata.context": context}
        if record.params.get("$count") == "true":
            body["@odata.count"] = len(rows)
        body["value"] = window[: self.page_size]
        if len(window) > self.page_size:
            kept = [(k, v) for k, v in record.params.items() if k not in {"$skip", "$top"}]
            kept.append(("$skip", str(skip + self.page_size)))
            if top is not None:
                kept.append(("$top", str(top - self.page_size)))
            body["@odata.nextLink"] = (
                url + "?" + "&".join(f"{k}={quote(v, safe=v3._QUERY_SAFE)}" for k, v in kept)
            )
        return _json(body)


def _classify(record: RequestRecord) -> None:
    """``/odata/v1/CBS/<id>/<resource>`` -> the record's table_id and resource ('' for the
    table root); ``/odata/v1/CBS`` -> resource 'CBS', ``/CBS/Datasets`` -> 'Datasets'."""
    record.service = "v4"
    parts = [p for p in record.path[len(f"{ROOT}/CBS") :].split("/") if p]
    if not parts:
        record.resource = "CBS"
    elif parts == ["Datasets"]:
        record.resource = "Datasets"
    else:
        record.table_id, record.resource = parts[0], "/".join(parts[1:])


def _json(body: dict[str, Any]) -> Answer:
    return Answer(200, json.dumps(body, ensure_ascii=False).encode("utf-8"))


def _error(status: int, message: str) -> Answer:
    body = {"error": {"code": str(status), "message": message}}
    return Answer(status, json.dumps(body).encode())


def recorded_2026(table_id: str, raw_dir: Path) -> V4Table:
    """A 2026 capture of the current service (83625NED), as recorded: the files data/raw holds
    (observations, period codes) and those tests/fixtures/cbs-api-v4 adds (properties,
    dimensions, measure codes, region codes). Served from its rows (the capture is a slice:
    ``index.json``'s sliceFilter), with the current shape's fields as CBS sent them."""
    fixtures, raw = FIXTURES / table_id, raw_dir / "cbs" / table_id

    def doc(folder: Path, name: str) -> Any:
        return json.loads(read_body(folder / f"{name}.gz"))

    dims = doc(fixtures, "dimensions.json")["value"]
    codes = {}
    for dim in dims:
        key = dim["Identifier"]
        folder = fixtures if (fixtures / f"codes-{key}.json.gz").exists() else raw
        codes[key] = doc(folder, f"codes-{key}.json")["value"]
    return V4Table(
        table_id=table_id,
        properties=doc(fixtures, "properties.json"),
        dimensions=dims,
        measures=doc(fixtures, "measure-codes.json")["value"],
        codes=codes,
        observations=doc(raw, "observations-page-1.json")["value"],
    )
