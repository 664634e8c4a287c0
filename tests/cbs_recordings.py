"""Recorded answers of the real CBS OData v3 service (``tests/fixtures/cbs-api/``), read for the
replay server and for the tests that compare the live path with them.

Every folder keeps the recording's ``PROVENANCE.md``. JSON bodies are stored gzip-compressed;
:func:`read_body` gives the bytes CBS sent. 84799NED was recorded as parquet by statline-bq:
:func:`converted_84799ned` turns it back into JSON bodies, undoing only what its PROVENANCE says the
recorder changed (the column ``odata_type`` was ``odata.type``; numbers were stored as floats:
rounded here to each topic's ``Decimals``). Nothing here reads outside the repository and nothing
uses noordstats: the tests compare the library's results with what this module reads.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import math
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "cbs-api"
CBS_URL = "https://opendata.cbs.nl"
CBS_PAGE_SIZE = 10_000  # rows per page in CBS's answers (83599NED: 10,000 + 5,504)

Row = dict[str, Any]


@dataclass(frozen=True)
class RecordedPage:
    skip: int  # the $skip that asked for it
    body: bytes | None  # as CBS sent it; None for a converted resource (see body_84799ned)
    rows: list[Row]


@dataclass(frozen=True)
class RecordedResource:
    """One resource of a recorded table: its pages, and whether their bytes are CBS's own
    (``exact``) or converted back from another format (84799NED)."""

    name: str  # "" for the service root (the table's resource listing)
    pages: tuple[RecordedPage, ...]
    rows: list[Row]  # every page's rows, in order (one list object, shared with the server)
    metadata_url: str  # the answer's odata.metadata
    exact: bool = True


def read_body(path: Path) -> bytes:
    """The bytes of a stored body (``.gz`` decompressed)."""
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


def stored_files(folder: Path) -> dict[str, bytes]:
    """{recorded file name: its bytes as recorded} for every file of a fixture folder except
    PROVENANCE.md (``X.json.gz`` is named ``X.json``)."""
    return {
        path.name.removesuffix(".gz"): read_body(path)
        for path in sorted(folder.iterdir())
        if path.is_file() and path.name != "PROVENANCE.md"
    }


def provenance_sha256(folder: Path) -> set[str]:
    """Every sha256 (64 hex digits) written in the folder's PROVENANCE.md."""
    text = (folder / "PROVENANCE.md").read_text(encoding="utf-8")
    return set(re.findall(r"\b[0-9a-f]{64}\b", text))


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _resource(name: str, bodies: list[tuple[int, bytes]]) -> RecordedResource:
    pages, rows, metadata = [], [], ""
    for skip, body in bodies:
        doc = json.loads(body)
        page_rows = doc["value"]
        pages.append(RecordedPage(skip, body, page_rows))
        rows.extend(page_rows)
        metadata = metadata or doc.get("odata.metadata", "")
    if len(pages) == 1:
        rows = pages[0].rows
    return RecordedResource(name, tuple(pages), rows, metadata)


@cache
def recorded_80137ned() -> dict[str, RecordedResource]:
    """80137ned, a whole table: service root (key ""), TableInfos, CategoryGroups, DataProperties,
    three code lists and TypedDataSet (675 rows, one page)."""
    folder = FIXTURES / "80137ned"
    bodies = stored_files(folder)
    resources = {}
    for file_name, body in bodies.items():
        name = file_name.removesuffix(".json")
        name = "" if name == "_service_root" else name
        resources[name] = _resource(name, [(0, body)])
    return resources


@cache
def recorded_83599ned() -> dict[str, RecordedResource]:
    """83599NED: only UntypedDataSet, as CBS paged it (10,000 rows + 5,504 rows)."""
    folder = FIXTURES / "83599NED-pages"
    first = read_body(folder / "UntypedDataSet.page1.json.gz")
    second = read_body(folder / "UntypedDataSet.page2_skip10000.json.gz")
    return {"UntypedDataSet": _resource("UntypedDataSet", [(0, first), (CBS_PAGE_SIZE, second)])}


def _parquet_rows(path: Path) -> list[Row]:
    import pyarrow.parquet as pq

    return pq.read_table(path).to_pylist()


@cache
def converted_84799ned() -> dict[str, RecordedResource]:
    """84799NED's DataProperties, WijkenEnBuurten code list and TypedDataSet (17,341 rows) as JSON
    bodies. Undone: the rename ``odata.type`` -> ``odata_type``; float storage (values rounded to
    the topic's Decimals). Left as the recorder wrote them: every field of a parquet column is in
    every row (``null`` where CBS may have sent no field), the row order, the page boundaries (CBS
    paged TypedDataSet at 10,000 rows; statline-bq joined the pages: the server pages again)."""
    folder = FIXTURES / "84799NED"
    properties = [
        {("odata.type" if key == "odata_type" else key): value for key, value in row.items()}
        for row in _parquet_rows(folder / "cbs.v3.84799NED_DataProperties.parquet")
    ]
    decimals = {p["Key"]: p["Decimals"] for p in properties if p["Type"] == "Topic"}
    typed = []
    for row in _parquet_rows(folder / "cbs.v3.84799NED_TypedDataSet.parquet"):
        for key, value in row.items():
            if isinstance(value, float):
                if math.isnan(value):
                    raise ValueError(f"84799NED TypedDataSet: NaN in {key}")
                row[key] = round(value, decimals[key])
        typed.append(row)
    regions = _parquet_rows(folder / "cbs.v3.84799NED_WijkenEnBuurten.parquet")
    resources = {}
    for name, rows in [
        ("DataProperties", properties),
        ("WijkenEnBuurten", regions),
        ("TypedDataSet", typed),
    ]:
        metadata = f"{CBS_URL}/ODataFeed/OData/84799NED/$metadata#Cbs.OData.WebAPI.{name}"
        resources[name] = RecordedResource(
            name, (RecordedPage(0, None, rows),), rows, metadata, exact=False
        )
    return resources


def body_84799ned(name: str) -> bytes:
    """One converted resource of 84799NED as a JSON body ``{"odata.metadata": ..., "value":
    [rows]}`` (all rows in one body; TypedDataSet is 68 MB)."""
    resource = converted_84799ned()[name]
    body = {"odata.metadata": resource.metadata_url, "value": resource.rows}
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


def catalog_entry_84799ned() -> Row:
    """84799NED's recorded ODataCatalog entry (``*_Metadata.json``)."""
    return json.loads(read_body(FIXTURES / "84799NED" / "cbs.v3.84799NED_Metadata.json.gz"))


@cache
def recorded_catalog() -> RecordedResource:
    """The 20 recorded entries of ``/ODataCatalog/Tables``."""
    body = read_body(FIXTURES / "ODataCatalog-sample" / "Tables.json.gz")
    return _resource("Tables", [(0, body)])


#: recorded table id -> its resources
RECORDED_TABLES = {
    "80137ned": recorded_80137ned,
    "83599NED": recorded_83599ned,
    "84799NED": converted_84799ned,
}


def recorded_table(table_id: str) -> dict[str, RecordedResource] | None:
    """The recorded resources of a table (ids compared without case, as CBS does), or None."""
    for known, load in RECORDED_TABLES.items():
        if known.lower() == table_id.lower():
            return load()
    return None
