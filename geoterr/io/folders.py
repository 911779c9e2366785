"""Where plans and maps are written: checks first, then atomic swaps that lose nothing.

A plan folder is written in a hidden work folder next to it (``.NAME.PID.XXXXXXXX.tmp``) and
put in place in one step. An earlier plan there is replaced only when asked (``overwrite``)
and only when the folder holds nothing but files geoterr writes: no file geoterr did not
write is ever deleted or overwritten. On Linux the new and the old folder are exchanged
atomically (``renameat2(RENAME_EXCHANGE)``), so the folder is never missing; elsewhere the
old one is moved aside first and an interrupted save is undone by the next one. Work folders
left by a process that was killed are removed by the next save to the same place.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import json
import logging
import os
import re
import shutil
import stat
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from geoterr._errors import InputError, format_ids

__all__ = [
    "GEOTERR_FILES",
    "check_file_target",
    "check_path_arg",
    "check_target",
    "clean_leftovers",
    "commit_files",
    "discard_files",
    "interrupted_save",
    "make_work_folder",
    "stage_files",
    "swap_in",
    "write_file_atomically",
    "write_folder",
]

log = logging.getLogger(__name__)

#: Every file name geoterr may write into a plan folder.
GEOTERR_FILES = frozenset(
    {
        "assignments.csv",
        "territories.geojson",
        "summary.csv",
        "map.html",
        "plan.json",
        "before_after.html",
        "timings.json",
        "roster.csv",  # geoterr.io.plan_extras
        "regions.geojson",
        "layers.json",  # a layered plan (geoterr.layers); its plans are in layers/
        "key_accounts.csv",
        "reps.csv",
        "export.json",  # CRM import files (geoterr.crm_export)
        "accounts.csv",
        "territories.csv",
        "Territory2.csv",
        "ObjectTerritory2Association.csv",
        "UserTerritory2Association.csv",
    }
)
#: The files that mark a folder as geoterr's: a plan, a layered plan, a CRM export.
MARKERS = ("plan.json", "layers.json", "export.json")

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _label(name: str) -> str:
    """How messages call an argument: ``--out`` on the command line, ```path``` in Python."""
    return name if name.startswith("--") or name.isupper() else f"`{name}`"


def check_path_arg(path: Any, name: str = "path") -> Path:
    """``path`` as a :class:`~pathlib.Path`, or an :class:`InputError` naming what it got.

    Local paths only: GDAL virtual paths (``/vsicurl/...``) and URLs are refused.

    Examples
    --------
    >>> check_path_arg("out/plan")
    PosixPath('out/plan')
    """
    label = _label(name)
    if not isinstance(path, str | os.PathLike):
        msg = f"{label} must be a folder path (str or pathlib.Path), got {type(path).__name__}."
        raise InputError(msg)
    text = os.fspath(path)
    if not isinstance(text, str) or not text.strip() or "\0" in text:
        msg = f"{label} {text!r} is not a usable path; give a folder such as 'plan'."
        raise InputError(msg)
    if text.startswith("/vsi") or re.match(r"^[A-Za-z][A-Za-z0-9+.-]+://", text):
        msg = (
            f"{label} {text!r} is a GDAL virtual path or a URL; geoterr reads and writes "
            "plans on the local disk only: download the folder first."
        )
        raise InputError(msg)
    return Path(text)


def _is_plan(folder: Path) -> bool:
    """Tell whether ``folder`` holds a marker file geoterr wrote (:data:`MARKERS`).

    ``plan.json`` as a JSON object with ``geoterr_version``, or a layered plan's or an export's JSON
    object.
    """
    for marker in MARKERS:
        meta = folder / marker
        try:
            info = meta.lstat()
            if not stat.S_ISREG(info.st_mode) or info.st_size > 64_000_000:
                continue
            data = json.loads(meta.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):
            continue
        if isinstance(data, dict) and (marker != "plan.json" or "geoterr_version" in data):
            return True
    return False


def _layer_plans(entry: Path) -> bool:
    """Tell whether ``entry`` is a layered plan's ``layers/`` folder.

    Plan folders of geoterr's files only.
    """
    if entry.name != "layers" or entry.is_symlink() or not entry.is_dir():
        return False
    return all(
        not sub.is_symlink() and sub.is_dir() and _is_plan(sub) and not _foreign_entries(sub)
        for sub in entry.iterdir()
    )


_STAGED = re.compile(r"^\.(.+?)\.(?:\d+\.)?[a-z0-9_]{8}\.tmp$")


def _geoterr_file(name: str) -> bool:
    """Tell whether a name is one geoterr writes into a plan folder, or its temporary file.

    The temporary file is left when ``geoterr map`` is killed while replacing ``map.html``.
    """
    staged = _STAGED.match(name)
    return name in GEOTERR_FILES or (staged is not None and staged.group(1) in GEOTERR_FILES)


def _foreign_entries(folder: Path) -> list[str]:
    """Entries of ``folder`` that geoterr did not write (other names, subfolders, links)."""
    foreign = []
    for entry in sorted(folder.iterdir()):
        if _layer_plans(entry):
            continue
        if not _geoterr_file(entry.name) or not stat.S_ISREG(entry.lstat().st_mode):
            foreign.append(entry.name + ("/" if entry.is_dir() else ""))
    return foreign


def _writable_parent(target: Path, name: str) -> None:
    """Refuse a ``target`` whose nearest existing parent folder is not a writable folder."""
    label = _label(name)
    parent = target.parent
    while not parent.exists():
        if parent.is_symlink():  # a dangling link
            break
        parent = parent.parent
    if not parent.is_dir():
        msg = f"{label} {str(target)!r}: {str(parent)!r} is not a folder; choose another place."
        raise InputError(msg)
    if not os.access(parent, os.W_OK | os.X_OK):
        msg = (
            f"{label} {str(target)!r}: the folder {str(parent)!r} is not writable; choose a "
            "folder you can write to (or fix its permissions)."
        )
        raise InputError(msg)


def check_target(path: Any, *, overwrite: bool = False, name: str = "path") -> Path:
    """Check that a plan can be written to folder ``path`` (before spending time on a design).

    Parameters
    ----------
    path : path-like
        The plan folder: new, empty, or (with ``overwrite``) an earlier plan that holds only
        files geoterr writes.
    overwrite : bool
        Replace an earlier plan there.
    name : str
        How to call the argument in messages (``"--out"`` on the command line).

    Returns
    -------
    Path
        The absolute folder path.

    Raises
    ------
    InputError
        If ``path`` is a file, the current or root folder, not writable, a folder that is
        not a plan, a plan that holds other files, or a plan and ``overwrite`` is false.

    Examples
    --------
    >>> import tempfile
    >>> check_target(tempfile.mkdtemp() + "/plan").name
    'plan'
    """
    label = _label(name)
    target = check_path_arg(path, name).resolve()
    if target == Path.cwd().resolve() or target.parent == target:
        msg = (
            f"{label} {str(path)!r} is the current or root folder; give a new folder for the plan."
        )
        raise InputError(msg)
    if target.exists():
        if not target.is_dir():
            msg = f"{label} {str(target)!r} is a file; give a folder for the plan."
            raise InputError(msg)
        entries = list(target.iterdir())
        if entries and not _is_plan(target):
            msg = (
                f"{label} {str(target)!r} is a non-empty folder that is not a geoterr plan; "
                "choose a new or empty folder so nothing there is overwritten."
            )
            raise InputError(msg)
        foreign = _foreign_entries(target) if entries else []
        if foreign:
            msg = (
                f"{label} {str(target)!r} holds a geoterr plan and files geoterr did not write "
                f"({format_ids(foreign)}); geoterr never deletes them: move them out or choose "
                "a new folder."
            )
            raise InputError(msg)
        if entries and not overwrite:
            flag = "--overwrite" if name.startswith("--") else "overwrite=True"
            msg = (
                f"{label} {str(target)!r} already holds a plan; pass {flag} to replace it, or "
                "choose a new folder."
            )
            raise InputError(msg)
        _writable_parent(target, name)
        if not os.access(target, os.W_OK | os.X_OK):
            msg = f"{label} {str(target)!r} is not writable; choose a folder you can write to."
            raise InputError(msg)
    else:
        _writable_parent(target, name)
    return target


def check_file_target(
    path: Any, *, suffixes: tuple[str, ...], overwrite: bool = False, name: str = "path"
) -> Path:
    """Check that one output file (a map page, a figure) can be written to ``path``.

    The name must end with one of ``suffixes``; an existing file is replaced only with
    ``overwrite``.

    Examples
    --------
    >>> import tempfile
    >>> check_file_target(tempfile.mkdtemp() + "/m.html", suffixes=(".html",)).suffix
    '.html'
    """
    label = _label(name)
    target = check_path_arg(path, name)
    if target.suffix.lower() not in suffixes:
        msg = (
            f"{label} {str(path)!r} does not end with {' or '.join(suffixes)}; give a file "
            f"name such as {target.stem or 'out'}{suffixes[0]} (geoterr will not write "
            f"{suffixes[0][1:].upper()} under another kind of file's name)."
        )
        raise InputError(msg)
    target = target.resolve()
    if target.is_dir():
        msg = f"{label} {str(path)!r} is a folder; give a file name ending {suffixes[0]}."
        raise InputError(msg)
    if target.exists() and not overwrite:
        flag = "--overwrite" if name.startswith("--") else "overwrite=True"
        msg = (
            f"{label} {str(path)!r} already exists; pass {flag} to replace it, or choose a "
            "new name."
        )
        raise InputError(msg)
    if not target.parent.is_dir():
        msg = (
            f"{label} {str(path)!r}: the folder {str(target.parent)!r} does not exist; create "
            "it first or choose another place."
        )
        raise InputError(msg)
    _writable_parent(target, name)
    return target


def _work_name(target: Path) -> str:
    return f".{target.name}.{os.getpid()}."


def _leftover_pattern(target: Path) -> re.Pattern[str]:
    # .NAME.[PID.]XXXXXXXX.tmp / .old: tempfile.mkdtemp names, with or without the owner PID
    return re.compile(rf"^\.{re.escape(target.name)}\.(?:(\d+)\.)?[a-z0-9_]{{8}}\.(tmp|old)$")


def _alive(pid: int) -> bool:
    if pid == os.getpid() or sys.platform == "win32":  # (os.kill ends processes on Windows)
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


def _ours(entry: Path) -> bool:
    """Return a leftover geoterr may remove: a folder of geoterr's files only, or a lone file."""
    info = entry.lstat()
    if stat.S_ISREG(info.st_mode):
        return True
    if not stat.S_ISDIR(info.st_mode):
        return False
    return not _foreign_entries(entry)


