"""assign_reps and design_for_reps: optimality, skills, capacity, continuity, vacancies."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from conftest import make_customers

import geoterr as gt
from geoterr._errors import InfeasibleError, InputError
from geoterr.reps import OPEN_TERRITORY, travel_costs


@pytest.fixture(scope="module")
def small_units() -> gt.Units:
    customers = gt.read_customers(make_customers(150, seed=3), measures=["workload"])
    return gt.build_units(customers, method="points", measures=["workload"])


@pytest.fixture(scope="module")
def plan6(small_units: gt.Units) -> gt.Plan:
    return gt.design(small_units, 6, balance={"workload": 0.1}, time_limit=20)


def make_reps(n: int, seed: int, **columns: list[object]) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    table = pd.DataFrame(
        {
            "rep_id": [f"R{i}" for i in range(n)],
            "name": [f"Rep {i}" for i in range(n)],
            "home_latitude": rng.uniform(37, 38.5, n).round(4),
            "home_longitude": rng.uniform(-99, -97, n).round(4),
        }
    )
    for key, values in columns.items():
        table[key] = values
    return table


def brute_force(cost: np.ndarray, allowed: np.ndarray) -> float:
    best = np.inf
    n = cost.shape[0]
    for perm in itertools.permutations(range(n)):
        if all(allowed[i, perm[i]] for i in range(n)):
            best = min(best, sum(cost[i, perm[i]] for i in range(n)))
    return best


def chosen_cost(plan: gt.Plan, cost: pd.DataFrame) -> float:
    roster = plan.roster
    assert roster is not None
    assigned = roster.dropna(subset=["rep"])
    return float(
        sum(cost.loc[r, t] for r, t in zip(assigned["rep"], assigned["territory"], strict=True))
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_travel_assignment_is_optimal_against_all_permutations(plan6: gt.Plan, seed: int) -> None:
    reps = make_reps(6, seed)
    staffed = gt.assign_reps(plan6, reps)
    cost = travel_costs(plan6, gt.read_reps(reps))
    assert chosen_cost(staffed, cost) == pytest.approx(
        brute_force(cost.to_numpy(), np.ones((6, 6), bool)), rel=1e-9
    )
    assert staffed.territories["rep"].nunique() == 6


def test_skills_are_hard_and_optimal(plan6: gt.Plan) -> None:
    territories = list(plan6.territories.index)
    requires = {territories[0]: "spanish", territories[3]: "medical;spanish"}
    skills = ["spanish", "", "medical;spanish", "", "medical", ""]
    reps = make_reps(6, 5, skills=skills)
    staffed = gt.assign_reps(plan6, reps, requires=requires)
    rep_of = staffed.territories["rep"]
    assert rep_of[territories[3]] == "R2"  # the only rep with both skills
    assert rep_of[territories[0]] == "R0"
    read = gt.read_reps(reps)
    cost = travel_costs(plan6, read).to_numpy()
    allowed = np.array(
        [[gt.reps._skill_set(requires.get(t, "")) <= s for t in territories] for s in read.skills]
    )
    assert chosen_cost(staffed, travel_costs(plan6, read)) == pytest.approx(
        brute_force(cost, allowed)
    )
    # customers carry their rep
    customers = staffed.customers
    assert customers is not None
    assert (customers["rep"] == customers["territory"].map(rep_of)).all()


def test_user_cost_matrix_brute_force(plan6: gt.Plan) -> None:
    reps = make_reps(6, 7)
    rng = np.random.default_rng(11)
    cost = pd.DataFrame(
        rng.uniform(1, 100, (6, 6)),
        index=[f"R{i}" for i in range(6)],
        columns=[str(t) for t in plan6.territories.index],
    )
    staffed = gt.assign_reps(plan6, reps, costs=cost)
    assert chosen_cost(staffed, cost) == pytest.approx(
        brute_force(cost.to_numpy(), np.ones((6, 6), bool))
    )
    assert staffed.params["reps"]["costs"] == "user matrix"


def test_continuity_keeps_current_pairs_and_counts_them(plan6: gt.Plan) -> None:
    territories = [str(t) for t in plan6.territories.index]
    reps = make_reps(6, 9, current_territory=territories[::-1])
    free = gt.assign_reps(plan6, reps)
    kept_free = free.params["reps"]["kept"]
    full = gt.assign_reps(plan6, reps, continuity=1.0)
    assert full.params["reps"]["kept"] == 6
    assert full.roster is not None
    assert full.roster["kept"].all()
    forced = gt.assign_reps(plan6, reps, min_kept=min(6, kept_free + 2))
    assert forced.params["reps"]["kept"] >= min(6, kept_free + 2)
    # continuity costs travel: never cheaper than the free optimum
    cost = travel_costs(plan6, gt.read_reps(reps))
    assert chosen_cost(full, cost) >= chosen_cost(free, cost) - 1e-6


def test_capacity_gives_the_half_time_rep_the_half_territory(small_units: gt.Units) -> None:
    plan = gt.design(
        small_units, 4, balance={"workload": 0.1}, capacity=[1, 1, 1, 0.5], time_limit=20
    )
    small = str(plan.territories.index[3])
    reps = make_reps(4, 2, capacity_fte=[0.5, 1, 1, 1])
    staffed = gt.assign_reps(plan, reps)
    assert staffed.territories.loc[small, "rep"] == "R0"
    assert staffed.params["reps"]["capacity_measure"] == "workload"
    # two half-time reps cannot cover three full territories and a half one
    with pytest.raises(InfeasibleError, match="FTE"):
        gt.assign_reps(plan, make_reps(4, 2, capacity_fte=[0.5, 0.5, 1, 1]))


def test_vacancies_are_open_territories(plan6: gt.Plan) -> None:
    with pytest.warns(gt.GeoterrWarning, match=r"2 of 6 territories have no rep"):
        staffed = gt.assign_reps(plan6, make_reps(4, 1))
    names = staffed.territories["rep_name"]
    assert (names == OPEN_TERRITORY).sum() == 2
    assert staffed.params["reps"]["vacancies"] == 2
    roster = staffed.roster
    assert roster is not None
    assert (roster["status"] == "vacant").sum() == 2
    html = staffed.map().get_root().render()
    assert OPEN_TERRITORY in html


def test_more_reps_than_territories(plan6: gt.Plan) -> None:
    reps = make_reps(8, 4)
    with pytest.raises(InputError, match=r"8 reps but the plan has only 6 territories"):
        gt.assign_reps(plan6, reps)
    staffed = gt.assign_reps(plan6, reps, allow_unassigned=True)
    assert staffed.roster is not None
    assert (staffed.roster["status"] == "unassigned").sum() == 2
    assert staffed.territories["rep"].notna().all()


def test_infeasible_names_territory_and_requirement(plan6: gt.Plan) -> None:
    t = str(plan6.territories.index[2])
    with pytest.raises(InfeasibleError, match=rf"territory {t} needs skills french that no rep"):
        gt.assign_reps(plan6, make_reps(6, 0), requires={t: "french"})
    two = {str(plan6.territories.index[i]): "french" for i in (0, 1)}
    with pytest.raises(InfeasibleError, match=r"2 territories .* can only go to 1 reps"):
        gt.assign_reps(plan6, make_reps(6, 0, skills=["french", "", "", "", "", ""]), requires=two)


def test_requires_customer_column(small_units: gt.Units) -> None:
    customers = small_units.customers
    assert customers is not None
    plan = gt.design(small_units, 3, balance={"workload": 0.1}, time_limit=20)
    tagged = plan.customers.assign(line=np.where(plan.customers["territory"] == "T01", "A", "B"))
    plan = type(plan)(**{**plan.__dict__, "customers": tagged})
    reps = make_reps(3, 0, skills=["B", "A", "B"])
    staffed = gt.assign_reps(plan, reps, requires="line")
    assert staffed.territories.loc["T01", "rep"] == "R1"


def test_design_for_reps_names_and_sizes(small_units: gt.Units) -> None:
    reps = make_reps(4, 8, capacity_fte=[1, 1, 0.5, 1])
    plan = gt.design_for_reps(small_units, reps, balance={"workload": 0.1}, time_limit=20)
    assert list(plan.territories.index) == [f"Rep {i}" for i in range(4)]
    assert plan.params["capacity"] == [1, 1, 0.5, 1]
    work = plan.territories["workload"]
    assert work["Rep 2"] == pytest.approx(work.sum() / 3.5 * 0.5, rel=0.1)
    customers = plan.customers
    assert customers is not None
    assert customers["rep"].notna().all()
    centers = plan.centers[["latitude", "longitude"]].to_numpy()
    np.testing.assert_allclose(centers, reps[["home_latitude", "home_longitude"]].to_numpy())


def test_staffed_plan_round_trip(tmp_path: object, plan6: gt.Plan) -> None:
    with pytest.warns(gt.GeoterrWarning, match="1 of 6 territories have no rep"):
        staffed = gt.assign_reps(plan6, make_reps(5, 3))
    folder = staffed.save(tmp_path / "p")  # type: ignore[operator]
    back = gt.load_plan(folder)
    assert back.roster is not None and staffed.roster is not None
    assert list(back.roster["rep"].fillna("")) == list(staffed.roster["rep"].fillna(""))
    summary = pd.read_csv(folder / "summary.csv")
    assert {"rep", "rep_name", "fte", "travel_km"} <= set(summary.columns)
    assert back.customers is not None
    assert "rep" in back.customers.columns


@pytest.mark.parametrize("seed", [0, 1])
def test_priced_lp_matches_exact_assignment(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """The pricing path (large instances) finds the optimum of the whole model."""
    from scipy.optimize import linear_sum_assignment

    from geoterr import rep_model

    monkeypatch.setattr(rep_model, "FULL_PAIRS", 10)
    rng = np.random.default_rng(seed)
    n = 40
    cost = rng.uniform(1, 100, (n, n))
    allowed = rng.random((n, n)) > 0.2
    np.fill_diagonal(allowed, True)  # keep a perfect matching
    kept = np.zeros((n, n), bool)
    choice = rep_model.solve_assignment(
        cost, allowed, kept, rep_rows="==", territory_rows="==", min_kept=None,
        solver="highs", time_limit=30,
    )  # fmt: skip
    assert sorted(choice) == list(range(n))
    assert allowed[np.arange(n), choice].all()
    rows, cols = linear_sum_assignment(np.where(allowed, cost, 1e9))
    assert cost[np.arange(n), choice].sum() == pytest.approx(cost[rows, cols].sum())
    # with a count of kept pairs: the 0/1 model over the priced pairs
    kept = np.eye(n, dtype=bool)
    forced = rep_model.solve_assignment(
        cost, allowed, kept, rep_rows="==", territory_rows="==", min_kept=25,
        solver="highs", time_limit=30,
    )  # fmt: skip
    assert (forced == np.arange(n)).sum() >= 25
