"""CRM export: a plan (or a multi-layer plan) as files a CRM can import.

Two formats:

- ``"generic"``: ``accounts.csv`` (account id -> layer -> territory -> rep -> regions) and
  ``territories.csv`` (the territory tree with reps and managers), for any CRM's importer;
- ``"salesforce"``: Data Loader CSVs for Enterprise Territory Management (Sales
  Territories): ``Territory2.csv``, ``ObjectTerritory2Association.csv`` and
  ``UserTerritory2Association.csv``, with valid, unique ``DeveloperName`` values.

Every account appears exactly once per layer, and the folder is written next to its target
and renamed into place, so a failed export leaves nothing half-written.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from geoterr._errors import InputError, format_ids

__all__ = [
    "SALESFORCE_COLUMNS",
    "developer_name",
    "export_plan",
    "territory_tree",
    "valid_developer_name",
]

SALESFORCE_COLUMNS = {
    "Territory2": (
        "Name",
        "DeveloperName",
        "Territory2ModelId",
        "Territory2TypeId",
        "ParentTerritory2Id",
        "Description",
    ),
    "ObjectTerritory2Association": ("ObjectId", "Territory2Id", "AssociationCause"),
    "UserTerritory2Association": ("UserId", "Territory2Id", "RoleInTerritory2"),
}
MAX_DEVELOPER_NAME = 80
MAX_NAME = 80
_VALID = re.compile(r"^[A-Za-z](?:[A-Za-z0-9]|_(?!_))*(?<!_)$")
MARKER = "export.json"


def valid_developer_name(name: str) -> bool:
    """Tell whether ``name`` keeps Salesforce's API-name rules.

    Letters, digits and underscores, starting with a letter, no trailing or double underscore, at
    most 80 characters.

    Examples
    --------
    >>> valid_developer_name("West_Region"), valid_developer_name("West__Region")
    (True, False)
    """
    return len(name) <= MAX_DEVELOPER_NAME and bool(_VALID.match(name))


def developer_name(text: str, taken: set[str] | None = None) -> str:
    """Return a valid, unique ``DeveloperName`` made from ``text``.

    Anything but ASCII letters and digits becomes one underscore, a leading digit gets a
    ``T_`` prefix, and a name already in ``taken`` gets ``_2``, ``_3``... (``taken`` is
    updated).

    Examples
    --------
    >>> developer_name("T01 New England / Boston & Co.")
    'T01_New_England_Boston_Co'
    >>> developer_name("2nd territory")
    'T_2nd_territory'
    """
    base = re.sub(r"[^A-Za-z0-9]+", "_", str(text)).strip("_")
    if not base:
        base = "Territory"
    if not base[0].isalpha():
        base = f"T_{base}"
    base = base[:MAX_DEVELOPER_NAME].rstrip("_")
    name = base
    if taken is not None:
        n = 2
        while name.lower() in taken:
            suffix = f"_{n}"
            name = base[: MAX_DEVELOPER_NAME - len(suffix)].rstrip("_") + suffix
            n += 1
        taken.add(name.lower())
    return name


def _layers(plan: Any) -> list[tuple[str | None, Any]]:
    layers = getattr(plan, "layers", None)
    if layers is None:
        return [(None, plan)]
    return list(layers.items())


def territory_tree(plan: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return the territory tree and the accounts of a plan or multi-layer plan.

    Returns
    -------
    nodes : DataFrame
        One row per node (layer, region of any level, territory), parents before children:
        ``key``, ``name``, ``kind``, ``layer``, ``parent`` (key), ``rep``, ``rep_name``,
        ``manager``, ``developer_name`` (valid and unique).
    accounts : DataFrame
        One row per account and layer: ``account`` (the plan's customer id), ``layer``,
        ``territory`` (node key) and the customer columns.
    """
    nodes: list[dict[str, Any]] = []
    account_tables = []
    layered = getattr(plan, "layers", None) is not None
    for layer, sub in _layers(plan):
        prefix = f"{layer}/" if layer is not None else ""
        top_key = None
        if layered:
            top_key = f"{layer}/"
            nodes.append({"key": top_key, "name": str(layer), "kind": "layer", "layer": layer})
        regions = sub.regions
        levels = [lv["level"] for lv in sub.params.get("levels", [])]
        if regions is not None and len(regions):
            for level in reversed(levels):
                for name, row in regions[regions["level"] == level].iterrows():
                    parent = row["parent"]
                    nodes.append(
                        {
                            "key": f"{prefix}{level}:{name}",
                            "name": str(name),
                            "kind": level,
                            "layer": layer,
                            "parent": top_key
                            if pd.isna(parent)
                            else _region_key(prefix, regions, parent),
                            "manager": row.get("manager"),
                        }
                    )
        low = levels[0] if levels else None
        for name, row in sub.territories.iterrows():
            nodes.append(
                {
                    "key": f"{prefix}{name}",
                    "name": str(name),
                    "kind": "territory",
                    "layer": layer,
                    "parent": f"{prefix}{low}:{row[low]}" if low else top_key,
                    "rep": row.get("rep"),
                    "rep_name": row.get("rep_name"),
                }
            )
        if sub.customers is not None:
            table = pd.DataFrame(sub.customers.drop(columns=sub.customers.geometry.name))
            table = table.reset_index().rename(columns={table.index.name or "index": "account"})
            table.insert(1, "layer", layer)
            table["territory_key"] = prefix + table["territory"].astype(str)
            account_tables.append(table)
    key_accounts = getattr(plan, "key_accounts", None)
    if key_accounts is not None and len(key_accounts):
        nodes.append({"key": "key accounts/", "name": "Key accounts", "kind": "layer"})
        for rep_name, rows in key_accounts.groupby("rep_name", sort=True):
            key = f"key accounts/{rep_name}"
            nodes.append(
                {
                    "key": key,
                    "name": f"Key accounts {rep_name}",
                    "kind": "territory",
                    "layer": "Key accounts",
                    "parent": "key accounts/",
                    "rep": rows["rep"].iloc[0],
                    "rep_name": rep_name,
                }
            )
        table = pd.DataFrame(key_accounts.drop(columns="geometry", errors="ignore"))
        table = table.reset_index().rename(columns={table.index.name or "index": "account"})
        table.insert(1, "layer", "Key accounts")
        table["territory_key"] = "key accounts/" + table["rep_name"].astype(str)
        account_tables.append(table)
    frame = pd.DataFrame(nodes)
    for column in ("parent", "rep", "rep_name", "manager", "layer"):
        if column not in frame.columns:
            frame[column] = None
    taken: set[str] = set()
    frame["developer_name"] = [
        developer_name(
            f"{row.layer}_{row['name']}" if row.kind != "layer" and layered else row["name"], taken
        )
        for _, row in frame.iterrows()
    ]
    accounts = pd.concat(account_tables, ignore_index=True) if account_tables else pd.DataFrame()
    return frame, accounts


