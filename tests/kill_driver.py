"""Run ``geoterr.cli.main`` in forked children that are killed (SIGKILL) at chosen moments.

Used by tests/test_kill.py: ``python kill_driver.py ROOT POINT [POINT ...]``. For each point,
``ROOT/POINT_NAME`` is a working folder prepared by the test (customers, maybe an earlier
plan); a child process runs the real command there and sends itself ``kill -9`` at that
moment of the save. The parent prints one JSON line per point: how the child ended.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geoterr.cli
import geoterr.cli_outputs
import geoterr.io.folders
import geoterr.io.plans
import geoterr.maps


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _after(module: Any, name: str) -> None:
    real = getattr(module, name)

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        result = real(*args, **kwargs)
        _die()
        return result

    setattr(module, name, wrapped)


def _before(module: Any, name: str) -> None:
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        _die()

    setattr(module, name, wrapped)


def _between_renames() -> None:
    geoterr.io.folders._exchange = lambda a, b: False  # type: ignore[assignment]
    real = Path.rename
    calls = []

    def rename(self: Path, target: Any) -> Any:
        result = real(self, target)
        calls.append(target)
        if str(target).endswith(".old"):  # the earlier plan moved aside, the new not yet in
            _die()
        return result

    Path.rename = rename  # type: ignore[method-assign]


def _removing_old() -> None:
    import shutil

    def rmtree(path: Any, *args: Any, **kwargs: Any) -> None:
        files = sorted(Path(path).iterdir())
        if files:
            files[0].unlink()
        _die()

    shutil.rmtree = rmtree  # type: ignore[assignment]


POINTS: dict[str, Callable[[], None]] = {
    "work folder made": lambda: _after(geoterr.io.folders, "make_work_folder"),
    "before plan.json": lambda: _before(geoterr.io.plans, "_write_json"),
    "writing the map": lambda: _before(geoterr.maps, "plan_map"),
    "before the swap": lambda: _before(geoterr.io.folders, "swap_in"),
    "after the exchange": lambda: _after(geoterr.io.folders, "_exchange"),
    "between the renames": _between_renames,
    "removing the old plan": _removing_old,
    "before the figure is put in place": lambda: _before(geoterr.cli_outputs, "commit_files"),
}


def main() -> None:
    root = Path(sys.argv[1])
    for point in sys.argv[2:]:
        folder = root / point.replace(" ", "_")
        argv = json.loads((folder / "argv.json").read_text())
        pid = os.fork()
        if pid == 0:
            os.chdir(folder)
            POINTS[point]()
            code = geoterr.cli.main(argv)
            os._exit(code)
        _, status = os.waitpid(pid, 0)
        killed = os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
        print(json.dumps({"point": point, "killed": killed, "status": status}), flush=True)


if __name__ == "__main__":
    main()
