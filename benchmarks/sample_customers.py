"""Customers drawn around the sample's places, as in issue 11 case 1 (the 100,000-customer run).

A place of ``data/places_extract.csv`` is picked with probability proportional to the square
root of its population; the customer lies around it (normal scatter, 0.05 degree standard
deviation). Segments key/standard/small with shares 8/27/65 %; workload is (Poisson visits + 1)
times hours, with mean visits 24/8/2 and hours 3/2/1 per segment.

    python benchmarks/sample_customers.py OUT.csv [--n 100000] [--seed 0]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

PLACES = Path(__file__).resolve().parent.parent / "data" / "places_extract.csv"
SEGMENTS = ("key", "standard", "small")
SHARES = (0.08, 0.27, 0.65)
VISITS = np.array([24.0, 8.0, 2.0])
HOURS = np.array([3.0, 2.0, 1.0])


def sample_customers(n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` customers around the sample's places: id, latitude, longitude, segment, workload."""
    rng = np.random.default_rng(seed)
    places = pd.read_csv(PLACES, usecols=["latitude", "longitude", "population"])
    weight = np.sqrt(places["population"].clip(lower=1).to_numpy(dtype=float))
    pick = rng.choice(len(places), size=n, p=weight / weight.sum())
    lat = places["latitude"].to_numpy()[pick] + rng.normal(0, 0.05, n)
    lon = places["longitude"].to_numpy()[pick] + rng.normal(0, 0.05, n)
    segment = rng.choice(3, size=n, p=SHARES)
    workload = (rng.poisson(VISITS[segment]) + 1) * HOURS[segment]
    return pd.DataFrame(
        {
            "customer_id": [f"C{i:06d}" for i in range(n)],
            "latitude": np.round(lat, 6),
            "longitude": np.round(lon, 6),
            "segment": np.array(SEGMENTS)[segment],
            "workload": workload,
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    sample_customers(args.n, args.seed).to_csv(args.out, index=False)


if __name__ == "__main__":
    main()