def _region_key(prefix: str, regions: pd.DataFrame, name: Any) -> str:
    return f"{prefix}{regions.loc[name, 'level']}:{name}"


def _write_atomically(
    target: Path, files: Mapping[str, pd.DataFrame], meta: dict[str, Any], *, overwrite: bool
) -> None:
    """Write the export in a work folder next to ``target`` and swap it into place."""
    from geoterr import __version__
    from geoterr.io.csv_safety import write_csv
    from geoterr.io.folders import write_folder

    def fill(work: Path) -> None:
        for name, table in files.items():
            write_csv(table, work / name, index=False)
        stamped = {"geoterr_version": __version__, **meta}
        (work / MARKER).write_text(json.dumps(stamped, indent=2, default=str), encoding="utf-8")

    write_folder(target, fill, overwrite=overwrite, name="out")


def _column(accounts: pd.DataFrame, column: str | None, what: str, option: str) -> pd.Series:
    if column is None:
        return accounts["account"].astype(str)
    if column not in accounts.columns:
        msg = (
            f"`{option}` {column!r} is not a customers column; give the column holding the "
            f"{what} (columns: {format_ids(map(str, accounts.columns), 30)})."
        )
        raise InputError(msg)
    return accounts[column]


def _check_accounts(accounts: pd.DataFrame, object_ids: pd.Series, option: str) -> None:
    problems = []
    empty = object_ids.isna() | (object_ids.astype(str).str.strip() == "")
    if empty.any():
        problems.append(
            f"{int(empty.sum())} accounts have no id in {option} (accounts "
            f"{format_ids(accounts.loc[empty, 'account'])}); fill it or drop them"
        )
    dup = accounts.assign(_id=object_ids.astype(str))[["layer", "_id"]].duplicated(keep=False)
    if dup.any():
        problems.append(
            f"{int(dup.sum())} rows repeat an account id within a layer (ids "
            f"{format_ids(object_ids[dup].astype(str).unique())}); every account must be "
            "associated once per layer"
        )
    if problems:
        raise InputError("The export cannot be written: " + "; ".join(problems) + ".")


