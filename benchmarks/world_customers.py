"""Synthetic customers drawn around real places, for scale benchmarks.

Customers are drawn around the GeoNames places of ``world_places_geonames.csv.gz`` (or any
file with latitude, longitude and population columns): a place is picked with probability
proportional to the square root of its population, and the customer lies a few kilometres
from it (normal scatter, 5 km standard deviation). Workload is lognormal, revenue follows it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

EARTH_KM_PER_DEGREE = 111.32


def world_customers(places_path: str, n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` synthetic customers around the places in ``places_path``.

    Returns
    -------
    DataFrame
        customer_id, latitude, longitude, workload, annual_revenue, segment.
    """
    rng = np.random.default_rng(seed)
    places = pd.read_csv(places_path, usecols=["latitude", "longitude", "population"])
    weight = np.sqrt(places["population"].clip(lower=1).to_numpy(dtype=float))
    pick = rng.choice(len(places), size=n, p=weight / weight.sum())
    lat0 = places["latitude"].to_numpy()[pick]
    lon0 = places["longitude"].to_numpy()[pick]
    dlat = rng.normal(0, 5.0, n) / EARTH_KM_PER_DEGREE
    km_per_lon_degree = EARTH_KM_PER_DEGREE * np.maximum(np.cos(np.radians(lat0)), 0.05)
    dlon = rng.normal(0, 5.0, n) / km_per_lon_degree
    lat = np.clip(lat0 + dlat, -89.9, 89.9)
    lon = (lon0 + dlon + 180.0) % 360.0 - 180.0
    workload = np.round(rng.lognormal(mean=1.0, sigma=0.6, size=n), 2)
    revenue = np.round(workload * rng.lognormal(mean=8.0, sigma=0.5, size=n), 0)
    return pd.DataFrame(
        {
            "customer_id": [f"W{i:07d}" for i in range(n)],
            "latitude": np.round(lat, 6),
            "longitude": np.round(lon, 6),
            "workload": workload,
            "annual_revenue": revenue,
            "segment": rng.choice(["key", "standard", "small"], size=n, p=[0.1, 0.5, 0.4]),
        }
    )
