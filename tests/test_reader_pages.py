"""What the reader of a scheduled run's pages sees, rendered as the cron line renders them
(``noordstats reports --source auto``, a process of its own) in two conditions: CBS cannot be
reached (a dead catalog, connection refused), and the replay server answers for every CBS table
(every table live). The claims scorecard and the cleantech report, in Dutch and in English.

In every page and index: no log record (``WARNING:``), traceback, ``Error:`` or file-system path;
no period code in the visible text (a CSV keeps CBS's code beside the period in words); in a
Dutch page no English sentence outside the paper's quotes, CBS's own labels and text marked
``lang="en"``. One freshness statement at the top: an alarm when CBS was not reachable, none
when everything came live. The run record (``run.json``), the summary line on stderr and the
exit status of ``--fail-on-stale`` say the same.
"""

from __future__ import annotations

import html
import json
import re
import urllib.parse
from html.parser import HTMLParser
from pathlib import Path

import pytest

from noordstats.cbs_codes import PERIOD_CODE_PATTERN
from noordstats.report.runner.run_record import RUN_RECORD_NAME
from tests.reliability_env import run_cli, subprocess_env
from tests.replay_server import ReplayServer, closed_port_url

pytestmark = pytest.mark.slow

REPORTS = ["claims", "cleantech"]
PAGES = {
    "nl": ["claims-LD01.html", "theme-cleantech-LD01.html", "index.html"],
    "en": ["claims-LD01-en.html", "theme-cleantech-LD01-en.html", "index-en.html"],
}
CODE = re.compile(PERIOD_CODE_PATTERN[1:-1])
LOG_TEXT = re.compile(r"WARNING:|ERROR:|Traceback|Error:|Warning:|StaleDataWarning")
#: an absolute path of the machine that rendered the page, or a Python source line
PATH_TEXT = re.compile(
    r"(?<![\w.:/])/(?:tmp|home|root|usr|work|opt|var|srv)/|\.py:\d+|site-packages"
)
#: words an English sentence cannot do without and Dutch does not use
ENGLISH = re.compile(r"\b(?:the|could|were|was not|from the|which|fetched|reached|why|using)\b")


