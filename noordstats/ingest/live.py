"""Live CBS data through ``cbsodata`` (OData v3); the only module that talks HTTP.

:func:`fetch_table` asks CBS for the table's ``Modified`` date first and reuses the local cache
(:mod:`noordstats.storage.cache`) when it matches; otherwise it downloads the table's properties,
the code list of every dimension and the ``TypedDataSet`` rows with their codes, and brings them
into the canonical tidy frame with the same importer code the snapshot uses.

HTTP behaviour (timeouts, retries with exponential backoff on connection errors, timeouts,
HTTP 429/500/502/503/504 and broken JSON, ``Retry-After``, a guard against ``odata.nextLink``
loops) is added to cbsodata's requests for the duration of one call and removed afterwards; so
is the catalog's scheme (``http://`` for a local server). Settings: ``NOORDSTATS_CATALOG_URL``,
``NOORDSTATS_HTTP_TIMEOUT`` (seconds, or ``connect,read``), ``NOORDSTATS_HTTP_ATTEMPTS``,
``NOORDSTATS_HTTP_BACKOFF`` (first wait in seconds, doubled per retry).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cbsodata
import cbsodata.cbsodata3 as cbsodata3
import pandas as pd
import requests

from noordstats import regions as region_registry
from noordstats.cbs_codes import CodeError
from noordstats.declarations.tables import TableDeclaration, get_declaration
from noordstats.ingest.importers.common import SourceFormatError, assemble
from noordstats.ingest.importers.odata_v3 import tidy_from_v3_rows
from noordstats.ingest.snapshot_build import SNAPSHOT_RULE, describe
from noordstats.storage import cache, store

log = logging.getLogger(__name__)

DEFAULT_CATALOG = "opendata.cbs.nl"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_TRANSIENT_ERRORS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)
_CBSODATA_LOCK = threading.Lock()
_CBS_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_CBS_TABLE_ID = re.compile(r"[0-9A-Za-z]+")
_CBS_CODE = re.compile(r"[0-9A-Za-z_]+")
_HOST = r"[A-Za-z0-9](?:[A-Za-z0-9.\-]*[A-Za-z0-9])?(?::\d{1,5})?(?:/[\w.\-]+)*"

#: progress callback: (table id, resource name, rows in the page just received)
Progress = Callable[[str, str, int], None]


class LiveUnavailableError(RuntimeError):
    """CBS could not deliver the table (network, HTTP error, unusable answer). One line."""

    problem = "CBS not reachable at {url} ({reason})"

    def __init__(self, table_id: str, url: str, reason: str, cached: dict | None = None):
        self.table_id, self.url, self.reason, self.cached = table_id, url, reason, cached
        if cached is None:
            advice = f"nothing cached for {table_id}; use --source snapshot"
        else:
            advice = f"newest cached copy of {table_id}: CBS Modified {cached.get('modified')}"
        self.problem_text = self.problem.format(table_id=table_id, url=url, reason=reason)
        super().__init__(f"{self.problem_text} and {advice}")


class LiveDataError(LiveUnavailableError):
    """CBS answered, but with data that cannot be used as declared (schema drift, no rows, the
    table changed during the download)."""

    problem = "CBS table {table_id} at {url} unusable ({reason})"


class LiveNotSupportedError(LiveUnavailableError):
    """The table cannot be fetched live at all (not a CBS table, or declared with keys that are
    not CBS keys because its source had labels only); the snapshot is where it lives."""

    problem = "{table_id} cannot be fetched live ({reason})"


class LiveConfigError(ValueError):
    """A catalog URL or HTTP setting that cannot be used (bad input: exit status 2)."""


@dataclass(frozen=True)
class Catalog:
    host: str  # what cbsodata calls catalog_url: host[:port][/path]
    use_https: bool

    @property
    def url(self) -> str:
        return f"{'https' if self.use_https else 'http'}://{self.host}"


def resolve_catalog(catalog_url: str | None = None) -> Catalog:
    """``'http://127.0.0.1:8765'`` -> Catalog('127.0.0.1:8765', use_https=False); a bare host
    means https. Default: ``NOORDSTATS_CATALOG_URL``, else opendata.cbs.nl."""
    text = (catalog_url or os.environ.get("NOORDSTATS_CATALOG_URL") or DEFAULT_CATALOG).strip()
    scheme, sep, rest = text.partition("://")
    if not sep:
        scheme, rest = "https", text
    host = rest.rstrip("/")
    if scheme not in {"http", "https"} or not re.fullmatch(_HOST, host):
        raise LiveConfigError(
            f"not a catalog URL: {text!r} (e.g. opendata.cbs.nl, https://dataderden.cbs.nl, "
            "http://127.0.0.1:8765)"
        )
    return Catalog(host, scheme == "https")


@dataclass(frozen=True)
class HttpPolicy:
    """Timeouts and retries for one fetch."""

    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    attempts: int = 4
    backoff: float = 1.0  # first wait; doubled after every failed attempt
    max_wait: float = 60.0  # longest single wait; a longer Retry-After gives up instead
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)

    @classmethod
    def from_env(cls, **overrides: Any) -> HttpPolicy:
        values: dict[str, Any] = {}
        timeout = os.environ.get("NOORDSTATS_HTTP_TIMEOUT")
        if timeout:
            parts = [_positive("NOORDSTATS_HTTP_TIMEOUT", p) for p in timeout.split(",")]
            if len(parts) > 2:
                raise LiveConfigError("NOORDSTATS_HTTP_TIMEOUT: expected SECONDS or CONNECT,READ")
            values["connect_timeout"], values["read_timeout"] = parts[0], parts[-1]
        if os.environ.get("NOORDSTATS_HTTP_ATTEMPTS"):
            attempts = _positive("NOORDSTATS_HTTP_ATTEMPTS", os.environ["NOORDSTATS_HTTP_ATTEMPTS"])
            if attempts != int(attempts):
                raise LiveConfigError("NOORDSTATS_HTTP_ATTEMPTS: expected a whole number >= 1")
            values["attempts"] = int(attempts)
        if os.environ.get("NOORDSTATS_HTTP_BACKOFF"):
            values["backoff"] = _positive(
                "NOORDSTATS_HTTP_BACKOFF", os.environ["NOORDSTATS_HTTP_BACKOFF"], zero=True
            )
        return cls(**{**values, **overrides})


def _positive(name: str, text: str, zero: bool = False) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if value < 0 or (value == 0 and not zero):
        raise LiveConfigError(f"{name}: expected a number of seconds > 0, got {text!r}")
    return value


class _TransportError(Exception):
    """A request that kept failing after every attempt (internal; becomes LiveUnavailableError)."""


class _UnusableAnswer(Exception):
    """CBS answered with something that cannot be used (internal; becomes LiveDataError)."""


class _Transport:
    """What noordstats adds to each request cbsodata makes: timeout, retries, loop guard and
    a progress hook. One instance per fetch; ``begin`` starts a new resource download."""

    def __init__(self, policy: HttpPolicy, on_page: Callable[[str, int], None]):
        self.policy, self.on_page = policy, on_page
        self.resource = ""
        self.seen_urls: set[str] = set()
        self.request_count = 0

    def begin(self, resource: str) -> None:
        self.resource, self.seen_urls = resource, set()

    def send(self, send: Callable[..., requests.Response], request, **kwargs) -> requests.Response:
        if request.url in self.seen_urls:
            raise _TransportError(f"odata.nextLink of {self.resource} loops back to a page it gave")
        self.seen_urls.add(request.url)
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = (self.policy.connect_timeout, self.policy.read_timeout)
        policy = self.policy
        for attempt in range(1, policy.attempts + 1):
            self.request_count += 1
            wait = policy.backoff * 2 ** (attempt - 1)
            try:
                response = send(request, **kwargs)
            except _TRANSIENT_ERRORS as exc:
                reason = describe_request_error(exc, kwargs["timeout"])
            else:
                if response.status_code in RETRY_STATUSES:
                    reason = f"HTTP {response.status_code}"
                    retry_after = parse_retry_after(response.headers.get("Retry-After"))
                    if retry_after is not None:
                        if retry_after > policy.max_wait:
                            raise _TransportError(f"{reason}, Retry-After {retry_after:g} s")
                        wait = max(wait, retry_after)
                elif response.ok and (rows := _count_rows(response)) is None:
                    reason = "broken JSON in the response"
                else:
                    if response.ok:
                        self.on_page(self.resource, rows)
                    return response
            if attempt == policy.attempts:
                raise _TransportError(f"{reason}; {attempt} attempt{'s' if attempt > 1 else ''}")
            wait = min(wait, policy.max_wait)
            log.warning(
                "%s: %s; retry %d of %d in %.2f s",
                self.resource, reason, attempt, policy.attempts - 1, wait,
            )  # fmt: skip
            policy.sleep(wait)
        raise AssertionError("unreachable")


class _GuardedSession(requests.Session):
    """The Session cbsodata creates for every page, with the fetch's transport in between."""

    def __init__(self, transport: _Transport):
        super().__init__()
        self.transport = transport

    def send(self, request, **kwargs) -> requests.Response:
        return self.transport.send(super().send, request, **kwargs)


