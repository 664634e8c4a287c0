"""A sandbox for the reliability tests: a private copy of ``data/`` that noordstats uses instead of
the shipped one (in this process, and in every process a CLI run starts: workers, kernels), a
digest of folder trees to prove that nothing was written, and output folders that are full or
read-only.

Subprocesses are pointed at the copy by a ``sitecustomize.py`` on ``PYTHONPATH`` that rewrites
the ``noordstats.paths`` constants under ``data/`` before anything reads them; the same file can
make writes into one folder fail with an ``OSError`` (disk full, read-only) where the machine
does not let the tests mount a small tmpfs or a read-only bind mount.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import stat
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from noordstats import paths
from noordstats.declarations.claims import load_claims
from noordstats.declarations.indicators import load_indicators
from noordstats.declarations.raw_files import raw_files
from noordstats.declarations.tables import declarations
from noordstats.declarations.themes import load_themes

DATA_ENV = "NOORDSTATS_TEST_DATA_DIR"
FAULT_ENV = "NOORDSTATS_TEST_WRITE_FAULT"

_SITECUSTOMIZE_TEMPLATE = textwrap.dedent(
    '''
    """Written by tests/reliability_env.py: redirect noordstats' data paths, inject write faults."""
    import os as _os

    def _redirect_data(target):
        from pathlib import Path
        import noordstats.paths as p

        old = p.DATA_DIR
        for name, value in list(vars(p).items()):
            if isinstance(value, Path) and value.is_relative_to(old):
                setattr(p, name, Path(target) / value.relative_to(old))

    def _inject_write_fault(spec):
        import builtins, io

        code, folder, exempt = spec.split(":", 2)
        code, folder, exempt = int(code), _os.path.abspath(folder), set(exempt.split(",")) - {""}
        real_open, real_os_open = builtins.open, _os.open

        def blocked(path):
            try:
                full = _os.path.abspath(_os.fsdecode(path))
            except TypeError:
                return False
            inside = full == folder or full.startswith(folder + _os.sep)
            return inside and _os.path.basename(full) not in exempt

        def fail(path):
            raise OSError(code, _os.strerror(code), _os.fsdecode(path))

        def guarded_open(file, mode="r", *args, **kwargs):
            if not isinstance(file, int) and any(c in mode for c in "wax+") and blocked(file):
                fail(file)
            return real_open(file, mode, *args, **kwargs)

        def guarded_os_open(path, flags, *args, **kwargs):
            writing = flags & (_os.O_WRONLY | _os.O_RDWR | _os.O_CREAT)
            if writing and blocked(path):
                fail(path)
            return real_os_open(path, flags, *args, **kwargs)

        builtins.open = io.open = guarded_open
        _os.open = guarded_os_open
        if code == 30:  # read-only: nothing in the folder can be created, moved or removed
            for name in ("replace", "rename", "unlink", "remove", "mkdir", "rmdir"):
                real = getattr(_os, name)

                def guarded(*args, _real=real, **kwargs):
                    for path in args[:2]:
                        if isinstance(path, (str, bytes, _os.PathLike)) and blocked(path):
                            fail(path)
                    return _real(*args, **kwargs)

                setattr(_os, name, guarded)

    if _os.environ.get("DATA_ENV"):
        _redirect_data(_os.environ["DATA_ENV"])
    if _os.environ.get("FAULT_ENV"):
        _inject_write_fault(_os.environ["FAULT_ENV"])
    '''
)
SITECUSTOMIZE = _SITECUSTOMIZE_TEMPLATE.replace("DATA_ENV", DATA_ENV).replace(
    "FAULT_ENV", FAULT_ENV
)


# ------------------------------------------------------------------------------ sandbox data


def copy_data_dir(target: Path, raw: bool = False) -> Path:
    """A private copy of ``data/`` (snapshot, declarations, config, geo, provenance; the raw
    captures of ``data/raw/`` too when ``raw``: only a snapshot build reads them)."""
    skipped = ("imports",) if raw else ("imports", "raw")
    shutil.copytree(paths.DATA_DIR, target, ignore=shutil.ignore_patterns(*skipped))
    return target


def redirect_data_paths(monkeypatch, data_dir: Path) -> None:
    """Point every ``noordstats.paths`` constant under ``data/`` at ``data_dir`` (this process)
    and clear what was cached from the shipped files."""
    old = paths.DATA_DIR
    for name, value in list(vars(paths).items()):
        if isinstance(value, Path) and value.is_relative_to(old):
            monkeypatch.setattr(paths, name, data_dir / value.relative_to(old))
    clear_caches()


def clear_caches() -> None:
    """Forget declarations, config, regions and loaded tables read so far."""
    from noordstats import regions
    from noordstats.analysis import frames
    from noordstats.report.runner import manifest

    for function in (
        declarations,
        load_indicators,
        load_themes,
        load_claims,
        raw_files,
        regions.clear_caches,
        frames.load_cached,
        frames.indicator_frame,
        manifest.compute_code_hash,
    ):
        getattr(function, "cache_clear", function)()


def write_sitecustomize(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    return folder


def subprocess_env(
    site_dir: Path,
    data_dir: Path | None = None,
    cache_dir: Path | None = None,
    write_fault: str | None = None,
    **extra: str,
) -> dict[str, str]:
    """The environment of a CLI run in the sandbox (no catalog URL from outside)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOORDSTATS_")}
    env["NOORDSTATS_API"] = "v3"  # the sandbox's CBS is the v3 replay server unless told
    env["PYTHONPATH"] = os.pathsep.join([str(site_dir), str(paths.PROJECT_DIR)])
    if data_dir is not None:
        env[DATA_ENV] = str(data_dir)
    if cache_dir is not None:
        env["NOORDSTATS_CACHE_DIR"] = str(cache_dir)
    if write_fault is not None:
        env[FAULT_ENV] = write_fault
    env.update(extra)
    return env


def run_cli(args: list[str], env: dict[str, str], cwd: Path, timeout: float = 300):
    """``python -m noordstats.cli ARGS`` in a subprocess -> CompletedProcess (text)."""
    return subprocess.run(
        [sys.executable, "-m", "noordstats.cli", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


# ------------------------------------------------------------------------------ tree digests


def tree_digest(root: Path) -> dict[str, str]:
    """Every file and folder under ``root`` -> its SHA-256 (files) or 'dir'; symlinks by target.
    Two equal digests mean nothing was added, removed or changed."""
    if not root.exists():
        return {}
    digest = {}
    for path in sorted(root.rglob("*")):
        key = path.relative_to(root).as_posix()
        if path.is_symlink():
            digest[key] = f"link:{os.readlink(path)}"
        elif path.is_dir():
            digest[key] = "dir"
        else:
            digest[key] = hashlib.sha256(path.read_bytes()).hexdigest()
    return digest


def describe_difference(before: dict[str, str], after: dict[str, str]) -> str:
    added = sorted(set(after) - set(before))
    removed = sorted(set(before) - set(after))
    changed = sorted(k for k in set(before) & set(after) if before[k] != after[k])
    return f"added {added[:5]}, removed {removed[:5]}, changed {changed[:5]}"


# ------------------------------------------------------------------- full and read-only folders


def _mount(*args: str) -> bool:
    result = subprocess.run(["mount", *args], capture_output=True, text=True)
    return result.returncode == 0


def _umount(folder: Path) -> None:
    subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def can_mount(scratch: Path) -> bool:
    """May this process mount file systems (root with CAP_SYS_ADMIN)?"""
    scratch.mkdir(parents=True, exist_ok=True)
    if not _mount("-t", "tmpfs", "-o", "size=64k", "tmpfs", str(scratch)):
        return False
    _umount(scratch)
    return True


BALLAST_NAME = ".ballast"


@contextmanager
def full_disk(
    folder: Path, contents: Path, how: str, free_bytes: int = 48 * 1024
) -> Iterator[str | None]:
    """``folder`` holding a copy of ``contents`` on a disk with about ``free_bytes`` left.

    ``how='tmpfs'``: a real tmpfs sized to the contents and filled up with a ballast file
    (:data:`BALLAST_NAME`; leave it out of digests); yields None. It is unmounted when the
    context ends: check the folder inside it. ``how='injected'``: a plain folder; yields the
    value for ``FAULT_ENV`` that makes every write into it fail with ENOSPC (the lock file
    excepted, as on a disk with a few blocks left)."""
    folder.mkdir(parents=True, exist_ok=True)
    if how == "injected":
        shutil.copytree(contents, folder, dirs_exist_ok=True)
        yield f"{errno.ENOSPC}:{folder}:.noordstats-reports.lock"
        return
    files = [p for p in contents.rglob("*") if p.is_file()]
    size_kb = (sum(p.stat().st_size for p in files) + 8192 * (len(files) + 8)) // 1024 + 1024
    if not _mount("-t", "tmpfs", "-o", f"size={size_kb}k,mode=0755", "tmpfs", str(folder)):
        raise RuntimeError(f"cannot mount a tmpfs on {folder}")
    try:
        shutil.copytree(contents, folder, dirs_exist_ok=True)
        with open(folder / BALLAST_NAME, "wb") as handle:
            try:
                handle.write(b"\0" * max(0, shutil.disk_usage(folder).free - free_bytes))
            except OSError:
                pass
        yield None
    finally:
        _umount(folder)


@contextmanager
def read_only(folder: Path, how: str) -> Iterator[str | None]:
    """``folder`` made read-only for the CLI. ``how='os'``: ``chmod 0555`` when not root (root
    ignores modes), else a read-only bind mount; yields None. ``how='injected'``: yields the
    value for ``FAULT_ENV`` that makes every write into it fail with EROFS."""
    if how == "injected":
        yield f"{errno.EROFS}:{folder}:"
        return
    if os.geteuid() != 0:
        modes = {p: p.stat().st_mode for p in [folder, *folder.rglob("*")] if p.is_dir()}
        for path in modes:
            path.chmod(0o555)
        try:
            yield None
        finally:
            for path, mode in modes.items():
                path.chmod(stat.S_IMODE(mode))
        return
    if not _mount("--bind", str(folder), str(folder)):
        raise RuntimeError(f"cannot bind-mount {folder}")
    try:
        if not _mount("-o", "remount,bind,ro", str(folder)):
            raise RuntimeError(f"cannot remount {folder} read-only")
        yield None
    finally:
        _umount(folder)
