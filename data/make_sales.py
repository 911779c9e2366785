"""Simulate two years of sales records for the sample customers (data/customers.csv).

Writes ``sales.csv`` (one row per invoice: invoice_id, account_id, date, amount, units,
currency, satisfaction) and ``potential.csv`` (account_id, potential: yearly revenue each account
could bring). Everything is simulated with a fixed seed: no real company, sale or customer is
behind it.

What the simulation builds in, so that tracking has something to find:

- orders per account and year by segment (Poisson: Enterprise 12, Mid-Market 6, SMB 3), the
  yearly amount around the account's ``annual_revenue``;
- seasonality: a peak in November-December and at quarter ends, a dip in summer;
- 4 % growth a year everywhere, except two current territories that fall behind from the
  middle of the first year (T06 Gulf & Tennessee loses about 3 % a month, T12 Pacific
  Northwest about 3.5 %), with lower satisfaction scores there;
- about 0.6 % credit notes (returns, negative amounts) and satisfaction scores (1-5) on about
  12 % of invoices.

Run from the repository root: ``python data/make_sales.py`` (same files every time).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20261201
HERE = Path(__file__).resolve().parent
START, MONTHS = pd.Timestamp("2024-01-01"), 24
ORDERS = {"Enterprise": 12, "Mid-Market": 6, "SMB": 3}
PRICE = {"Enterprise": 900.0, "Mid-Market": 400.0, "SMB": 150.0}
FALLING = {"T06 Gulf & Tennessee": 0.03, "T12 Pacific Northwest": 0.035}
FALL_FROM = 6  # month index (0 = January of the first year) where the decline starts


def seasonality(month_of_year: np.ndarray) -> np.ndarray:
    """Relative sales by calendar month (1-12), mean 1."""
    wave = 1 + 0.22 * np.cos(2 * np.pi * (month_of_year - 11.5) / 12)
    quarter_end = np.where(month_of_year % 3 == 0, 1.12, 0.94)
    factor = wave * quarter_end
    return factor / factor.mean()


def simulate(customers: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """One row per invoice over the 24 months."""
    month_index = np.arange(MONTHS)
    season = seasonality((month_index % 12) + 1)
    rows = []
    for account in customers.itertuples(index=False):
        per_year = ORDERS[account.segment]
        trend = 1.04 ** (month_index / 12)
        decline = FALLING.get(account.current_territory)
        if decline:
            trend = trend * (1 - decline) ** np.clip(month_index - FALL_FROM, 0, None)
        counts = rng.poisson(per_year / 12 * season)
        for month in np.flatnonzero(counts):
            for _ in range(counts[month]):
                day = int(rng.integers(0, 28))
                size = account.annual_revenue / per_year * trend[month] * rng.lognormal(0, 0.2)
                rows.append((account.account_id, int(month), day, size, account.segment, decline))
    table = pd.DataFrame(rows, columns=["account_id", "month", "day", "amount", "segment", "fall"])
    table["date"] = [
        (START + pd.DateOffset(months=m) + pd.Timedelta(days=d)).strftime("%Y-%m-%d")
        for m, d in zip(table["month"], table["day"], strict=True)
    ]
    credit = rng.random(len(table)) < 0.006
    table.loc[credit, "amount"] = -table.loc[credit, "amount"] * rng.uniform(0.1, 0.6, credit.sum())
    table["amount"] = table["amount"].round(2)
    price = table["segment"].map(PRICE)
    table["units"] = np.maximum(1, np.round(table["amount"].abs() / price)).astype(int)
    table.loc[credit, "units"] = -table.loc[credit, "units"]
    surveyed = rng.random(len(table)) < 0.12
    mean_score = np.where(table["fall"].notna(), 3.1, 4.1)
    scores = np.clip(np.round(rng.normal(mean_score, 0.8)), 1, 5)
    table["satisfaction"] = np.where(surveyed, scores, np.nan)
    table = table.sort_values(["date", "account_id"], kind="stable").reset_index(drop=True)
    table.insert(0, "invoice_id", [f"INV{i + 1:06d}" for i in range(len(table))])
    table["currency"] = "USD"
    columns = ["invoice_id", "account_id", "date", "amount", "units", "currency", "satisfaction"]
    return table[columns]


def main() -> None:
    rng = np.random.default_rng(SEED)
    customers = pd.read_csv(HERE / "customers.csv")
    sales = simulate(customers, rng)
    sales.to_csv(HERE / "sales.csv", index=False, float_format="%.2f")
    potential = customers[["account_id"]].assign(
        potential=(customers["annual_revenue"] * rng.uniform(1.2, 2.5, len(customers))).round(-2)
    )
    potential.to_csv(HERE / "potential.csv", index=False)
    print(f"{len(sales)} invoices, {len(potential)} accounts written to {HERE}")


if __name__ == "__main__":
    main()
