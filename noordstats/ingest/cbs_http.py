"""HTTP to CBS's OData v3 API through ``cbsodata`` and to its OData v4 API
(datasets.cbs.nl, :func:`get_v4`): the only module that talks HTTP.

Timeouts, retries with exponential backoff on connection errors, timeouts, HTTP
429/500/502/503/504 and broken JSON, ``Retry-After``, and a guard against ``odata.nextLink``
loops are added to cbsodata's requests for the duration of one call and removed afterwards; so
is the catalog's scheme (``http://`` for a local server). Settings: ``NOORDSTATS_CATALOG_URL``,
``NOORDSTATS_HTTP_TIMEOUT`` (seconds, or ``connect,read``), ``NOORDSTATS_HTTP_ATTEMPTS``,
``NOORDSTATS_HTTP_BACKOFF`` (first wait in seconds, doubled per retry), ``NOORDSTATS_V4_URL``
(the v4 service root including ``/odata/v1``). v4 requests go through the same transport: the
same timeouts, retries, ``Retry-After`` and loop guard, pages followed by ``@odata.nextLink``
only (no page size is assumed).
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
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import cbsodata
import cbsodata.cbsodata3 as cbsodata3
import requests
import urllib3

from noordstats.errors import UnavailableError, UserError

log = logging.getLogger(__name__)

DEFAULT_CATALOG = "opendata.cbs.nl"
DEFAULT_V4_URL = "https://datasets.cbs.nl/odata/v1"


RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


_TRANSIENT_ERRORS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)


_CBSODATA_LOCK = threading.Lock()

#: how long a service that could not be connected to at all (name not resolved, connection
#: refused, connect timeout, after every attempt) is not asked again in this process: a run
#: with ``--source auto`` on a machine without a network tries CBS once, not once per table
#: with every retry (27 tables x 2 services x 7 s of backoff in one claims report)
UNREACHABLE_MEMORY_SECONDS = 300.0
#: origin (scheme://host:port) -> (why it could not be reached, time.monotonic() then)
_UNREACHABLE: dict[str, tuple[str, float]] = {}


_HOST = r"[A-Za-z0-9](?:[A-Za-z0-9.\-]*[A-Za-z0-9])?(?::\d{1,5})?(?:/[\w.\-]+)*"


#: progress callback: (table id, resource name, rows in the page just received)
Progress = Callable[[str, str, int], None]


class LiveUnavailableError(UnavailableError):
    """CBS could not deliver the table (network, HTTP error, unusable answer). One line."""

    problem = "CBS not reachable at {url} ({reason})"
    #: what happened, as a word a report translates (``unreachable``, ``unusable``, ``not_live``)
    kind = "unreachable"

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
    kind = "unusable"


class LiveNotSupportedError(LiveUnavailableError):
    """The table cannot be fetched live at all (not a CBS table, or declared with keys that are
    not CBS keys because its source had labels only); the snapshot is where it lives."""

    problem = "{table_id} cannot be fetched live ({reason})"
    kind = "not_live"


class CatalogUnavailableError(UnavailableError):
    """CBS's catalog of tables could not be read (network, HTTP error, an unusable answer)."""

    def __init__(self, url: str, reason: str, resource: str = "ODataCatalog/Tables"):
        self.url, self.reason = url, reason
        super().__init__(f"CBS catalog not readable at {url}/{resource} ({reason})")


class LiveConfigError(UserError):
    """A catalog URL or HTTP setting that cannot be used (bad input: exit status 2)."""


class UnknownCBSTableError(LiveConfigError):
    """A table id the catalog does not have (bad input: exit status 2)."""

    def __init__(self, table_id: str, url: str):
        self.table_id, self.url = table_id, url
        super().__init__(
            f"table {table_id!r} is not in the catalog at {url}; find a table with "
            "`noordstats search WORDS`"
        )


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
    scheme, host = _split_service_url(
        text, "a catalog URL", "opendata.cbs.nl, https://dataderden.cbs.nl, http://127.0.0.1:8765"
    )
    return Catalog(host, scheme == "https")