def interrupted_save(target: Path) -> Path | None:
    """Return the earlier plan an interrupted replace left aside (``.NAME.*.old``), if any."""
    pattern = _leftover_pattern(target)
    if not target.parent.is_dir():
        return None
    for entry in sorted(target.parent.iterdir()):
        match = pattern.match(entry.name)
        if match and match.group(2) == "old" and entry.is_dir() and _is_plan(entry):
            return entry
    return None


def clean_leftovers(target: Path) -> None:
    """Undo or remove what interrupted saves to ``target`` left behind.

    An earlier plan moved aside (``.old``) while ``target`` is missing is put back; work
    folders and files (``.tmp``) of processes that are gone are removed when they hold only
    files geoterr writes. Anything else is left alone.
    """
    parent = target.parent
    if not parent.is_dir():
        return
    pattern = _leftover_pattern(target)
    for entry in sorted(parent.iterdir()):
        match = pattern.match(entry.name)
        if not match or (match.group(1) and _alive(int(match.group(1)))):
            continue
        if match.group(2) == "old" and not target.exists() and entry.is_dir() and _is_plan(entry):
            entry.rename(target)
            log.warning(
                "an interrupted save had left the earlier plan aside; put back in %s", target
            )
            continue
        if _ours(entry):
            if entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
            log.info("removed %s, left by an interrupted save", entry.name)