def _resolve(values: Iterable[Any], ids: Mapping[str, str] | None) -> list[Any]:
    values = list(values)
    if ids is None:
        return values
    missing = sorted({v for v in values if isinstance(v, str) and v and v not in ids})
    if missing:
        msg = (
            f"`territory_ids` has no Id for DeveloperName {format_ids(missing)}; export "
            "Id and DeveloperName of every Territory2 of the model after loading Territory2.csv."
        )
        raise InputError(msg)
    return [ids.get(v, v) if isinstance(v, str) else v for v in values]


def _territory_ids(source: Any) -> dict[str, str] | None:
    if source is None:
        return None
    table = pd.read_csv(source, dtype=str) if isinstance(source, str | os.PathLike) else source
    table = pd.DataFrame(table)
    lower = {str(c).lower(): c for c in table.columns}
    if "id" not in lower or "developername" not in lower:
        msg = "`territory_ids` needs columns Id and DeveloperName (a Territory2 export)."
        raise InputError(msg)
    return dict(zip(table[lower["developername"]], table[lower["id"]], strict=True))


def _salesforce_files(
    nodes: pd.DataFrame,
    accounts: pd.DataFrame,
    object_ids: pd.Series,
    user_ids: Mapping[str, Any],
    *,
    model_id: str | None,
    type_id: str | None,
    role: str,
    ids: Mapping[str, str] | None,
) -> dict[str, pd.DataFrame]:
    dev = dict(zip(nodes["key"], nodes["developer_name"], strict=True))
    parent_dev = [dev.get(p) if isinstance(p, str) else None for p in nodes["parent"]]
    territory2 = pd.DataFrame(
        {
            "Name": nodes["name"].astype(str).str.slice(0, MAX_NAME),
            "DeveloperName": nodes["developer_name"],
            "Territory2ModelId": model_id or "",
            "Territory2TypeId": type_id or "",
            "ParentTerritory2Id": _resolve(parent_dev, ids),
            "Description": [
                f"{kind} {name}" + (f" (rep {r})" if isinstance(r, str) and r else "")
                for kind, name, r in zip(
                    nodes["kind"], nodes["name"], nodes["rep_name"], strict=True
                )
            ],
        }
    )
    if ids is not None:
        territory2.insert(0, "Id", _resolve(territory2["DeveloperName"], ids))
    objects = pd.DataFrame(
        {
            "ObjectId": object_ids.astype(str).to_numpy(),
            "Territory2Id": _resolve(accounts["territory_key"].map(dev), ids),
            "AssociationCause": "Territory2Manual",
        }
    )
    terr = nodes[(nodes["kind"] == "territory") & nodes["rep"].notna()]
    users = pd.DataFrame(
        {
            "UserId": [user_ids.get(str(r), r) for r in terr["rep"]],
            "Territory2Id": _resolve(terr["developer_name"], ids),
            "RoleInTerritory2": role,
        }
    )
    return {
        "Territory2.csv": territory2,
        "ObjectTerritory2Association.csv": objects,
        "UserTerritory2Association.csv": users,
    }


def _user_ids(plan: Any, user_column: str | None) -> dict[str, Any]:
    """Rep id -> CRM user id, from a roster column (every layer's roster)."""
    if user_column is None:
        return {}
    out: dict[str, Any] = {}
    rosters = [sub.roster for _, sub in _layers(plan) if sub.roster is not None]
    extra = getattr(plan, "key_account_reps", None)
    if extra is not None:
        rosters.append(extra)
    if not rosters or not all(user_column in r.columns for r in rosters):
        msg = (
            f"`user_column` {user_column!r} is not a column of the plan's rep roster; add it "
            "to the reps file (e.g. salesforce_user_id) before assigning the reps."
        )
        raise InputError(msg)
    for roster in rosters:
        for rep, user in zip(roster["rep"], roster[user_column], strict=True):
            if isinstance(rep, str) and pd.notna(user):
                out[rep] = user
    return out