def _count_rows(response: requests.Response) -> int | None:
    """Rows in a JSON page; None if the body is not the JSON object cbsodata expects."""
    try:
        body = json.loads(response.content)
    except ValueError:
        return None
    if not isinstance(body, dict) or not isinstance(body.get("value"), list):
        return None
    return len(body["value"])


def parse_retry_after(value: str | None) -> float | None:
    """``Retry-After`` in seconds (a number or an HTTP date); None if absent or unreadable."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


def describe_request_error(exc: Exception, timeout: tuple[float, float] | None = None) -> str:
    """A short reason for a failed request: 'connection refused', 'read timed out after 5 s'."""
    if isinstance(exc, requests.ConnectTimeout):
        return f"connect timed out after {timeout[0]:g} s" if timeout else "connect timed out"
    text = str(exc)
    if isinstance(exc, requests.Timeout) or "Read timed out" in text:
        return f"read timed out after {timeout[1]:g} s" if timeout else "read timed out"
    errno = re.search(r"\[Errno -?\d+\] ([^'\")]+)", text)
    if errno:
        return errno.group(1).strip().lower()
    for known in ("Connection reset by peer", "Remote end closed connection without response"):
        if known in text:
            return known.lower()
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return "response cut off"
    return type(exc).__name__


@contextmanager
def _cbsodata_session(catalog: Catalog, transport: _Transport) -> Iterator[None]:
    """Point cbsodata at the catalog's scheme and route its requests through ``transport``;
    restore cbsodata's globals afterwards (one call at a time)."""
    with _CBSODATA_LOCK:
        old_https, old_session = cbsodata.options.use_https, cbsodata3.Session
        cbsodata.options.use_https = catalog.use_https
        cbsodata3.Session = lambda: _GuardedSession(transport)
        try:
            yield
        finally:
            cbsodata3.Session = old_session
            cbsodata.options.use_https = old_https


