"""Territory design: balanced, contiguous, compact territories from basic units.

The public entry point is :func:`design`, a pipeline of named steps
(:mod:`geoterr.design.pipeline`): set up the problem and its constraints
(:mod:`geoterr.design.constraints`), choose the steps (:mod:`geoterr.design.strategy`), run
rounds of "assign, round, repair, recenter", finish with the bound or the exact model, and
build the :class:`~geoterr.Plan`. See ``docs/guide/how-it-designs.md`` for the method.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any, Literal

import pandas as pd

from geoterr._errors import InputError
from geoterr.design.checks import check_design_options
from geoterr.design.dispersion import OBJECTIVES, check_dispersion
from geoterr.design.final_step import finish
from geoterr.design.first_step import set_up
from geoterr.design.islands import design_parts
from geoterr.design.pipeline import Options, progress, run_rounds
from geoterr.design.plan_output import to_plan
from geoterr.design.problem import Bound
from geoterr.design.two_starts import best_of_two_starts
from geoterr.plan import Plan
from geoterr.units import Units

__all__ = ["design"]


def design(  # noqa: PLR0913 (public API: every option is a documented keyword)
    units: Units,
    n_territories: int,
    *,
    balance: Mapping[str, Bound] | str | None = None,
    objective: Literal["distance", "inertia", "diameter", "radius"] = "distance",
    centers: Any = None,
    capacity: Sequence[float] | None = None,
    costs: Any = None,
    locked: Mapping[Hashable, Hashable] | pd.Series | None = None,
    current: str | pd.Series | Mapping[Hashable, Hashable] | None = None,
    max_moved: float | None = None,
    move_penalty: float = 0.0,
    keep_territories: Sequence[str] | None = None,
    enclaves: Literal["raise", "join"] = "raise",
    max_distance: float | None = None,
    solver: Any = "highs",
    time_limit: float | None = 60.0,
    max_iter: int | None = None,
    random_state: int | None = 0,
    prove: bool = False,
    verbose: bool = False,
) -> Plan:
    """Split units into balanced, contiguous, compact territories.

    Parameters
    ----------
    units : Units
        Basic units from :func:`geoterr.build_units`.
    n_territories : int
        How many territories (one per rep).
    balance : dict or str, optional
        Measure -> relative tolerance, e.g. ``{"workload": 0.05, "annual_revenue": 0.10}``:
        every territory's total of each measure stays within that share of its target (the
        mean, or its share under ``capacity``); or measure -> ``(low, high)`` absolute bounds
        for every territory. The CLI's ``"workload:0.05,annual_revenue:10%"`` is accepted
        too. Default: the customer count within 5 %. The first measure also weighs the
        objective.
    objective : {"distance", "inertia", "diameter", "radius"}
        Minimise the sum of weight x distance to the territory center, or weight x squared
        distance (rounder territories, less tolerance for outliers); or a min-max objective
        (:mod:`geoterr.design.dispersion`): ``"diameter"``, the largest territory diameter
        (the longest distance between two units of one territory), or ``"radius"``, the
        largest distance from a unit to its territory's center (a unit of the territory, or
        the rep's fixed center with ``centers``). Distances are straight lines (km) or the
        ``costs`` matrix (shortest-path or drive-time distances). The min-max objectives
        start from the ``"distance"`` plan (with ``costs`` and free centers, from two:
        rounds on straight lines and on the matrix, the better kept,
        :mod:`geoterr.design.two_starts`) and keep every promise; ``plan.objective`` is
        then the largest diameter or radius and there is no lower bound. They do not
        support ``max_moved``, ``move_penalty`` or ``islands="separate"`` with several
        parts, and need at most 5,000 units (an n x n distance matrix).
    centers : DataFrame, GeoDataFrame, array or sequence, optional
        Fixed territory centers (rep home bases), one territory per center, never moved.
        Points as a GeoDataFrame, a DataFrame with latitude/longitude columns or an (k, 2)
        array of (longitude, latitude) degrees; with ``costs``, unit ids. The territories are
        named after the index of a (Geo)DataFrame. Default: chosen by the optimizer.
    capacity : sequence of float, optional
        Relative size of each territory, e.g. ``[1, 1, 0.5]`` for a half-time rep: targets of
        relatively balanced measures are shared in proportion. In the order of ``centers``.
    costs : DataFrame or array, optional
        Unit-to-unit distances (drive times, published distance matrices) replacing straight
        lines; a DataFrame indexed and labelled by unit ids, or an (n, n) array in the order of
        ``units.gdf``. Centers are then units (medoids).
    locked : mapping or Series, optional
        Unit id -> territory for units that must stay where they are. With ``centers``, the
        territory is a center's name; otherwise any label: units with the same label end up
        in the same territory, different labels in different territories.
    current : str, Series or mapping, optional
        The current plan, for a realignment: a customer column (``"current_territory"``), or
        unit id or customer id -> territory. The plan keeps the current territory names (new
        ones are named ``NEW01``...), starts from the current territories, and
        ``plan.moved`` lists the customers whose territory changed.
    max_moved : int or float, optional
        With ``current``: a hard budget of change, at most this many customers (a whole
        number) or this share of the first balanced measure (a float in (0, 1), e.g. 0.1 of
        the workload) may change territory. When balance cannot be reached within it, the
        design raises :class:`InfeasibleError`.
    move_penalty : float
        With ``current``: the cost of moving a unit, as extra distance (km; km^2 with
        ``"inertia"``) per unit of weight, so that a unit only moves when that saves more.
        Included in ``plan.objective``.
    keep_territories : sequence of str, optional
        With ``current``: territories kept exactly as they are (no unit leaves or joins).
        Units of other territories that the kept ones cut off from the rest, too light to
        form a territory of their own (an enclave), are reported before any solve
        (:class:`InfeasibleError` with the numbers), or join the kept territory around them
        with ``enclaves="join"``.
    enclaves : {"raise", "join"}
        With ``keep_territories``: what to do with such enclaves (see above);
        ``plan.params["enclaves_joined"]`` lists the joins.
    max_distance : float, optional
        No unit farther than this from its territory's center: km for straight-line
        distances, or the cost matrix's own unit (minutes of drive time...) with ``costs``.
        The center is the rep's home with ``centers``, otherwise the center the optimizer
        chooses. With fixed centers, units with no center within reach are reported before
        any solve (:class:`InfeasibleError`, with their ids and the distance that would
        work); ``plan.params["max_distance"]`` records it.
    solver : str or pulp.LpSolver
        ``"highs"`` (default, HiGHS via highspy; CBC if highspy is missing), ``"cbc"``, any
        name ``pulp.getSolver`` knows, or a configured PuLP solver.
    time_limit : float or None
        Seconds for the whole design: a safety net. Every step stops by counts (rounds,
        cut rounds, simplex iterations, search steps), so the same input and seed give the
        same plan on any machine, however fast or loaded, unless a limit of seconds stopped
        the work first. When the time limit runs out, the best plan found so far is returned
        with a warning (``plan.params["time_limit_reached"]``); a step stopped by its own
        safety net of seconds is recorded in ``plan.params["cut_short"]`` (true also when
        the time limit ran out): only then may the plan differ on another machine.
    max_iter : int, optional
        At most this many rounds of "assign, repair, move centers". By default 30, and 15
        after the coarse start of large instances (20,000 units or more on straight lines,
        free centers; no locks, current plan, kept territories, ``max_distance`` or other
        rules), whose rounds only polish its centers with over-relaxed steps
        (``docs/design.md``, step 6).
    random_state : int or None
        Seed of the k-means start used with ``costs`` (the bisection start of the other
        designs has no randomness); the same seed gives the same plan.
    prove : bool
        Small instances whose centers are units (``costs`` given, at most 200 units, no
        ``locked`` or ``capacity``) are also solved by the exact model
        (:mod:`geoterr.design.exact`) with the time left, which either improves the plan and
        proves a lower bound for *every* plan (``plan.lower_bound_scope`` is then
        ``"all plans"``) or proves that no plan exists; from 50 units on, when it did not
        prove the plan optimal and time is left, the bound of the territories LP with exact
        pricing (:mod:`geoterr.design.global_bound`) follows. Without ``prove`` the exact
        model runs only when the plan found breaks a promise. Either way, such instances
        whose possible territories are few enough to list get their optimum by enumeration
        (:mod:`geoterr.design.enumeration`), certified for every plan.
    verbose : bool
        Progress lines on stderr during this design (the ``geoterr`` logger at INFO, with
        a handler when the application set none); the logger is restored afterwards.

    Returns
    -------
    Plan
        ``plan.status`` is ``"feasible"`` when every territory is contiguous and inside every
        tolerance; otherwise ``"violated"`` and ``plan.problems`` says which promise was not
        kept, for which territory, and by how much (a warning says so too).

    Raises
    ------
    InputError
        Bad arguments (unknown measure, tolerance out of range, ...).
    InfeasibleError
        When no plan can exist, with the reason (a unit heavier than a territory may be,
        more territories than units, ...) and the smallest tolerance that could work.
    SolverError
        When the time limit runs out before a first plan exists.

    Notes
    -----
    Units built with ``islands="separate"`` whose graph is in several parts: each part gets
    whole territories of its own, shared by weight (see :mod:`geoterr.design.islands`).

    Examples
    --------
    >>> import geoterr as gt
    >>> units = gt.build_units(gt.read_customers(gt.sample_path()), measures=["workload"])
    >>> plan = gt.design(units, 12, balance={"workload": 0.05})
    >>> plan.status, len(plan.territories)
    ('feasible', 12)
    """
    _check_arguments(units, objective)
    check_dispersion(
        objective, len(units), max_moved=max_moved, move_penalty=move_penalty,
        parts=len(units.parts) if units.islands == "separate" else 1,
    )  # fmt: skip
    check_design_options(
        time_limit=time_limit,
        max_iter=max_iter,
        random_state=random_state,
        prove=prove,
        verbose=verbose,
    )
    options = Options(
        balance=balance,
        objective=objective,
        centers=centers,
        capacity=capacity,
        costs=costs,
        locked=locked,
        current=current,
        max_moved=max_moved,
        move_penalty=move_penalty,
        keep_territories=keep_territories,
        enclaves=enclaves,
        max_distance=max_distance,
        solver=solver,
        time_limit=time_limit,
        max_iter=max_iter,
        random_state=random_state,
        prove=prove,
    )
    with progress(verbose):
        if units.islands == "separate" and len(units.parts) > 1:
            return design_parts(units, n_territories, vars(options))
        return best_of_two_starts(
            options, lambda given, on_costs: _run(units, n_territories, given, on_costs)
        )


def _run(units: Units, n_territories: int, options: Options, rounds_on_costs: bool) -> Plan:
    setup = set_up(units, n_territories, options, rounds_on_costs=rounds_on_costs)
    rounds = run_rounds(setup)
    final = finish(setup, rounds)
    return to_plan(setup, rounds, final)


def _check_arguments(units: Any, objective: Any) -> None:
    if not isinstance(units, Units):
        msg = f"`units` must come from geoterr.build_units, got {type(units).__name__}."
        raise InputError(msg)
    if objective not in ("distance", "inertia", *OBJECTIVES):
        msg = (
            f"`objective` must be 'distance', 'inertia', 'diameter' or 'radius', got {objective!r}."
        )
        raise InputError(msg)
