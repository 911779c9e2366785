"""geoterr's design at scale, the current code against a previous one, in one run.

    python benchmarks/scale.py [--cases cli100k,units50k] [--old main] [--repeat 1]

Cases (issue 16 item 5, with its targets):

``cli100k``
    ``geoterr design`` on 100,000 customers around the sample's places
    (``hex_promises.us_customers``, issue 11 case 1's customers) with the default units
    (Voronoi), k=50 and the default balance (workload +-5 %), end to end: reading, units,
    design, writing the plan folder (no map). Target: 30 s, a progress line within 2 s.
``units50k``
    50,000 synthetic Voronoi units (``benchmarks/synthetic.py``) into 100 territories,
    workload within +-2 %. Target: 30 s for the design.
``units200k``
    200,000 synthetic units into 1,000 territories within +-2 %. Target: 5 min, 8 GB.

The previous code is the tree of the git revision ``--old`` (default ``main``), exported with
``git archive`` into a temporary folder; each measurement runs in a fresh process with that
tree or this one first on ``sys.path``, and old and new alternate, so that both see the same
load on a shared machine. Printed per case and code: seconds (end to end and design),
seconds to the first progress line, peak resident memory, the plan's status, the largest
deviation, the share of contiguous territories and the objective; then new/old ratios.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import resource
import subprocess
import sys
import tarfile
import tempfile
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# case: (customers or units, territories, tolerance)
CASES = {
    "cli100k": (100_000, 50, 0.05),
    "units50k": (50_000, 100, 0.02),
    "units200k": (200_000, 1000, 0.02),
}


class _First(logging.Handler):
    """Remembers when the first progress line was logged."""

    def __init__(self, start: float) -> None:
        super().__init__(logging.INFO)
        self.start, self.seconds = start, None

    def emit(self, record: logging.LogRecord) -> None:
        if self.seconds is None:
            self.seconds = time.perf_counter() - self.start


def _measures(plan: object) -> dict[str, object]:
    """The plan's promises (from its summary) and objective."""
    summary = plan.summary()  # type: ignore[attr-defined]
    return {
        "status": plan.status,  # type: ignore[attr-defined]
        "max dev %": round(100 * float(summary["workload_deviation"].abs().max()), 2),
        "contiguous": float(summary["contiguous"].mean()),
        "objective": float(f"{plan.objective:.6g}"),  # type: ignore[attr-defined]
        "rounds": plan.params.get("rounds"),  # type: ignore[attr-defined]
        "cut short": plan.params.get("cut_short"),  # type: ignore[attr-defined]
    }


def one_run(case: str, folder: str) -> dict[str, object]:
    """Measure one case in this process with the geoterr first on ``sys.path``."""
    import geoterr as gt

    warnings.simplefilter("ignore", gt.GeoterrWarning)
    n, k, tolerance = CASES[case]
    start = time.perf_counter()
    first = _First(start)
    logging.getLogger("geoterr").addHandler(first)
    if case == "cli100k":
        from hex_promises import PLACES, us_customers

        from geoterr import cli

        customers = Path(folder) / "customers.csv"
        us_customers(PLACES, n).to_csv(customers, index=False)
        start = first.start = time.perf_counter()
        out = Path(folder) / "plan"
        # the time limit well past the work, so that old and new do the rounds their rules give
        args = [str(customers), "-k", str(k), "--out", str(out), "--no-map", "--time-limit", "900"]
        with open(os.devnull, "w") as null, contextlib.redirect_stdout(null):
            cli.main(["design", *args])
        total = time.perf_counter() - start
        plan = gt.load_plan(out)
        design_s = None
    else:
        from synthetic import synthetic_units

        units = synthetic_units(n, 1)
        logging.getLogger("geoterr").setLevel(logging.INFO)
        begin = first.start = time.perf_counter()
        first.seconds = None
        plan = gt.design(units, k, balance={"workload": tolerance}, time_limit=900, random_state=0)
        design_s = round(time.perf_counter() - begin, 1)
        total = time.perf_counter() - start
    row: dict[str, object] = {
        "total s": round(total, 1),
        "design s": design_s,
        "first line s": None if first.seconds is None else round(first.seconds, 1),
        "peak GB": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6, 2),
    }
    row.update(_measures(plan))
    return row


def export(rev: str, folder: Path) -> Path:
    """The tree of git revision ``rev`` in ``folder`` (``git archive``)."""
    archive = folder / "old.tar"
    subprocess.run(["git", "-C", str(ROOT), "archive", "-o", str(archive), rev], check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(folder / "old", filter="data")
    return folder / "old"


def measure(case: str, tree: Path, folder: Path) -> dict[str, object]:
    """Run one case in a fresh process with ``tree``'s geoterr."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tree), str(HERE)]))
    command = [sys.executable, str(Path(__file__)), "--one", case, str(folder)]
    out = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def ratios(new: dict[str, object], old: dict[str, object]) -> str:
    parts = []
    for key in ("total s", "design s", "peak GB", "objective"):
        a, b = new.get(key), old.get(key)
        if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b:
            parts.append(f"{key} {a / b:.3f}")
    return ", ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default="cli100k,units50k")
    parser.add_argument("--old", default="main", help="git revision of the previous code")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--one", nargs=2, metavar=("CASE", "FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:  # the child process
        sys.path.insert(0, str(HERE))
        row = one_run(args.one[0], args.one[1])
        print(json.dumps(row), flush=True)
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        trees = {"old": export(args.old, folder), "new": ROOT}
        rows: list[dict[str, object]] = []
        for case in args.cases.split(","):
            for rep in range(args.repeat):
                pair = {}
                for code in ("old", "new") if rep % 2 == 0 else ("new", "old"):
                    load = os.getloadavg()[0]
                    work = folder / f"{case}-{code}-{rep}"
                    work.mkdir()
                    row = {"case": case, "code": code, "load": round(load, 1)}
                    row.update(measure(case, trees[code], work))
                    print(json.dumps(row), flush=True)
                    rows.append(row)
                    pair[code] = row
                print(f"{case} new/old: {ratios(pair['new'], pair['old'])}", flush=True)
    header = list(dict.fromkeys(key for row in rows for key in row))
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(str(row.get(h, "")) for h in header) + " |")


if __name__ == "__main__":
    main()
