"""Running HiGHS (``highspy``): a quiet instance, a solve that keeps its time limit and Ctrl-C.

Every HiGHS model of the design (the assignment LP, the rounding and contiguity MIPs, the
exact and tree models, the bounds) is made by :func:`quiet_highs` or :func:`_new_highs` and run
by :func:`run_highs`; :func:`_status` reads how it ended and :data:`FAILED` names the endings
that are HiGHS's own failures (:class:`HighsFailure`, after which the caller falls back to
another solver).
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

__all__ = [
    "FAILED",
    "HighsFailure",
    "offer_solution",
    "quiet_highs",
    "run_highs",
]

_BANNER_SHOWN = [False]


def quiet_highs() -> Any:
    """Return a new ``highspy.Highs`` with its output off.

    HiGHS prints its banner to the process's stdout (file descriptor 1, past Python) when the first
    instance is built: that one is built with descriptor 1 pointed at the null device, so that a
    script's or the CLI's stdout holds only what geoterr means to print.
    """
    import highspy

    if _BANNER_SHOWN[0]:
        h = highspy.Highs()
    else:
        sys.stdout.flush()
        saved = os.dup(1)
        try:
            with open(os.devnull, "wb") as null:
                os.dup2(null.fileno(), 1)
                h = highspy.Highs()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
        _BANNER_SHOWN[0] = True
    h.setOptionValue("output_flag", False)
    h.setOptionValue("log_to_console", False)
    return h


def _new_highs(time_limit: float | None, *, mip_gap: float | None = None) -> Any:
    h = quiet_highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("log_to_console", False)
    if time_limit is not None:
        h.setOptionValue("time_limit", max(float(time_limit), 0.05))
    if mip_gap is not None:
        h.setOptionValue("mip_rel_gap", mip_gap)
    return h


# HiGHS checks its time limit only at some points of its algorithms; a solve this long past
# its time limit (share, plus seconds) is stopped from its interrupt callbacks.
OVERRUN_SHARE, OVERRUN_SECONDS = 0.1, 2.0
INTERRUPTED = "Interrupted by user"


def run_highs(h: Any) -> None:
    """Run HiGHS on its model so that its time limit and Ctrl-C hold.

    ``Highs.run()`` blocks in C++, so Python's own Ctrl-C handling waits until it returns,
    and a solve that overruns its ``time_limit`` (HiGHS checks it only at some steps) cannot
    be stopped from outside. HiGHS does call back into Python from its simplex, interior
    point and MIP loops, though; there this function's callback stops the solve when Ctrl-C
    was pressed (a SIGINT handler, in the main thread, only notes it meanwhile) or when the
    solve is more than ``OVERRUN_SHARE`` + ``OVERRUN_SECONDS`` past its time limit. Ctrl-C is
    raised as KeyboardInterrupt once HiGHS has stopped; an overrun ends like a solve that
    reached its time limit (:func:`_status` says ``"Time limit reached"``). The solve stays
    in the calling thread: HiGHS keeps its task scheduler per thread, and starting one per
    solve in a new thread made the many small solves of the tree model slow.

    Parameters
    ----------
    h : highspy.Highs
        A model; its options (``time_limit`` included) are used as set.

    Raises
    ------
    KeyboardInterrupt
        When Ctrl-C came during the solve (after HiGHS stopped).
    """
    import signal
    import threading

    option = h.getOptionValue("time_limit")  # (status, value) in some highspy versions
    limit = float(option[-1] if isinstance(option, tuple) else option)
    hard_stop = time.perf_counter() + limit * (1 + OVERRUN_SHARE) + OVERRUN_SECONDS
    state = {"ctrl_c": False, "overrun": False}

    def check(event: Any) -> None:
        if not state["ctrl_c"] and time.perf_counter() > hard_stop:
            state["overrun"] = True
        if state["ctrl_c"] or state["overrun"]:
            event.interrupt()

    def note_ctrl_c(signum: int, frame: Any) -> None:
        state["ctrl_c"] = True

    hooks = ("cbSimplexInterrupt", "cbIpmInterrupt", "cbMipInterrupt")
    for hook in hooks:
        getattr(h, hook).subscribe(check)
    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, note_ctrl_c) if in_main else None
    try:
        h.run()
    finally:
        if in_main:
            signal.signal(signal.SIGINT, previous)
        for hook in hooks:
            getattr(h, hook).unsubscribe(check)
    h.geoterr_overrun = state["overrun"] and not state["ctrl_c"]
    if state["ctrl_c"]:
        raise KeyboardInterrupt


# Model statuses after which HiGHS has no answer because it failed, not because the model
# has none or time ran out.
FAILED = frozenset(
    {
        "Not Set",
        "Load error",
        "Model error",
        "Presolve error",
        "Solve error",
        "Postsolve error",
        "Unknown",
    }
)


class HighsFailure(Exception):
    """HiGHS stopped with an error status (the caller falls back to another solver)."""


def _status(h: Any) -> str:
    status = str(h.modelStatusToString(h.getModelStatus()))
    if status == INTERRUPTED and getattr(h, "geoterr_overrun", False):
        return "Time limit reached"  # stopped by run_highs for overrunning its limit
    return status


def offer_solution(h: Any, values: Any) -> None:
    """Give HiGHS a starting solution (column values in order).

    It ignores one that does not fit the model.
    """
    import highspy

    sol = highspy.HighsSolution()
    sol.col_value = list(values)
    sol.value_valid = True
    h.setSolution(sol)
