"""The report suite: plan reports, render them in parallel worker processes, write the index.

``noordstats reports`` renders the 8 themes (4 specialisations + 4 foundation themes), the claims
scorecard and the region profile for each region, then ``index.html`` and the run record
``run.json`` (:mod:`noordstats.report.runner.run_record`). Reports are in Dutch unless
``lang`` is ``en``: an English report's files end in ``-en`` (``claims-LD01-en.html``) and are
listed in ``index-en.html``, so both languages can live in one folder. Reports run in a pool of
worker processes (papermill and nbconvert are imported once per worker, not once per report). A
report that fails is marked failed; the others finish. Only reports whose inputs changed are
rendered again (see :mod:`noordstats.report.runner.manifest`). One run at a time writes to an
output folder: a second run waits for the first (:mod:`noordstats.report.runner.folder_lock`),
then finds the fresh reports current and skips them.

Stopping (see :mod:`noordstats.stopping`): on SIGINT or SIGTERM the workers and their kernels are
ended within a second or two, no new report starts, and what finished stays: each report's
files are moved into place and its manifest entry written in one step that a signal does not
cut in half. The index marks the reports that were not rendered "not rendered: interrupted",
and :class:`stopping.Interrupted` carries on to the command with ``results`` attached. Workers
only stage files; only this process, holding the folder's lock, publishes them
(:func:`noordstats.report.runner.worker.publish`).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from contextlib import closing, suppress
from pathlib import Path
from typing import Any

from tqdm import tqdm

from noordstats import i18n, paths, regions, stopping
from noordstats.analysis import indicators
from noordstats.declarations.claims import load_claims
from noordstats.declarations.indicators import (
    check_indicator,
    load_indicators,
    region_profile_tables,
)
from noordstats.declarations.report_kinds import ReportKind, load_report_kinds, theme_kind
from noordstats.declarations.themes import load_themes, tables_used, theme_ids
from noordstats.report.page import parameters
from noordstats.report.runner import export
from noordstats.report.runner.folder_lock import output_lock
from noordstats.report.runner.index_page import index_name, render_index
from noordstats.report.runner.manifest import (
    compute_inputs_hash,
    is_current,
    read_manifest,
    table_changes,
    write_manifest,
)
from noordstats.report.runner.pool import render_in_workers
from noordstats.report.runner.run_record import build_run_record, write_run_record
from noordstats.report.runner.worker import TMP_PREFIX, ReportSpec, publish
from noordstats.storage import store

INTERRUPTED_ERROR = "not rendered: interrupted"


def name_suffix(lang: str) -> str:
    """What a report's file names end in: nothing for Dutch (the default), ``-en`` for
    English."""
    return "" if lang == i18n.DEFAULT_LANG else f"-{lang}"


def report_kinds() -> list[str]:
    """What ``--only`` and ``noordstats report`` accept, in the index's order: the declared
    kinds (data/report_kinds.yaml), a per-theme kind as its themes' ids."""
    return [
        report
        for kind in load_report_kinds().values()
        for report in (theme_ids() if kind.per_theme else [kind.id])
    ]


def kind_tables(kind: ReportKind, theme: str | None = None) -> list[str]:
    """The tables a report of ``kind`` reads, as its declaration says to derive them."""
    if kind.tables == "theme":
        return tables_used(theme)
    if kind.tables == "every_indicator":
        return tables_used()
    if kind.tables == "region_profile":
        return region_profile_tables()
    indicators = load_indicators()
    return [t for i in kind.indicators for t in indicators[check_indicator(i).id].tables]


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
    declared = load_report_kinds()
    theme = kind if kind not in declared else None
    spec_kind = declared[kind] if theme is None else theme_kind()
    assert spec_kind is not None  # report_kinds() names a theme only when a kind is per_theme
    notebook = paths.NOTEBOOKS_DIR / spec_kind.notebook
    request = {} if theme is None else {"theme": theme}
    if theme is not None and region[:2] in {"CR", "GM"} and "compare" not in overrides:
        parameters.check_values(region=region)
        # a COROP area or municipality is drawn beside its province, landsdeel and NL
        overrides["compare"] = [regions.NETHERLANDS, *regions.containing_regions(region)]
    values = parameters.validate_request(notebook, {**request, "region": region, **overrides})
    lang = values.get("lang", i18n.DEFAULT_LANG)
    stem = spec_kind.id if theme is None else f"{spec_kind.id}-{theme}"
    name = f"{stem}-{values['region']}{name_suffix(lang)}"
    if theme is None:
        label = spec_kind.label(lang)
    else:
        label = i18n.declared(load_themes()[theme], "title", lang)
    region_name = regions.region_name(values["region"])
    if values["region"].startswith("GM"):
        _require_municipal_figures(kind, values["region"])
    tables = list(dict.fromkeys(kind_tables(spec_kind, theme)))
    title = i18n.t("report.title", lang, label=label, region=region_name)
    return ReportSpec(
        name, spec_kind.id, notebook, values, title, tables, label=label, region_name=region_name
    )