def _split_service_url(text: str, what: str, examples: str) -> tuple[str, str]:
    """(scheme, host[/path]) of a service URL; a bare host means https. LiveConfigError naming
    ``what`` and ``examples`` for anything else."""
    scheme, sep, rest = text.partition("://")
    if not sep:
        scheme, rest = "https", text
    host = rest.rstrip("/")
    if scheme not in {"http", "https"} or not re.fullmatch(_HOST, host):
        raise LiveConfigError(f"not {what}: {text!r} (e.g. {examples})")
    return scheme, host


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
        self.singleton = False  # an OData v4 singleton (Properties): an object, no 'value'

    def begin(self, resource: str, singleton: bool = False) -> None:
        self.resource, self.seen_urls, self.singleton = resource, set(), singleton

    def send(self, send: Callable[..., requests.Response], request, **kwargs) -> requests.Response:
        if request.url in self.seen_urls:
            raise _TransportError(f"odata.nextLink of {self.resource} loops back to a page it gave")
        self.seen_urls.add(request.url)
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = (self.policy.connect_timeout, self.policy.read_timeout)
        policy = self.policy
        origin = _origin(request.url)
        known = _UNREACHABLE.get(origin)
        if known is not None and time.monotonic() - known[1] < UNREACHABLE_MEMORY_SECONDS:
            raise _TransportError(known[0])
        never_connected = True
        for attempt in range(1, policy.attempts + 1):
            self.request_count += 1
            wait = policy.backoff * 2 ** (attempt - 1)
            try:
                response = send(request, **kwargs)
            except _TRANSIENT_ERRORS as exc:
                reason = describe_request_error(exc, kwargs["timeout"])
                never_connected = never_connected and _never_connected(exc)
            else:
                never_connected = False
                _UNREACHABLE.pop(origin, None)
                if response.status_code in RETRY_STATUSES:
                    reason = f"HTTP {response.status_code}"
                    retry_after = parse_retry_after(response.headers.get("Retry-After"))
                    if retry_after is not None:
                        if retry_after > policy.max_wait:
                            raise _TransportError(f"{reason}, Retry-After {retry_after:g} s")
                        wait = max(wait, retry_after)
                elif response.ok and (rows := _count_rows(response, self.singleton)) is None:
                    reason = "broken JSON in the response"
                else:
                    if response.ok:
                        self.on_page(self.resource, rows)
                    return response
            if attempt == policy.attempts:
                message = f"{reason}; {attempt} attempt{'s' if attempt > 1 else ''}"
                if never_connected:
                    _UNREACHABLE[origin] = (message, time.monotonic())
                raise _TransportError(message)
            wait = min(wait, policy.max_wait)
            log.warning(
                "%s: %s; retry %d of %d in %.2f s",
                self.resource, reason, attempt, policy.attempts - 1, wait,
            )  # fmt: skip
            policy.sleep(wait)
        raise AssertionError("unreachable")