def make_work_folder(target: Path) -> Path:
    """Return a new hidden work folder next to ``target``."""
    return Path(tempfile.mkdtemp(prefix=_work_name(target), suffix=".tmp", dir=target.parent))


def _exchange(a: Path, b: Path) -> bool:
    """Swap folders ``a`` and ``b`` in one step (Linux); False when the system cannot."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_uint,
    ]
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def swap_in(work: Path, target: Path) -> None:
    """Put the finished folder ``work`` at ``target``; an earlier one there is removed."""
    if not target.exists():
        work.rename(target)
        return
    if _exchange(work, target):
        shutil.rmtree(work, ignore_errors=True)  # now the earlier plan
        return
    old = Path(tempfile.mkdtemp(prefix=_work_name(target), suffix=".old", dir=target.parent))
    old.rmdir()
    target.rename(old)
    try:
        work.rename(target)
    except BaseException:
        old.rename(target)
        raise
    shutil.rmtree(old, ignore_errors=True)


def write_folder(
    path: Any, fill: Callable[[Path], None], *, overwrite: bool = False, name: str = "path"
) -> Path:
    """Write a geoterr folder (a plan, a layered plan, an export) at ``path`` in one step.

    ``fill(work)`` writes the files into a hidden work folder next to ``path``; the folder is
    then swapped into place (:func:`swap_in`). ``path`` is checked with :func:`check_target`
    before and again just before the swap; a failure leaves ``path`` as it was and no work
    folder behind.

    Examples
    --------
    >>> import tempfile
    >>> out = write_folder(
    ...     tempfile.mkdtemp() + "/x", lambda w: (w / "layers.json").write_text("{}")
    ... )
    >>> sorted(p.name for p in out.iterdir())
    ['layers.json']
    """
    target = check_target(path, overwrite=overwrite, name=name)
    target.parent.mkdir(parents=True, exist_ok=True)
    clean_leftovers(target)
    work = make_work_folder(target)
    try:
        fill(work)
        os.chmod(work, 0o755)
        check_target(target, overwrite=overwrite, name=name)  # nothing new appeared meanwhile
        swap_in(work, target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return target


def write_file_atomically(target: Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(temporary_path)`` and move the result to ``target`` in one step.

    A failure leaves ``target`` as it was and no temporary file behind.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "note.html"
    >>> write_file_atomically(path, lambda p: p.write_text("<p>hi</p>")).read_text()
    '<p>hi</p>'
    """
    commit_files(stage_files([(target, write)]))
    return target