def report_indicators(kind: str) -> list[str]:
    """The indicators a report shows: a theme's, the region profile's, or every claim's."""
    if kind == "region_profile":
        return list(load_indicators().region_profile)
    if kind == "claims":
        return [i for claim in load_claims() for i in claim.indicators]
    return list(load_themes()[kind].indicators)


def _require_municipal_figures(kind: str, region: str) -> None:
    """A municipality's report only where the snapshot has figures of that municipality for it
    (bad input otherwise: one line naming the reports that have)."""
    if indicators.indicators_with_figures(report_indicators(kind), region):
        return
    having = [
        k
        for k in report_kinds()
        if indicators.indicators_with_figures(report_indicators(k), region)
    ]
    raise parameters.ParameterError(
        f"no CBS figures for municipality {region} in report {kind!r} in the shipped tables; "
        f"reports with figures for {region}: {', '.join(having) or 'none'}"
    )


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
    timeout: float | None = None,
    pdf: bool = False,
) -> list[dict[str, Any]]:
    """Render ``specs`` into ``folder`` (each also as PDF with ``pdf``); return their manifest
    entries (status ``rendered``, ``skipped`` or ``failed``). The index of each language lists
    every report of that language in the folder's manifest.
    ``timeout``: seconds one report may take before it is stopped and marked failed.

    On SIGINT/SIGTERM (inside :func:`stopping.stop_on_signals`) raises
    :class:`stopping.Interrupted` once the workers have ended, with ``results`` (status
    ``rendered``, ``skipped``, ``failed`` or ``interrupted``; empty when the run stopped before
    it had decided what to render) and the folder consistent."""
    started_at = _now()
    with output_lock(folder, lock_timeout):
        results: dict[str, dict[str, Any]] = {}
        manifest: dict[str, dict[str, Any]] = {}
        todo: list[ReportSpec] | None = None
        try:
            remove_temporaries(folder)
            if not self_contained:
                export.write_assets(folder)
            manifest = read_manifest(folder)
            modified = cbs_modified_dates(specs)
            hashes = {
                s.name: compute_inputs_hash(
                    s.notebook, s.parameters, s.table_ids, self_contained, modified
                )
                for s in specs
            }
            stopping.pause_for_tests("planning")
            current = {
                s.name
                for s in specs
                if not force and not _needs_render(s, manifest, hashes, folder, pdf)
            }
            for name in current:  # nothing changed since the previous run
                manifest[name] = {**manifest[name], "changes": []}
            results = {n: {**manifest[n], "status_this_run": "skipped"} for n in current}
            todo = [s for s in specs if s.name not in current]
            finished = _render_all(todo, folder, jobs, self_contained, progress, timeout, pdf)
            with closing(finished):
                for spec, staged in finished:
                    with stopping.deferred():  # files, manifest entry and index together
                        entry = publish(folder, staged)
                        entry.update(
                            inputs_hash=hashes[spec.name],
                            source=spec.parameters.get("source", "snapshot"),
                            status_this_run=entry["status"],
                            changes=table_changes(manifest.get(spec.name), entry),
                        )
                        manifest[spec.name] = {
                            k: v for k, v in entry.items() if k != "status_this_run"
                        }
                        results[spec.name] = entry
                        write_manifest(folder, manifest)
                        write_index(folder, manifest)
            with stopping.deferred():
                write_manifest(folder, manifest)
                write_index(folder, manifest)
                _record_run(folder, [results[s.name] for s in specs], started_at)
        except stopping.Interrupted as stop:
            if todo is not None:  # the workers have ended: record what finished, mark the rest
                for spec in specs:
                    results.setdefault(spec.name, _interrupted_entry(spec, manifest, folder))
                write_manifest(folder, manifest)
                write_index(folder, manifest, [e for e in results.values() if _is_stopped(e)])
                _record_run(folder, [results[s.name] for s in specs], started_at)
            stop.results = [results[s.name] for s in specs if s.name in results]
            raise
        finally:
            with suppress(OSError):  # an error writing the folder was already raised
                remove_temporaries(folder)  # whatever a stopped worker had staged
    return [results[s.name] for s in specs]


def _now() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def _record_run(folder: Path, results: list[dict[str, Any]], started_at: str) -> None:
    """``run.json``: this run's reports and the tables they read (see :mod:`run_record`)."""
    write_run_record(folder, build_run_record(results, started_at, _now()))