def export_plan(  # noqa: PLR0913 (public API: every option is a documented keyword)
    plan: Any,
    out: str | os.PathLike[str],
    *,
    format: str = "generic",  # noqa: A002 (public keyword: the CRM's file format)
    account_column: str | None = None,
    user_column: str | None = None,
    territory2_model_id: str | None = None,
    territory2_type_id: str | None = None,
    role: str = "Owner",
    territory_ids: Any = None,
    overwrite: bool = False,
) -> Path:
    """Write a plan's territories, accounts and reps as CRM import files.

    Parameters
    ----------
    plan : Plan or LayeredPlan
    out : path-like
        Folder to write (replaced if it is an earlier export; any other non-empty folder
        is refused).
    format : {"generic", "salesforce"}
    account_column : str, optional
        Customers column with the CRM's account id (e.g. the Salesforce Account Id); default
        the plan's customer id.
    user_column : str, optional
        Roster column with the CRM's user id of each rep (e.g. ``salesforce_user_id``);
        default the rep id.
    territory2_model_id, territory2_type_id : str, optional
        Salesforce: the Territory2Model and Territory2Type record ids for every Territory2.
    role : str
        Salesforce: ``RoleInTerritory2`` of each rep.
    territory_ids : path or DataFrame, optional
        Salesforce, second pass: ``Id`` and ``DeveloperName`` of the Territory2 records once
        loaded; references (``ParentTerritory2Id``, ``Territory2Id``) are then written as
        record Ids (and ``Territory2.csv`` gains ``Id``, for an update of the parents).
    overwrite : bool
        Replace an earlier export in ``out`` (a folder holding other files is refused).

    Returns
    -------
    Path
        The folder written.

    Examples
    --------
    >>> import geoterr as gt, tempfile
    >>> units = gt.build_units(gt.read_customers(gt.sample_path()), measures=["workload"])
    >>> plan = gt.design_for_reps(units, gt.sample_path("reps.csv"), balance={"workload": 0.05})
    >>> folder = gt.export_plan(plan, tempfile.mkdtemp() + "/sf", format="salesforce")
    >>> sorted(p.name for p in folder.glob("*.csv"))  # doctest: +NORMALIZE_WHITESPACE
    ['ObjectTerritory2Association.csv', 'Territory2.csv', 'UserTerritory2Association.csv']
    """
    if format not in ("generic", "salesforce"):
        msg = f"`format` must be 'generic' or 'salesforce', got {format!r}."
        raise InputError(msg)
    from geoterr.io.folders import check_target

    target = check_target(out, overwrite=overwrite, name="out")
    nodes, accounts = territory_tree(plan)
    if accounts.empty:
        msg = "the plan has no customers to export (a plan built from units only)."
        raise InputError(msg)
    option = "account_column"
    object_ids = _column(accounts, account_column, "CRM account id", option)
    _check_accounts(accounts, object_ids, account_column or "the customer id")
    users = _user_ids(plan, user_column)
    meta = {
        "format": format,
        "accounts": len(accounts),
        "territories": int((nodes["kind"] == "territory").sum()),
    }
    if format == "salesforce":
        files = _salesforce_files(
            nodes,
            accounts,
            object_ids,
            users,
            model_id=territory2_model_id,
            type_id=territory2_type_id,
            role=role,
            ids=_territory_ids(territory_ids),
        )
    else:
        files = _generic_files(nodes, accounts, object_ids, users)
    _write_atomically(target, files, meta, overwrite=overwrite)
    return target


def _generic_files(
    nodes: pd.DataFrame, accounts: pd.DataFrame, object_ids: pd.Series, users: Mapping[str, Any]
) -> dict[str, pd.DataFrame]:
    by_key = nodes.set_index("key")
    chain_cols: list[str] = []
    chains = []
    for key in accounts["territory_key"]:
        chain: dict[str, Any] = {}
        parent = by_key.loc[key, "parent"]
        while isinstance(parent, str) and by_key.loc[parent, "kind"] != "layer":
            chain[str(by_key.loc[parent, "kind"])] = by_key.loc[parent, "name"]
            parent = by_key.loc[parent, "parent"]
        chains.append(chain)
        chain_cols += [c for c in chain if c not in chain_cols]
    table = pd.DataFrame(
        {
            "account_id": object_ids.astype(str).to_numpy(),
            "layer": accounts["layer"].to_numpy(),
            "territory": accounts["territory_key"].map(by_key["name"]).to_numpy(),
            "rep": accounts["territory_key"].map(by_key["rep"]).to_numpy(),
            "rep_name": accounts["territory_key"].map(by_key["rep_name"]).to_numpy(),
        }
    )
    for column in chain_cols:
        table[column] = [c.get(column) for c in chains]
    table["user_id"] = [users.get(str(r), r) if isinstance(r, str) else None for r in table["rep"]]
    if table["layer"].isna().all():
        table = table.drop(columns="layer")
    tree = nodes[["developer_name", "name", "kind", "layer", "rep", "rep_name", "manager"]].copy()
    tree.insert(
        1,
        "parent",
        nodes["parent"].map(dict(zip(nodes["key"], nodes["developer_name"], strict=True))),
    )
    tree = tree.rename(columns={"developer_name": "code"})
    return {"accounts.csv": table, "territories.csv": tree}
