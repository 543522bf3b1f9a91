"""Write outputs atomically: to a temporary sibling first, renamed into place only on success.

A crashed or rejected step therefore never leaves a partial file or folder that a rerun would trust.
A process killed outright (SIGKILL, out of memory, a node lost) cannot remove its temporary, so each
temporary's name carries its writer's process id, and the next write of the same output removes the
temporaries of writers that are no longer alive. (Two live writers of one output do not happen under
Snakemake; on a shared file system a writer on another node counts as dead here, which is safe for the
same reason.) A full disk is reported with the output's path, which the OS error alone does not name.
The parent folders a write had to create are removed again when it fails, so a failed run leaves no
empty folder either.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from areograph import faults

_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


# ".<stem>.<pid>-<8 random chars><suffix>", and sidecars after it (GDAL's .aux.xml)
_TEMPORARY = re.compile(r"^\..+\.\d+-[a-z0-9_]{8}")
_candidates: dict[str, list[str]] = {}  # folder -> temporary-like names in it at this process's first write


def remove_stale_temporaries(final: str | Path) -> list[Path]:
    """Remove the temporaries (and their sidecars) that dead writers of ``final`` left; return them.

    Only ``final``'s own temporaries are candidates (two live writers of one output do not happen,
    whichever node they run on). A folder is listed once per process, at its first atomic write:
    relisting a folder of thousands of tiles on every tile write would cost quadratic time; a writer
    that dies later leaves its temporaries to the next process.
    """
    final = Path(final)
    folder = final.parent
    key = str(folder.resolve())
    if key not in _candidates:
        names = [e.name for e in folder.iterdir()] if folder.is_dir() else []
        _candidates[key] = [n for n in names if _TEMPORARY.match(n)]
    own = re.compile(rf"^\.{re.escape(final.stem)}\.(\d+)-[a-z0-9_]{{8}}{re.escape(final.suffix)}(\..*)?$")
    removed = []
    for name in list(_candidates[key]):
        match = own.match(name)
        if match is None or int(match[1]) == os.getpid() or _alive(int(match[1])):
            continue
        entry = folder / name
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        _candidates[key].remove(name)
        removed.append(entry)
    return removed


def make_parents(folder: str | Path) -> list[Path]:
    """Create ``folder`` and its missing parents; return the ones created, outermost first."""
    folder = Path(folder)
    missing = [p for p in (folder, *folder.parents) if not p.exists()][::-1]
    folder.mkdir(parents=True, exist_ok=True)
    return missing


def remove_empty(created: list[Path]) -> None:
    """Remove the folders of :func:`make_parents` again, innermost first, where nothing was put in them."""
    for folder in reversed(created):
        with contextlib.suppress(OSError):  # not empty (another writer's output) or already gone
            folder.rmdir()


@contextlib.contextmanager
def parents_made(folder: str | Path) -> Iterator[list[Path]]:
    """Create ``folder`` (and parents) for a block; if the block fails, remove those left empty."""
    created = make_parents(folder)
    try:
        yield created
    except BaseException:
        remove_empty(created)
        raise


def check_destination(path: str | Path, what: str, kind: str = "folder") -> Path:
    """Refuse, before any work, an output path that cannot be written: the message names ``what``.

    ``path`` must be a ``kind`` ("folder" or "file") or not exist yet, and its nearest existing parent
    must be a folder this process may create entries in. Catches an ``--out`` that is an existing file
    (or lies below one) and a read-only destination, which would otherwise fail after all the work.
    """
    path = Path(path)
    if path.exists():
        if kind == "folder" and not path.is_dir():
            raise ValueError(f"{what} {path}: is a file, not a folder; choose a folder name")
        if kind == "file" and path.is_dir():
            raise ValueError(f"{what} {path}: is a folder, not a file")
    # the folder the output (or its staging temporary, beside it) is created in, and the output folder
    base = next(p for p in path.parents if p.exists()) if path.parents else Path(".")
    if not base.is_dir():
        raise ValueError(f"{what} {path}: {base} is a file, so no folder can be made below it")
    for folder in (base, path) if kind == "folder" and path.is_dir() else (base,):
        if not os.access(folder, os.W_OK | os.X_OK):
            raise ValueError(f"{what} {path}: cannot write in {folder} (permission denied); choose another")
    return path


def _prefix(final: Path) -> str:
    return f".{final.stem}.{os.getpid()}-"


def _name_full_disk(err: OSError, final: Path) -> OSError:
    """The same error, naming ``final`` when the disk (or quota, or file size limit) ran out."""
    if err.errno in _FULL and str(final) not in str(err):
        return OSError(err.errno, f"{os.strerror(err.errno)} while writing {final}; free space, then rerun")
    return err


@contextlib.contextmanager
def _committed(final: Path, swap: Callable[[], None]) -> Iterator[None]:
    """Run the writer's block; if it succeeded, ``swap`` the temporary into place as ``final``.

    The fault-injection points (areograph.faults) sit on either side of the swap.
    """
    try:
        yield
    except OSError as err:
        named = _name_full_disk(err, final)
        if named is err:
            raise
        raise named from err
    faults.at("before-rename", final)
    swap()
    faults.at("after-rename", final)


@contextlib.contextmanager
def atomic_path(final: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``final``; rename it to ``final`` if the block succeeds.

    The temporary name keeps the final suffix so that drivers choosing a format by extension
    (GDAL, imageio) still work. On error the temporary file is removed and the error re-raised.
    """
    final = Path(final)
    with parents_made(final.parent), _staged_file(final) as tmp_path:
        yield tmp_path


@contextlib.contextmanager
def _staged_file(final: Path) -> Iterator[Path]:
    remove_stale_temporaries(final)
    fd, tmp = tempfile.mkstemp(prefix=_prefix(final), suffix=final.suffix, dir=final.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    tmp_path.unlink()
    try:
        with _committed(final, lambda: os.replace(tmp_path, final)):
            yield tmp_path
    finally:
        if tmp_path.exists():
            tmp_path.unlink()
        for sidecar in final.parent.glob(tmp_path.name + ".*"):  # e.g. GDAL .aux.xml
            sidecar.unlink()


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_dir(final: str | Path) -> Iterator[Path]:
    """Yield a temporary folder beside ``final``; swap it into place if the block succeeds."""
    final = Path(final)
    with parents_made(final.parent), _staged_dir(final) as tmp:
        yield tmp


@contextlib.contextmanager
def _staged_dir(final: Path) -> Iterator[Path]:
    remove_stale_temporaries(final)
    tmp = Path(tempfile.mkdtemp(prefix=_prefix(final), suffix=final.suffix, dir=final.parent))
    tmp.chmod(0o777 & ~_umask())  # mkdtemp's private 0700 would outlive the swap; use what mkdir gives
    def swap() -> None:
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)

    try:
        with _committed(final, swap):
            yield tmp
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