def _origin(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _never_connected(exc: Exception) -> bool:
    """The request failed before a connection was made: the name did not resolve, the
    connection was refused or timed out (not a server that broke off an answer)."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    cause = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(exc, requests.ConnectionError) and isinstance(
        cause, urllib3.exceptions.NewConnectionError
    )


def forget_unreachable() -> None:
    """Ask every service again, also one found unreachable a moment ago."""
    _UNREACHABLE.clear()


class _GuardedSession(requests.Session):
    """The Session cbsodata creates for every page, with the fetch's transport in between."""

    def __init__(self, transport: _Transport):
        super().__init__()
        self.transport = transport

    def send(self, request, **kwargs) -> requests.Response:
        return self.transport.send(super().send, request, **kwargs)


def _count_rows(response: requests.Response, singleton: bool = False) -> int | None:
    """Rows in a JSON page; None if the body is not the JSON object cbsodata expects (a
    ``singleton``: any JSON object, one row). The parsed body is kept on the response
    (``noordstats_body``) so that :func:`get_v4` does not parse it twice."""
    try:
        body = json.loads(response.content)
    except ValueError:
        return None
    response.noordstats_body = body
    if singleton and isinstance(body, dict):
        return 1
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
    """cbsodata calls for one fetch (OData v3)."""

    api = "v3"

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

    def data_url(self) -> str:
        return f"{self.catalog.url}/ODataFeed/odata/{self.table_id}/TypedDataSet"

    def get_modified(self) -> tuple[str, dict[str, Any]]:
        infos = self.get("TableInfos")
        if not infos or not infos[0].get("Modified"):
            raise _UnusableAnswer("TableInfos has no Modified date")
        return str(infos[0]["Modified"]), infos[0]


def http_status(exc: requests.RequestException) -> int | None:
    """The HTTP status of a failed request (cbsodata wraps the HTTPError), None without one."""
    response = getattr(exc.__cause__, "response", None)  # a Response of HTTP 404 is falsy
    if response is None:
        response = getattr(exc, "response", None)
    return None if response is None else response.status_code


def _http_reason(exc: requests.RequestException) -> str:
    response = getattr(exc.__cause__, "response", None)
    if response is None:
        response = getattr(exc, "response", None)
    if response is not None:
        return f"HTTP {response.status_code} {response.reason or ''}".strip()
    return describe_request_error(exc)


#: the fields of a catalog entry noordstats reads
CATALOG_FIELDS = ("Identifier", "Title")


def get_catalog(catalog: Catalog, policy: HttpPolicy | None = None) -> tuple[list[dict], int]:
    """Every entry of ``/ODataCatalog/Tables`` -> (entries, requests made). Pages are followed
    by ``odata.nextLink`` (cbsodata's ``get_table_list`` reads the first page only), with the
    timeouts, retries and loop guard of a table download. Raises
    :class:`CatalogUnavailableError` (one line) when the catalog cannot be read or answers
    something that is not a list of tables."""
    transport = _Transport(policy or HttpPolicy.from_env(), lambda resource, rows: None)
    transport.begin("ODataCatalog/Tables")
    entries: list[dict] = []
    url: str | None = f"{catalog.url}/ODataCatalog/Tables?$format=json"
    try:
        with _GuardedSession(transport) as session:
            while url:
                response = session.get(url)
                response.raise_for_status()
                body = response.json()
                page = body["value"]
                if any(not isinstance(e, dict) or not all(f in e for f in CATALOG_FIELDS)
                       for e in page):  # fmt: skip
                    raise _UnusableAnswer("entries without Identifier and Title")
                entries.extend(page)
                url = body.get("odata.nextLink")
    except _UnusableAnswer as exc:
        raise CatalogUnavailableError(catalog.url, f"unusable answer: {exc}") from None
    except _TransportError as exc:
        raise CatalogUnavailableError(catalog.url, str(exc)) from None
    except requests.RequestException as exc:
        raise CatalogUnavailableError(catalog.url, _http_reason(exc)) from None
    return entries, transport.request_count


# ---------------------------------------------------------------- OData v4 (datasets.cbs.nl)


@dataclass(frozen=True)
class V4Service:
    """CBS's OData v4 service root, ``.../odata/v1``; tables are under ``<root>/CBS/<id>``."""

    root: str  # scheme://host[:port][/path], no trailing slash

    @property
    def url(self) -> str:
        return self.root

    def table_url(self, table_id: str) -> str:
        return f"{self.root}/CBS/{table_id}"


def resolve_v4(v4_url: str | None = None) -> V4Service:
    """``NOORDSTATS_V4_URL`` or ``v4_url`` (``http://127.0.0.1:8766/odata/v1``; a bare host
    means https) -> V4Service. Default: https://datasets.cbs.nl/odata/v1."""
    text = (v4_url or os.environ.get("NOORDSTATS_V4_URL") or DEFAULT_V4_URL).strip()
    scheme, host = _split_service_url(
        text,
        "an OData v4 service URL",
        "https://datasets.cbs.nl/odata/v1, http://127.0.0.1:8766/odata/v1",
    )
    return V4Service(f"{scheme}://{host}")


def get_v4(
    transport: _Transport,
    url: str,
    params: dict[str, str] | None = None,
    resource: str = "",
    singleton: bool = False,
) -> dict[str, Any] | list[dict[str, Any]]:
    """One OData v4 resource through ``transport``: a collection (every page, followed by
    ``@odata.nextLink`` as given, never by an assumed page size) as a list of entries, or a
    ``singleton`` (``Properties``) as its object. Raises ``requests.RequestException`` (HTTP
    errors), :class:`_TransportError` (gave up after retries, a nextLink loop) or
    :class:`_UnusableAnswer` (not an OData answer)."""
    transport.begin(resource or url.rsplit("/", 1)[-1], singleton=singleton)
    entries: list[dict[str, Any]] = []
    next_url: str | None = url
    query = dict(params or {})
    with _GuardedSession(transport) as session:
        while next_url:
            response = session.get(next_url, params=query or None)
            response.raise_for_status()
            body = getattr(response, "noordstats_body", None)
            if body is None:
                body = response.json()
            if singleton:
                return body
            page = body.get("value")
            if not isinstance(page, list) or any(not isinstance(e, dict) for e in page):
                raise _UnusableAnswer(f"{transport.resource}: not an OData collection")
            entries.extend(page)
            next_url, query = body.get("@odata.nextLink"), {}
    return entries
