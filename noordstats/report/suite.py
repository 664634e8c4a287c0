"""The report suite: plan reports, render them in parallel worker processes, write the index.

``noordstats reports`` renders the 8 themes (4 specialisations + 4 foundation themes), the claims
scorecard and the region profile for each region, then ``index.html``. Reports are in Dutch
unless ``lang`` is ``en``: an English report's files end in ``-en`` (``claims-LD01-en.html``)
and are listed in ``index-en.html``, so both languages can live in one folder. Reports run in a
pool of worker processes (papermill and nbconvert are imported once per worker, not once per
report). A report that fails is marked failed; the others finish. Only reports whose inputs
changed are rendered again (see :mod:`noordstats.report.manifest`). One run at a time writes to
an output folder: a second run waits for the first (:mod:`noordstats.report.folder_lock`), then
finds the fresh reports current and skips them.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from tqdm import tqdm

from noordstats import i18n, paths, regions
from noordstats.declarations.claims import load_claims
from noordstats.declarations.indicators import load_indicators
from noordstats.declarations.themes import load_themes, tables_used, theme_ids
from noordstats.report import export, parameters
from noordstats.report.folder_lock import output_lock
from noordstats.report.index_page import index_name, render_index
from noordstats.report.manifest import (
    compute_inputs_hash,
    is_current,
    read_manifest,
    write_manifest,
)
from noordstats.report.worker import (
    TMP_PREFIX,
    OutputFolderError,
    ReportSpec,
    render_report,
    warm_up,
)
from noordstats.storage import store

OTHER_KINDS = ("claims", "region_profile")
#: imported once in the fork server, so every worker starts with them loaded
WORKER_PRELOAD = [
    "papermill",
    "nbconvert",
    "noordstats.report.export",
    "noordstats.report.worker",
]


def name_suffix(lang: str) -> str:
    """What a report's file names end in: nothing for Dutch (the default), ``-en`` for
    English."""
    return "" if lang == i18n.DEFAULT_LANG else f"-{lang}"


def report_kinds() -> list[str]:
    """What ``--only`` and ``noordstats report`` accept: every theme id, claims, region_profile."""
    return [*theme_ids(), *OTHER_KINDS]


def plan_report(kind: str, region: str, overrides: dict[str, Any] | None = None) -> ReportSpec:
    """Validate one report's parameters (raises :class:`parameters.ParameterError`) and the
    declaration files every report reads (raises :class:`ConfigError`), and name it."""
    overrides = dict(overrides or {})
    for load in (load_indicators, load_themes, load_claims):
        load()  # a malformed declaration is bad input: refused before anything is written
    if kind not in report_kinds():
        raise parameters.ParameterError(
            f"unknown report {kind!r}; valid: {', '.join(report_kinds())}"
        )
    if kind in OTHER_KINDS:
        notebook = paths.NOTEBOOKS_DIR / f"{kind}.ipynb"
        values = parameters.validate_request(notebook, {"region": region, **overrides})
        lang = values.get("lang", i18n.DEFAULT_LANG)
        name = f"{kind}-{values['region']}{name_suffix(lang)}"
        label = i18n.t(f"report.{kind}.title", lang)
        if kind == "claims":
            tables = tables_used()
        else:
            catalogue = load_indicators()
            tables = [t for i in catalogue.region_profile for t in catalogue[i].tables]
    else:
        notebook = paths.NOTEBOOKS_DIR / "theme.ipynb"
        values = parameters.validate_request(
            notebook, {"theme": kind, "region": region, **overrides}
        )
        lang = values.get("lang", i18n.DEFAULT_LANG)
        name = f"theme-{kind}-{values['region']}{name_suffix(lang)}"
        label = i18n.declared(load_themes()[kind], "title", lang)
        tables = tables_used(kind)
    title = f"{label} — {regions.region_name(values['region'])}"
    return ReportSpec(name, _kind_of(kind), notebook, values, title, list(dict.fromkeys(tables)))


def _kind_of(kind: str) -> str:
    return kind if kind in OTHER_KINDS else "theme"


def plan_suite(
    only: list[str] | None = None,
    region_codes: list[str] | None = None,
    overrides: dict[str, Any] | None = None,
) -> list[ReportSpec]:
    """Every report of the suite (or those named in ``only``) for every region, validated."""
    kinds = list(dict.fromkeys(only)) if only else report_kinds()
    return [
        plan_report(kind, region, overrides)
        for region in dict.fromkeys(region_codes or [regions.NORTH])
        for kind in kinds
    ]


def output_folder(base: Path, dated: bool, today: dt.date | None = None) -> Path:
    """``base``, or ``base/YYYY-MM-DD`` for a dated run."""
    return base / (today or dt.date.today()).isoformat() if dated else base


def remove_temporaries(folder: Path) -> None:
    """Delete what an interrupted run left behind (only ever ``.tmp-*`` or ``.<name>.*.tmp``)."""
    for path in folder.iterdir():
        leftover = path.name.startswith(TMP_PREFIX) or (
            path.name.startswith(".") and path.name.endswith(".tmp")
        )
        if leftover and path.is_file():
            path.unlink(missing_ok=True)


def run_suite(
    specs: list[ReportSpec],
    folder: Path,
    jobs: int | None = None,
    force: bool = False,
    self_contained: bool = False,
    progress: bool | None = None,
    lock_timeout: float | None = None,
    pdf: bool = False,
) -> list[dict[str, Any]]:
    """Render ``specs`` into ``folder`` (each also as PDF with ``pdf``); return their manifest
    entries (status ``rendered``, ``skipped`` or ``failed``). The index of each language lists
    every report of that language in the folder's manifest."""
    with output_lock(folder, lock_timeout):
        remove_temporaries(folder)
        if not self_contained:
            export.write_assets(folder)
        manifest = read_manifest(folder)
        hashes = {
            s.name: compute_inputs_hash(s.notebook, s.parameters, s.table_ids, self_contained)
            for s in specs
        }
        todo = [
            s
            for s in specs
            if force or not is_current(manifest.get(s.name), hashes[s.name], folder, pdf)
        ]
        results = {
            s.name: {**manifest[s.name], "status_this_run": "skipped"}
            for s in specs
            if s not in todo
        }
        for spec, entry in _render_all(todo, folder, jobs, self_contained, progress, pdf):
            entry.update(
                inputs_hash=hashes[spec.name],
                source=spec.parameters.get("source", "snapshot"),
                status_this_run=entry["status"],
            )
            manifest[spec.name] = {k: v for k, v in entry.items() if k != "status_this_run"}
            results[spec.name] = entry
            write_manifest(folder, manifest)
            write_index(folder, manifest)
        write_manifest(folder, manifest)
        write_index(folder, manifest)
    return [results[s.name] for s in specs]