class _Client:
    """cbsodata calls for one fetch."""

    def __init__(self, catalog: Catalog, policy: HttpPolicy, table_id: str, progress: Progress):
        self.catalog, self.table_id = catalog, table_id
        self.transport = _Transport(
            policy, lambda resource, rows: progress(table_id, resource, rows)
        )

    def get(self, resource: str, **query: Any) -> list[dict[str, Any]]:
        self.transport.begin(resource)
        with _cbsodata_session(self.catalog, self.transport):
            return cbsodata.get_meta(
                self.table_id, resource, catalog_url=self.catalog.host, **query
            )

    def get_modified(self) -> tuple[str, dict[str, Any]]:
        infos = self.get("TableInfos")
        if not infos or not infos[0].get("Modified"):
            raise _UnusableAnswer("TableInfos has no Modified date")
        return str(infos[0]["Modified"]), infos[0]


def fetch_table(
    table_id: str,
    catalog_url: str | None = None,
    regions: Sequence[str] | None = None,
    policy: HttpPolicy | None = None,
    progress: Progress | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Fetch a declared CBS table live -> (tidy frame, metadata record).

    Reuses the cached download when CBS's ``Modified`` date has not changed. ``regions``:
    region codes to download (a ``$filter`` on the region dimension). Raises
    :class:`LiveUnavailableError` when CBS cannot deliver the table. A download that cannot
    be cached (disk full, read-only) is returned with ``meta['cache_path'] = None`` and
    ``meta['cache_error']``, the older cache left as it was.
    """
    decl = get_declaration(table_id)
    region_list = _check_regions(decl, regions)
    catalog = resolve_catalog(catalog_url)
    if problem := live_problem(decl):
        raise LiveNotSupportedError(decl.id, catalog.url, problem, _newest_cached_meta(decl.id))
    client = _Client(catalog, policy or HttpPolicy.from_env(), decl.id, progress or _no_progress)
    try:
        modified, info = client.get_modified()
        cached = cache.read_entry(decl.id, modified, region_list)
        if cached is not None:
            log.info("%s: Modified %s unchanged: %s", decl.id, modified, cached[1]["cache_path"])
            return cached
        frame, meta = _download(client, decl, info, region_list)
        modified_after, _ = client.get_modified()
        if modified_after != modified:
            raise _UnusableAnswer(
                f"table changed during download: Modified {modified} -> {modified_after}"
            )
    except _UnusableAnswer as exc:
        raise LiveDataError(decl.id, catalog.url, str(exc), _newest_cached_meta(decl.id)) from None
    except (_TransportError, requests.RequestException) as exc:
        reason = str(exc) if isinstance(exc, _TransportError) else _http_reason(exc)
        raise LiveUnavailableError(
            decl.id, catalog.url, reason, _newest_cached_meta(decl.id)
        ) from None
    try:
        folder = cache.write_entry(decl.id, modified, region_list, frame, meta)
    except OSError as exc:
        log.warning("%s: downloaded but not cached (%s)", decl.id, exc)
        return frame, {**meta, "cache_path": None, "cache_error": str(exc)}
    log.info("%s: CBS Modified %s cached in %s", decl.id, modified, folder)
    return frame, {**meta, "cache_path": str(folder)}


def read_cached(table_id: str) -> tuple[pd.DataFrame, dict[str, Any]] | None:
    """The newest complete cached download of the whole table, or None."""
    return cache.read_newest(get_declaration(table_id).id)


def _newest_cached_meta(table_id: str) -> dict | None:
    found = cache.read_newest(table_id)
    return None if found is None else found[1]


def _no_progress(table_id: str, resource: str, rows: int) -> None:
    return None


def _http_reason(exc: requests.RequestException) -> str:
    response = getattr(exc.__cause__, "response", None)
    if response is None:
        response = getattr(exc, "response", None)
    if response is not None:
        return f"HTTP {response.status_code} {response.reason or ''}".strip()
    return describe_request_error(exc)


def _download(
    client: _Client, decl: TableDeclaration, info: dict[str, Any], regions: list[str] | None
) -> tuple[pd.DataFrame, dict[str, Any]]:
    url = client.catalog.url
    properties = client.get("DataProperties")
    topics = {p["Key"]: p for p in properties if p.get("Type") == "Topic"}
    if problems := schema_problems(decl, properties):
        raise _UnusableAnswer("schema drift: " + "; ".join(problems) + "; update data/tables.yaml")
    names = {}
    for key, dim in decl.dimensions.items():
        names[key] = {str(c["Key"]).strip(): str(c["Title"]) for c in client.get(key)}
        if gone := sorted(set(dim.codes.values()) - set(names[key])):
            raise _UnusableAnswer(
                f"schema drift: declared {key} code(s) {', '.join(gone[:5])} no longer at CBS; "
                "update data/tables.yaml"
            )
    period_status = {
        str(p["Key"]).strip(): p.get("Status") for p in client.get(decl.period_dimension)
    }
    columns = [*dimension_keys(decl), *decl.measures]
    rows = client.get("TypedDataSet", select=["ID", *columns], filters=region_filter(decl, regions))
    if not rows:
        raise _UnusableAnswer("TypedDataSet has no rows" + _for_regions(regions))
    frame = pd.DataFrame.from_records(rows, columns=["ID", *columns])
    source = f"{url}/ODataFeed/odata/{decl.id}/TypedDataSet"
    try:
        tidy = tidy_from_v3_rows(
            decl, frame, dimension_names=names, period_status=period_status, path=source
        )
        frame = assemble(decl, tidy)
    except (SourceFormatError, CodeError) as exc:
        raise _UnusableAnswer(str(exc).splitlines()[0]) from None
    return frame, describe_live(decl, frame, info, topics, url, regions)


def schema_problems(decl: TableDeclaration, properties: list[dict[str, Any]]) -> list[str]:
    """Differences between CBS's DataProperties and the declaration that make a download
    unusable: a declared measure or dimension CBS no longer has, a dimension CBS added.
    Measures CBS added are not downloaded (logged)."""
    kinds = {"Dimension", "GeoDimension", "TimeDimension", "GeoDetail"}
    cbs_dims = {p["Key"] for p in properties if p.get("Type") in kinds}
    topics = {p["Key"] for p in properties if p.get("Type") == "Topic"}
    declared_dims = set(dimension_keys(decl))
    problems = []
    if gone := sorted(set(decl.measures) - topics):
        problems.append(f"measure(s) {', '.join(gone)} no longer at CBS")
    if gone := sorted(declared_dims - cbs_dims):
        problems.append(f"dimension(s) {', '.join(gone)} no longer at CBS")
    if added := sorted(cbs_dims - declared_dims):
        problems.append(f"dimension(s) {', '.join(added)} added at CBS")
    if extra := sorted(topics - set(decl.measures)):
        log.info("%s: CBS measures not declared (not downloaded): %s", decl.id, ", ".join(extra))
    return problems


def live_problem(decl: TableDeclaration) -> str | None:
    """Why a declared table cannot be fetched from CBS's OData service, or None if it can."""
    if decl.publisher != "CBS":
        return f"a {decl.publisher} table, not at CBS"
    if not _CBS_TABLE_ID.fullmatch(decl.id):
        return "not a CBS table id; a copy declared under its own id"
    keys = [*dimension_keys(decl), *decl.measures]
    if bad := [k for k in keys if not _CBS_KEY.fullmatch(k)]:
        return f"declared with labels, not CBS keys: {', '.join(repr(k) for k in bad[:3])}"
    meta = store.read_snapshot_meta(decl.id) or {}
    for key, dim in meta.get("dimensions", {}).items():
        if rebuilt := [c for c in dim["codes"] if _is_label_code(c)]:
            return (
                f"{key} codes in the snapshot were rebuilt from labels (e.g. {rebuilt[0]!r}); "
                "CBS's keys would not match them"
            )
    return None


def _is_label_code(code: str) -> bool:
    """A code made from a label by :func:`noordstats.ingest.importers.common.label_codes`
    (``'L_totaal'``, ``'A-U'``), not a CBS key."""
    return code.startswith("L_") or not _CBS_CODE.fullmatch(code)


def dimension_keys(decl: TableDeclaration) -> list[str]:
    """The CBS keys of the table's dimensions: region (unless national), period, others."""
    region = [] if getattr(decl, "national", False) else [decl.region_dimension]
    return [*region, decl.period_dimension, *decl.dimensions]


def _check_regions(decl: TableDeclaration, regions: Sequence[str] | None) -> list[str] | None:
    """Known region codes, sorted; None for the whole table (also for a national table asked
    for NL01)."""
    codes = sorted({region_registry.check_region(code.strip()) for code in regions or []})
    if codes and getattr(decl, "national", False):
        if set(codes) != {region_registry.NETHERLANDS}:
            raise LiveConfigError(
                f"{decl.id} is a national table: only {region_registry.NETHERLANDS} can be asked"
            )
        return None
    return codes or None


def region_filter(decl: TableDeclaration, regions: list[str] | None) -> str | None:
    """OData ``$filter`` for region codes; ``startswith`` because CBS pads keys ('PV20  ')."""
    if not regions:
        return None
    return " or ".join(f"startswith({decl.region_dimension},'{code}')" for code in regions)


def _for_regions(regions: list[str] | None) -> str:
    return f" for regions {', '.join(regions)}" if regions else ""


def describe_live(
    decl: TableDeclaration,
    frame: pd.DataFrame,
    info: dict[str, Any],
    topics: dict[str, dict[str, Any]],
    url: str,
    regions: list[str] | None,
) -> dict[str, Any]:
    """The metadata record of a live download: :func:`~noordstats.ingest.snapshot_build.describe`
    for the frame, with the live source instead of the raw files."""
    fetched_at = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    meta = describe(decl.model_copy(update={"sources": []}), frame, Path())
    scope = f"rows of regions {', '.join(regions)} only" if regions else "every row"
    meta.update(
        {
            "source": "live",
            "catalog_url": url,
            "fetched_at": fetched_at,
            "captured": fetched_at[:10],
            "modified": str(info["Modified"]),
            "cbs_title": info.get("Title"),
            "completeness": "partial" if regions else "complete",
            "completeness_note": f"downloaded live from CBS ({url}, TypedDataSet): {scope}",
            "reduction": SNAPSHOT_RULE,
            "regions_filter": regions,
            "sources": [
                {
                    "url": f"{url}/ODataFeed/odata/{decl.id}/TypedDataSet",
                    "filter": region_filter(decl, regions),
                    "modified": str(info["Modified"]),
                    "fetched_at": fetched_at,
                }
            ],
            "cbs_units": {k: topics[k].get("Unit") for k in decl.measures},
        }
    )
    return meta
