"""Key accounts: named customers held out of the geographic design and given to named reps.

:func:`key_account_ids` reads which customers are key accounts (a list of ids or a column that
marks them); :func:`key_account_table` gives each its rep and its territory (one per rep,
``"Key accounts <rep>"``). :func:`geoterr.design_layers` uses both.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import pandas as pd

from geoterr._errors import InputError, format_ids

__all__ = ["KEY_ACCOUNTS", "key_account_ids", "key_account_table"]

KEY_ACCOUNTS = "Key accounts"


def key_account_ids(customers: gpd.GeoDataFrame, key_accounts: Any) -> pd.Index:
    """Return the held-out accounts: a list of ids, or a customers column (true / non-empty)."""
    if key_accounts is None:
        return pd.Index([])
    if isinstance(key_accounts, str) and key_accounts in customers.columns:
        flag = customers[key_accounts]
        if pd.api.types.is_bool_dtype(flag):
            chosen = flag.fillna(False).astype(bool)
        else:
            text = flag.astype("string").str.strip().str.lower()
            chosen = flag.notna() & ~text.isin(["", "0", "false", "no", "n"]).fillna(True)
        picked: pd.Index = customers.index[chosen.to_numpy(dtype=bool)]
        return picked
    if isinstance(key_accounts, str):
        msg = (
            f"`key_accounts` {key_accounts!r} is not a customers column; give a column that "
            "marks the key accounts or a list of their ids."
        )
        raise InputError(msg)
    ids = list(key_accounts)
    index_as_text = pd.Index(customers.index.astype(str))
    known = set(index_as_text)
    missing = [i for i in ids if str(i) not in known]
    if missing:
        msg = (
            f"`key_accounts` lists {len(missing)} accounts that are not in the customer file "
            f"({format_ids(missing)}); check the ids against the {customers.index.name!r} column."
        )
        raise InputError(msg)
    listed: pd.Index = customers.index[index_as_text.isin([str(i) for i in ids])]
    return listed


def key_account_table(
    customers: gpd.GeoDataFrame, ids: pd.Index, key_account_reps: Any, reps: pd.DataFrame | None
) -> gpd.GeoDataFrame:
    """Return the key accounts ``ids`` with their ``rep``, ``rep_name`` and ``territory``.

    ``key_account_reps`` names each account's rep: a mapping account id -> rep or a customers
    column. With ``reps`` (a roster indexed by rep id, with ``name``) a rep may be given by id
    or by name. Each rep's key accounts make one territory, ``"Key accounts <rep name>"``.

    Raises
    ------
    InputError
        When ``key_account_reps`` is missing or names no rep (or an unknown one) for some
        accounts, with their ids.
    """
    table = customers.loc[ids].copy()
    if isinstance(key_account_reps, str):
        if key_account_reps not in customers.columns:
            msg = f"`key_account_reps` {key_account_reps!r} is not a customers column."
            raise InputError(msg)
        given = table[key_account_reps]
    elif isinstance(key_account_reps, Mapping):
        lookup = {str(k): v for k, v in key_account_reps.items()}
        given = pd.Series([lookup.get(str(i)) for i in table.index], index=table.index)
    else:
        msg = (
            "`key_account_reps` is needed with `key_accounts`: a mapping account id -> rep, "
            "or a customers column naming each key account's rep."
        )
        raise InputError(msg)
    missing = given.isna() | (given.astype(str).str.strip() == "")
    if missing.any():
        msg = (
            f"{int(missing.sum())} key accounts have no rep ({format_ids(table.index[missing])}); "
            "name a rep for every key account in `key_account_reps`."
        )
        raise InputError(msg)
    rep_ids = given.astype(str).str.strip()
    names = rep_ids.copy()
    if reps is not None:
        by_name = {str(n): str(r) for r, n in reps["name"].items()}
        known = set(reps.index.astype(str))
        rep_ids = rep_ids.map(lambda v: v if v in known else by_name.get(v))
        unknown = rep_ids.isna()
        if unknown.any():
            msg = (
                f"`key_account_reps` names reps not in `reps` for accounts "
                f"{format_ids(table.index[unknown])} ({format_ids(given[unknown].unique())}); "
                "use the reps' ids or names."
            )
            raise InputError(msg)
        names = rep_ids.map(reps["name"].astype(str).to_dict())
    table["rep"] = rep_ids.to_numpy()
    table["rep_name"] = names.to_numpy()
    table["territory"] = (KEY_ACCOUNTS + " " + table["rep_name"].astype(str)).to_numpy()
    return table