def _interrupted_entry(
    spec: ReportSpec, manifest: dict[str, dict[str, Any]], folder: Path
) -> dict[str, Any]:
    """A report the stop left unrendered. Its older page, if any, stays (and its manifest
    entry, so the next run renders it again); the index links it as the previous version."""
    older = manifest.get(spec.name) or {}
    page = older.get("html") if older.get("status") == "rendered" else None
    return {
        **older,
        "name": spec.name,
        "kind": spec.kind,
        "title": spec.title,
        "html": page if page and (folder / page).is_file() else None,
        "status": "interrupted",
        "error": INTERRUPTED_ERROR,
        "status_this_run": "interrupted",
    }


def _is_stopped(entry: dict[str, Any]) -> bool:
    return entry.get("status_this_run") == "interrupted"


def cbs_modified_dates(specs: list[ReportSpec]) -> dict[str, str | None]:
    """CBS's ``Modified`` date of every table read by a report on ``auto``/``live`` data (one
    TableInfos request per table); empty when every report reads the snapshot."""
    tables = [
        t
        for s in specs
        if s.parameters.get("source", "snapshot") != "snapshot"
        for t in s.table_ids
    ]
    if not tables:
        return {}
    # deferred: requests and cbsodata are imported only when CBS is asked
    from noordstats.ingest import live

    return live.cbs_modified(tables)


def _needs_render(
    spec: ReportSpec,
    manifest: dict[str, dict[str, Any]],
    hashes: dict[str, str],
    folder: Path,
    pdf: bool = False,
) -> bool:
    """Inputs changed, files gone (the PDF too, with ``pdf``), or (``auto``/``live``) the last
    rendering fell back to older data than CBS's."""
    entry = manifest.get(spec.name)
    if not is_current(entry, hashes[spec.name], folder, pdf):
        return True
    return spec.parameters.get("source", "snapshot") != "snapshot" and bool(entry.get("stale"))


def _render_all(
    specs: list[ReportSpec],
    folder: Path,
    jobs: int | None,
    self_contained: bool,
    progress: bool | None,
    timeout: float | None = None,
    pdf: bool = False,
) -> Iterator[tuple[ReportSpec, dict[str, Any]]]:
    """Render in worker processes, yielding each report (staged) as it finishes."""
    if not specs:
        return
    workers = max(1, min(jobs or os.cpu_count() or 1, len(specs)))
    bar = tqdm(
        total=len(specs),
        desc="reports",
        unit="report",
        disable=None if progress is None else not progress,
    )
    # longest first keeps every worker busy to the end: a report that reads more tables takes
    # longer (the claims read every indicator's table; started last, they alone set the time)
    longest_first = sorted(specs, key=lambda s: len(s.table_ids), reverse=True)
    finished = render_in_workers(longest_first, folder, workers, self_contained, timeout, pdf)
    try:
        for spec, entry in finished:
            bar.update(1)
            bar.set_postfix_str(f"{spec.name}: {entry['status']}")
            yield spec, entry
    finally:
        finished.close()  # ends the workers now, whatever ended the loop
        bar.close()


def _is_listed(entry: dict[str, Any], folder: Path) -> bool:
    if entry.get("status") in {"failed", "interrupted"}:
        return True
    return bool(entry.get("html")) and (folder / entry["html"]).is_file()


def entry_lang(entry: dict[str, Any]) -> str:
    """The language a manifest entry's report is in (Dutch for entries from before ``lang``)."""
    lang = (entry.get("parameters") or {}).get("lang", i18n.DEFAULT_LANG)
    return lang if lang in i18n.languages() else i18n.DEFAULT_LANG


def write_index(
    folder: Path,
    manifest: dict[str, dict[str, Any]],
    interrupted: list[dict[str, Any]] | None = None,
) -> list[Path]:
    """``index.html`` (Dutch) and, when the folder holds English reports, ``index-en.html``:
    every report of the manifest in that language whose files still exist, and the
    ``interrupted`` ones a stopped run did not render (in place of their older entries)."""
    stopping.pause_for_tests("index")
    shown = {**manifest, **{e["name"]: e for e in interrupted or []}}
    stamp = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    listed = [e for e in shown.values() if _is_listed(e, folder)]
    langs = {entry_lang(e) for e in listed} | {i18n.DEFAULT_LANG}
    written = []
    for lang in sorted(langs, key=i18n.languages().index):
        entries = [e for e in listed if entry_lang(e) == lang]
        other = [o for o in sorted(langs) if o != lang]
        links = {o: index_name(o) for o in other}
        target = folder / index_name(lang)
        store.write_text_atomic(target, render_index(entries, stamp, lang=lang, languages=links))
        written.append(target)
    return written
