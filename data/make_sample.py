"""Generate the geoterr sample customers and reps from GeoNames places.

The locations are real US populated places (GeoNames, CC BY 4.0); everything else about
the accounts (names, revenue, visits, segment, current plan) is simulated with a fixed seed
so that the files are reproducible::

    python data/make_sample.py ../shared/data/us_places_geonames.csv

writes ``data/customers.csv``, ``data/reps.csv`` and ``data/places_extract.csv`` (the
places the accounts were drawn from, with their GeoNames ids, for attribution).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20261128
N_ACCOUNTS = 4500
HERE = Path(__file__).resolve().parent

# The sample company's current plan: 12 territories drawn by hand along state lines,
# as many real plans are (and, as they often are, out of balance).
CURRENT_TERRITORIES: dict[str, list[str]] = {
    "T01 New England": ["ME", "NH", "VT", "MA", "RI", "CT"],
    "T02 New York Metro": ["NY", "NJ"],
    "T03 Mid-Atlantic": ["PA", "DE", "MD", "DC", "VA", "WV"],
    "T04 Carolinas & Georgia": ["NC", "SC", "GA"],
    "T05 Florida": ["FL"],
    "T06 Gulf & Tennessee": ["AL", "MS", "LA", "TN", "AR", "KY"],
    "T07 Texas & Oklahoma": ["TX", "OK"],
    "T08 Great Lakes": ["OH", "MI", "IN"],
    "T09 Upper Midwest": ["IL", "WI", "MN", "IA", "MO"],
    "T10 Plains & Rockies": ["KS", "NE", "SD", "ND", "CO", "WY", "MT", "UT", "NM"],
    "T11 California & Southwest": ["CA", "NV", "AZ"],
    "T12 Pacific Northwest": ["WA", "OR", "ID"],
}
REP_NAMES = [
    "Avery Collins",
    "Jordan Patel",
    "Morgan Reyes",
    "Taylor Nguyen",
    "Casey Johnson",
    "Riley Okafor",
    "Quinn Martinez",
    "Jamie Schultz",
    "Drew Kowalski",
    "Skyler Begay",
    "Parker Chen",
    "Rowan Lindqvist",
]
BUSINESS_KINDS = [
    "Dental Group",
    "Family Clinic",
    "Hardware",
    "Auto Parts",
    "Medical Supply",
    "Veterinary Hospital",
    "Pharmacy",
    "Builders Supply",
    "Office Solutions",
    "Farm & Garden",
    "Physical Therapy",
    "Eye Care",
    "Restaurant Supply",
    "Plumbing & Heating",
    "Print Shop",
]
SEGMENTS = {  # share, median revenue (USD), mean visits per year, hours per visit
    "Enterprise": (0.08, 600_000.0, 24.0, 3.0),
    "Mid-Market": (0.27, 120_000.0, 12.0, 2.0),
    "SMB": (0.65, 25_000.0, 4.0, 1.0),
}


def make_sample(places_csv: Path, out_dir: Path, n_accounts: int = N_ACCOUNTS) -> None:
    """Write customers.csv, reps.csv and places_extract.csv to ``out_dir``."""
    rng = np.random.default_rng(SEED)
    state_to_territory = {s: t for t, states in CURRENT_TERRITORIES.items() for s in states}
    places = pd.read_csv(places_csv, dtype={"admin1code": str, "geonameid": "int64"})
    places = places[places["admin1code"].isin(state_to_territory) & (places["population"] > 0)]
    places = places.reset_index(drop=True)

    # Accounts follow population, with a square-root damping so that small towns still
    # get some accounts (a sales force covers rural areas too).
    weight = np.sqrt(places["population"].to_numpy(dtype=float))
    pick = rng.choice(len(places), size=n_accounts, p=weight / weight.sum())
    chosen = places.iloc[pick].reset_index(drop=True)

    # Scatter accounts around the place centre: wider in bigger places.
    radius_km = 1.0 + 2.5 * np.log10(np.maximum(chosen["population"], 1000) / 1000.0)
    r = radius_km * np.sqrt(rng.random(n_accounts))
    theta = rng.random(n_accounts) * 2 * np.pi
    lat = chosen["latitude"] + (r * np.sin(theta)) / 111.0
    lon = chosen["longitude"] + (r * np.cos(theta)) / (
        111.0 * np.cos(np.radians(chosen["latitude"]))
    )
    # About 2 % of accounts sit at the same address as another one (multi-account sites).
    shared = rng.random(n_accounts) < 0.02
    partner = rng.integers(0, n_accounts, size=n_accounts)
    lat = np.where(shared, lat.to_numpy()[partner], lat)
    lon = np.where(shared, lon.to_numpy()[partner], lon)
    same_place = chosen["geonameid"].to_numpy()
    same_place = np.where(shared, same_place[partner], same_place)

    names = list(SEGMENTS)
    shares = np.array([SEGMENTS[s][0] for s in names])
    segment = rng.choice(names, size=n_accounts, p=shares / shares.sum())
    median_rev = np.array([SEGMENTS[s][1] for s in segment])
    mean_visits = np.array([SEGMENTS[s][2] for s in segment])
    hours = np.array([SEGMENTS[s][3] for s in segment])
    revenue = np.round(median_rev * rng.lognormal(0.0, 0.6, n_accounts), -2)
    visits = np.maximum(1, rng.poisson(mean_visits))
    workload = np.round(visits * hours, 1)

    place_by_id = places.set_index("geonameid")
    home_place = place_by_id.loc[same_place]
    kinds = rng.choice(BUSINESS_KINDS, size=n_accounts)
    account_name = [f"{p} {k}" for p, k in zip(home_place["name"], kinds, strict=True)]
    state = home_place["admin1code"].to_numpy()
    territory = [state_to_territory[s] for s in state]
    rep_of = dict(zip(CURRENT_TERRITORIES, REP_NAMES, strict=True))

    customers = pd.DataFrame(
        {
            "account_id": [f"AC{i:05d}" for i in range(1, n_accounts + 1)],
            "name": account_name,
            "city": home_place["name"].to_numpy(),
            "state": state,
            "latitude": np.round(lat, 5),
            "longitude": np.round(lon, 5),
            "annual_revenue": revenue,
            "visits_per_year": visits,
            "segment": segment,
            "workload": workload,
            "current_territory": territory,
            "current_rep": [rep_of[t] for t in territory],
        }
    )
    customers.to_csv(out_dir / "customers.csv", index=False)

    reps = []
    for i, (terr, states) in enumerate(CURRENT_TERRITORIES.items(), start=1):
        in_terr = places[places["admin1code"].isin(states)]
        home = in_terr.loc[in_terr["population"].idxmax()]
        reps.append(
            {
                "rep_id": f"R{i:02d}",
                "name": REP_NAMES[i - 1],
                "home_city": f"{home['name']}, {home['admin1code']}",
                "home_latitude": home["latitude"],
                "home_longitude": home["longitude"],
                "capacity_fte": 0.5 if i == 12 else 1.0,
                "current_territory": terr,
            }
        )
    pd.DataFrame(reps).to_csv(out_dir / "reps.csv", index=False)

    used = places[places["geonameid"].isin(set(same_place))]
    used[["geonameid", "name", "admin1code", "latitude", "longitude", "population"]].to_csv(
        out_dir / "places_extract.csv", index=False
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("places_csv", type=Path, help="GeoNames US places CSV")
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args()
    make_sample(args.places_csv, args.out)


if __name__ == "__main__":
    main()