def _render_all(
    specs: list[ReportSpec],
    folder: Path,
    jobs: int | None,
    self_contained: bool,
    progress: bool | None,
    pdf: bool = False,
) -> Iterator[tuple[ReportSpec, dict[str, Any]]]:
    """Render in worker processes, yielding each report as it finishes."""
    if not specs:
        return
    workers = max(1, min(jobs or os.cpu_count() or 1, len(specs)))
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(WORKER_PRELOAD)
    bar = tqdm(
        total=len(specs),
        desc="reports",
        unit="report",
        disable=None if progress is None else not progress,
    )
    with ProcessPoolExecutor(workers, mp_context=context, initializer=warm_up) as pool:
        futures = {pool.submit(render_report, s, folder, self_contained, pdf): s for s in specs}
        for future in as_completed(futures):
            spec = futures[future]
            try:
                entry = future.result()
            except OutputFolderError:  # stop: the reports in the folder stay as they were
                for other in futures:
                    other.cancel()
                raise
            except Exception as exc:  # the worker process itself died
                entry = _crashed_entry(spec, exc)
            bar.update(1)
            bar.set_postfix_str(f"{spec.name}: {entry['status']}")
            yield spec, entry
    bar.close()


def _crashed_entry(spec: ReportSpec, exc: BaseException) -> dict[str, Any]:
    return {
        "name": spec.name,
        "kind": spec.kind,
        "title": spec.title,
        "parameters": spec.parameters,
        "notebook": None,
        "html": None,
        "status": "failed",
        "error": f"worker crashed: {type(exc).__name__}: {exc}".splitlines()[0],
        "summary": {},
    }


def _is_listed(entry: dict[str, Any], folder: Path) -> bool:
    if entry.get("status") == "failed":
        return True
    return bool(entry.get("html")) and (folder / entry["html"]).is_file()


def entry_lang(entry: dict[str, Any]) -> str:
    """The language a manifest entry's report is in (Dutch for entries from before ``lang``)."""
    lang = (entry.get("parameters") or {}).get("lang", i18n.DEFAULT_LANG)
    return lang if lang in i18n.LANGS else i18n.DEFAULT_LANG


def write_index(folder: Path, manifest: dict[str, dict[str, Any]]) -> list[Path]:
    """``index.html`` (Dutch) and, when the folder holds English reports, ``index-en.html``:
    every report of the manifest in that language whose files still exist."""
    stamp = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    listed = [e for e in manifest.values() if _is_listed(e, folder)]
    langs = {entry_lang(e) for e in listed} | {i18n.DEFAULT_LANG}
    written = []
    for lang in sorted(langs, key=i18n.LANGS.index):
        entries = [e for e in listed if entry_lang(e) == lang]
        other = [o for o in sorted(langs) if o != lang]
        links = {o: index_name(o) for o in other}
        target = folder / index_name(lang)
        store.write_text_atomic(target, render_index(entries, stamp, lang=lang, languages=links))
        written.append(target)
    return written
