"""Fuzzing ``load_plan``: random bytes and mutated plan files raise only geoterr's own errors,
and what loads can be mapped.

A plan folder a colleague sends may hold anything. Whatever ``load_plan`` is given, it returns
a plan or raises a :class:`geoterr.GeoterrError` (an :class:`InputError` naming the file):
never a ``JSONDecodeError``, ``KeyError``, ``UnicodeDecodeError`` or a GDAL error, and never
hangs.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import make_customers
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import geoterr as gt

FILES = ("plan.json", "assignments.csv", "territories.geojson", "summary.csv")
SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def original() -> Iterator[dict[str, bytes]]:
    """The files of a small saved plan (a realignment, so every column kind is there)."""
    df = make_customers(24, seed=8)
    df["current"] = ["East" if x > -98 else "West" for x in df["longitude"]]
    units = gt.build_units(gt.read_customers(df, measures=["workload"]), measures=["workload"])
    plan = gt.design(units, 2, balance={"workload": 0.2}, current="current")
    with tempfile.TemporaryDirectory() as tmp:
        folder = plan.save(Path(tmp) / "plan", map=False)
        yield {name: (folder / name).read_bytes() for name in FILES}


def _load(files: dict[str, bytes]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "plan"
        folder.mkdir()
        for name, data in files.items():
            (folder / name).write_bytes(data)
        try:
            plan = gt.load_plan(folder)
        except gt.GeoterrError as exc:
            assert str(exc)  # a message, naming the folder or file
            assert str(folder) in str(exc)
            return
        # What loads can be used as `geoterr map PLAN` uses it.
        with contextlib.suppress(gt.GeoterrError):
            gt.plan_map(plan).get_root().render()


def test_the_unspoilt_files_load(original: dict[str, bytes]) -> None:
    _load(original)
    with tempfile.TemporaryDirectory() as tmp:
        for name, data in original.items():
            (Path(tmp) / name).write_bytes(data)
        assert gt.load_plan(tmp).status in ("feasible", "violated")


@pytest.mark.slow
@SETTINGS
@given(name=st.sampled_from(FILES), data=st.binary(max_size=2000))
def test_random_bytes(original: dict[str, bytes], name: str, data: bytes) -> None:
    _load({**original, name: data})


@st.composite
def _mutation(draw: st.DrawFn, original: bytes) -> bytes:
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "cut", "insert", "delete", "duplicate"]))
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if kind == "flip" and data:
            data[at] = draw(st.integers(0, 255))
        elif kind == "cut":
            del data[at:]
        elif kind == "insert":
            data[at:at] = draw(
                st.sampled_from(
                    [b"NaN", b"1e999", b"-", b",", b'"', b"\n", b"\x00", b"\xff", b"{", b"]"]
                )
            )
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 40))]
        else:
            data[at:at] = data[at : at + draw(st.integers(1, 200))]
    return bytes(data)


@pytest.mark.slow
@SETTINGS
@given(name=st.sampled_from(FILES), seed=st.data())
def test_mutated_files(original: dict[str, bytes], name: str, seed: st.DataObject) -> None:
    _load({**original, name: seed.draw(_mutation(original[name]))})


_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=10,
)


def _paths(value: Any, here: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield here
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*here, key))
    elif isinstance(value, list):
        for i, item in enumerate(value[:3]):
            yield from _paths(item, (*here, i))


@pytest.mark.slow
@SETTINGS
@given(name=st.sampled_from(["plan.json", "territories.geojson"]), seed=st.data())
def test_json_values_replaced(original: dict[str, bytes], name: str, seed: st.DataObject) -> None:
    value = json.loads(original[name])
    path = seed.draw(st.sampled_from(list(_paths(value))[1:]))
    new = seed.draw(_JSON | st.just("DELETE"))
    parent = value
    for key in path[:-1]:
        parent = parent[key]
    if new == "DELETE":
        del parent[path[-1]]
    else:
        parent[path[-1]] = new
    _load({**original, name: json.dumps(value).encode()})


def test_files_missing_or_swapped(original: dict[str, bytes]) -> None:
    for name in FILES:
        _load({k: v for k, v in original.items() if k != name})
        for other in FILES:
            _load({**original, name: original[other]})
