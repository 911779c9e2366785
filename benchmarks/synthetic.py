"""Synthetic territory instances with a fixed seed: clustered customers, lognormal workload.

    from synthetic import synthetic_customers, synthetic_units
    units = synthetic_units(5000, seed=1)       # 5,000 Voronoi units

Customers are drawn in a 600 km x 600 km square in the US Midwest: 70 % around 40 towns of
very different sizes (a few big cities, many small towns), 30 % spread evenly (rural
accounts). Each customer's ``workload`` (hours a year) is lognormal (median 20 h, sigma 0.8)
and ``revenue`` is correlated with it. The same ``(n, seed)`` always gives the same instance.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyproj

import geoterr as gt

# Local equal-area projection centred in Iowa; customers are drawn in metres around it.
ORIGIN = (-93.5, 42.0)
HALF_WIDTH_M = 300_000.0


def synthetic_customers(n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` customers (id, latitude, longitude, workload, revenue), reproducible by ``seed``."""
    rng = np.random.default_rng(seed)
    n_towns = 40
    towns = rng.uniform(-0.85, 0.85, size=(n_towns, 2)) * HALF_WIDTH_M
    size = rng.pareto(1.2, n_towns) + 1.0  # a few big cities, many small towns
    spread = 4_000.0 + 6_000.0 * np.sqrt(size)  # bigger towns sprawl further
    clustered = round(0.7 * n)
    town = rng.choice(n_towns, size=clustered, p=size / size.sum())
    xy_town = towns[town] + rng.normal(size=(clustered, 2)) * spread[town, None]
    xy_rural = rng.uniform(-1, 1, size=(n - clustered, 2)) * HALF_WIDTH_M
    xy = np.clip(np.vstack([xy_town, xy_rural]), -HALF_WIDTH_M, HALF_WIDTH_M)
    laea = pyproj.CRS.from_proj4(f"+proj=laea +lon_0={ORIGIN[0]} +lat_0={ORIGIN[1]} +units=m")
    to_deg = pyproj.Transformer.from_crs(laea, 4326, always_xy=True)
    lon, lat = to_deg.transform(xy[:, 0], xy[:, 1])
    workload = np.round(rng.lognormal(np.log(20.0), 0.8, size=n), 2)
    revenue = np.round(workload * rng.lognormal(np.log(900.0), 0.5, size=n), 0)
    order = rng.permutation(n)
    return pd.DataFrame(
        {
            "account_id": [f"C{i:07d}" for i in range(n)],
            "latitude": np.round(lat[order], 6),
            "longitude": np.round(lon[order], 6),
            "workload": workload,
            "revenue": revenue,
        }
    )


def synthetic_units(n: int, seed: int = 0, method: str = "voronoi") -> gt.Units:
    """Voronoi (or point) units of :func:`synthetic_customers`: one unit per customer."""
    customers = gt.read_customers(synthetic_customers(n, seed))
    return gt.build_units(customers, method, measures=["workload", "revenue"])  # type: ignore[arg-type]