class VisibleText(HTMLParser):
    """The text a reader sees: no script or style; text inside an element marked ``lang="en"``
    (provenance notes kept as recorded) or ``lang="nl"`` (the paper's quotes) collected apart."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, str | None]] = []
        self.text: list[str] = []
        self.marked: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in {"br", "meta", "link", "img", "input", "hr", "col", "wbr"}:
            return
        self.stack.append((tag, dict(attrs).get("lang")))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        tags = [tag for tag, _ in self.stack]
        if "script" in tags or "style" in tags or "title" in tags:
            return
        marked = any(lang in {"en", "nl"} for tag, lang in self.stack if tag != "html")
        (self.marked if marked else self.text).append(data)


def visible_text(page: str) -> str:
    parser = VisibleText()
    parser.feed(page)
    return " ".join(" ".join(parser.text).split())


def csv_downloads(page: str) -> dict[str, str]:
    found = re.finditer(r'download="([^"]+)"[^>]*?href="data:text/csv;charset=utf-8,([^"]+)"', page)
    return {
        html.unescape(m.group(1)): urllib.parse.unquote_to_bytes(m.group(2)).decode() for m in found
    }


def render(out: Path, env: dict[str, str], cwd: Path) -> dict[str, object]:
    """Both languages into one folder, as two cron runs would; each run's stderr, exit status
    and run record."""
    runs = {}
    for lang in ("nl", "en"):
        done = run_cli(
            ["reports", "--source", "auto", "--only", *REPORTS, "--lang", lang, "--out", str(out),
             "--quiet", "--jobs", "2", "--fail-on-stale"],
            env, cwd=cwd, timeout=600,
        )  # fmt: skip
        record = json.loads((out / RUN_RECORD_NAME).read_text(encoding="utf-8"))
        runs[lang] = {"done": done, "record": record}
    return runs


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("site")  # nothing injected: the real command


@pytest.fixture(scope="module")
def dead(tmp_path_factory, site):
    """CBS cannot be reached; nothing cached: every CBS table from the shipped copy."""
    root = tmp_path_factory.mktemp("dead")
    env = subprocess_env(site, cache_dir=root / "cache", NOORDSTATS_CATALOG_URL=closed_port_url(),
                         NOORDSTATS_HTTP_ATTEMPTS="1")  # fmt: skip
    return root / "reports", render(root / "reports", env, root)


@pytest.fixture(scope="module")
def alive(tmp_path_factory, site):
    """The replay server answers for every CBS table the reports read."""
    root = tmp_path_factory.mktemp("alive")
    with ReplayServer() as server:
        env = subprocess_env(site, cache_dir=root / "cache", NOORDSTATS_CATALOG_URL=server.url)
        return root / "reports", render(root / "reports", env, root)


CONDITIONS = ["dead", "alive"]


def pages_of(request, condition: str) -> tuple[Path, dict]:
    return request.getfixturevalue(condition)


@pytest.mark.reliability(
    "fault",
    "a scheduled run's pages (--source auto; CBS unreachable, or every table live; nl and en)",
    "no log line, traceback, Error: or file path in any page or index; no period code; no "
    "English sentence in a Dutch page",
)
@pytest.mark.parametrize("condition", CONDITIONS)
@pytest.mark.parametrize("lang", ["nl", "en"])
def test_pages_hold_only_what_a_reader_should_see(request, condition, lang):
    out, runs = pages_of(request, condition)
    assert runs[lang]["done"].returncode in (0, 3), runs[lang]["done"].stderr
    for name in PAGES[lang]:
        page = (out / name).read_text(encoding="utf-8")
        text = visible_text(page)
        assert not LOG_TEXT.search(page), (name, LOG_TEXT.search(page).group(0))
        assert not PATH_TEXT.search(page), (name, PATH_TEXT.search(page).group(0))
        assert str(out) not in page
        assert not CODE.search(text), (name, text[max(0, CODE.search(text).start() - 80) :][:160])
        if lang == "nl":
            english = ENGLISH.search(text)
            assert english is None, (name, text[max(0, english.start() - 80) :][:200])
        for csv_name, csv in csv_downloads(page).items():
            header = csv.splitlines()[0].split(";" if lang == "nl" else ",")
            code_column = "periodecode" if lang == "nl" else "period code"
            if code_column in header:  # the code, and beside it the period in words
                words = header[header.index(code_column) + 1]
                assert words == ("periode" if lang == "nl" else "period"), (csv_name, header)
            else:
                assert not CODE.search(csv), csv_name


@pytest.mark.reliability(
    "fault",
    "CBS unreachable during a scheduled run (--source auto --fail-on-stale, nl and en)",
    "one freshness sentence at the top of each page naming the date and the shipped copy, "
    "tables folded away by origin with reasons in the page's language; run.json and one "
    "summary line say 0 live; exit status 3",
)
@pytest.mark.parametrize("lang", ["nl", "en"])
def test_cbs_unreachable_one_honest_statement_and_an_alarm_for_the_operator(dead, lang):
    out, runs = dead
    done, record = runs[lang]["done"], runs[lang]["record"]
    assert done.returncode == 3, done.stderr
    summary = [line for line in done.stderr.splitlines() if line.startswith("noordstats: ")]
    assert summary == [done.stderr.strip()], "one line on stderr"
    cbs = [t for t in record["tables"] if t["publisher"] == "CBS"]
    n = len(cbs)
    if lang == "nl":
        assert f"CBS-tabellen: 0 live, 0 uit cache, {n} uit kopie" in summary[0]
    else:
        assert f"CBS tables: 0 live, 0 from cache, {n} from the shipped copy" in summary[0]
    assert all(t["source"] == "snapshot" and t["stale_kind"] == "unreachable" for t in cbs)
    assert all(t["stale"] and "connection refused" in t["stale_reason"] for t in cbs)
    assert [r["status"] for r in record["reports"]] == ["rendered", "rendered"]
    assert all(r["seconds"] > 0 for r in record["reports"])
    suffix = "" if lang == "nl" else "-en"
    for name in (f"claims-LD01{suffix}.html", f"theme-cleantech-LD01{suffix}.html"):
        page = (out / name).read_text(encoding="utf-8")
        assert page.count('class="noordstats-stale"') == 1, "one statement"
        first_heading = page.index("<h2")
        assert page.index('class="noordstats-stale"') < first_heading, "at the top"
        banner = visible_text(
            page[page.index('class="noordstats-stale"') - 5 :].split("</div>", 1)[0]
        )
        opening = "CBS was niet bereikbaar op" if lang == "nl" else "CBS could not be reached on"
        assert banner.startswith(opening), banner[:200]
        reason = "reden: CBS niet bereikbaar" if lang == "nl" else "why: CBS could not be reached"
        assert reason in banner and "connection refused" not in banner
        duo = "bron: DUO, stand van" if lang == "nl" else "source: DUO, as of"
        assert (duo in banner) == name.startswith("claims"), "DUO's table: only claims read it"


@pytest.mark.reliability(
    "fault",
    "every CBS table live during a scheduled run (replay server; nl and en)",
    "no alarm on any page (DUO's table is not one); the statement says every CBS table came "
    "live today; run.json and the summary line say all live; exit status 0 with --fail-on-stale",
)
@pytest.mark.parametrize("lang", ["nl", "en"])
def test_everything_live_no_alarm(alive, lang):
    out, runs = alive
    done, record = runs[lang]["done"], runs[lang]["record"]
    assert done.returncode == 0, done.stderr
    cbs = [t for t in record["tables"] if t["publisher"] == "CBS"]
    assert cbs and all(t["source"] == "live" and not t["stale"] for t in cbs)
    assert [t["table_id"] for t in record["tables"] if t["publisher"] != "CBS"] == ["duo-hbo"]
    live = f"CBS-tabellen: {len(cbs)} live, 0 uit cache, 0 uit kopie" if lang == "nl" else (
        f"CBS tables: {len(cbs)} live, 0 from cache, 0 from the shipped copy")  # fmt: skip
    assert live in done.stderr and "niet ververst" not in done.stderr
    suffix = "" if lang == "nl" else "-en"
    for name in (f"claims-LD01{suffix}.html", f"theme-cleantech-LD01{suffix}.html", PAGES[lang][2]):
        page = (out / name).read_text(encoding="utf-8")
        assert 'class="noordstats-stale"' not in page and 'role="alert"' not in page, name
    claims = visible_text((out / f"claims-LD01{suffix}.html").read_text(encoding="utf-8"))
    everything = "rechtstreeks bij het CBS opgehaald" if lang == "nl" else "were fetched live"
    assert everything in claims


def test_the_executed_notebook_keeps_no_log_text_either(dead):
    """The outputs the page is made from: no stream on stderr, no warning text."""
    out, _ = dead
    for name in ("claims-LD01.ipynb", "theme-cleantech-LD01-en.ipynb"):
        notebook = json.loads((out / name).read_text(encoding="utf-8"))
        for cell in notebook["cells"]:
            for output in cell.get("outputs", []):
                assert output["output_type"] != "error", name
                assert output.get("name") != "stderr", (name, output.get("text"))