def stage_files(items: list[tuple[Path, Callable[[Path], None]]]) -> list[tuple[Path, Path]]:
    """Write each ``(target, write)`` to a hidden temporary file next to its target.

    Returns the ``(temporary, target)`` pairs for :func:`commit_files`; when one write fails,
    the temporary files already written are removed and the error raised: nothing changed.
    """
    staged: list[tuple[Path, Path]] = []
    try:
        for target, write in items:
            clean_leftovers(target)
            handle, name = tempfile.mkstemp(
                prefix=_work_name(target), suffix=".tmp", dir=target.parent
            )
            os.close(handle)
            staged.append((Path(name), target))
            write(Path(name))
            os.chmod(name, 0o644)
    except BaseException:
        discard_files(staged)
        raise
    return staged


def discard_files(staged: list[tuple[Path, Path]]) -> None:
    """Remove the temporary files of :func:`stage_files`."""
    for temporary, _ in staged:
        with contextlib.suppress(OSError):
            temporary.unlink()


def commit_files(staged: list[tuple[Path, Path]]) -> list[Path]:
    """Move staged files to their targets (each in one step); returns the targets."""
    done = []
    try:
        for temporary, target in staged:
            os.replace(temporary, target)
            done.append(target)
    except BaseException:
        discard_files(staged[len(done) :])
        raise
    return done
