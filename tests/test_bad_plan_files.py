"""Bad-input corpus: plan folders, save targets and the command line's save options.

Each case gets its own error (an InputError through the API, exit code 1 and one
``geoterr: error`` paragraph on the command line) naming the file or option and the fix, and
nothing is written or changed. docs/bad_plan_files.md lists the cases and what the user sees.
"""

from __future__ import annotations

import http.server
import json
import os
import shutil
import threading
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import ClassVar

import geopandas as gpd
import pytest
from conftest import make_customers

import geoterr as gt
from geoterr import cli


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small plan folder (with its map), saved once for the module."""
    customers = gt.read_customers(make_customers(40, seed=3), measures=["workload"])
    units = gt.build_units(customers, measures=["workload"])
    plan = gt.design(units, 3, balance={"workload": 0.1})
    return Path(plan.save(tmp_path_factory.mktemp("saved") / "plan"))


@pytest.fixture
def folder(saved: Path, tmp_path: Path) -> Path:
    """A fresh copy of the saved plan folder to spoil."""
    return Path(shutil.copytree(saved, tmp_path / "plan"))


def _json_edit(name: str, edit: Callable[[dict], object]) -> Callable[[Path], None]:
    def spoil(folder: Path) -> None:
        data = json.loads((folder / name).read_text())
        edit(data)
        (folder / name).write_text(json.dumps(data))

    return spoil


def _text_edit(name: str, edit: Callable[[str], str]) -> Callable[[Path], None]:
    def spoil(folder: Path) -> None:
        (folder / name).write_text(edit((folder / name).read_text()))

    return spoil


def _csv_lines(name: str, edit: Callable[[list[str]], list[str]]) -> Callable[[Path], None]:
    return _text_edit(name, lambda text: "\n".join(edit(text.splitlines())) + "\n")


def _cell(name: str, column: int, value: str) -> Callable[[Path], None]:
    """Set one cell of the first data row of a CSV file."""

    def edit(rows: list[str]) -> list[str]:
        cells = rows[1].split(",")
        cells[column] = value
        return [rows[0], ",".join(cells), *rows[2:]]

    return _csv_lines(name, edit)


def _symlink(folder: Path) -> None:
    (folder / "outside.geojson").write_text((folder / "territories.geojson").read_text())
    (folder / "territories.geojson").unlink()
    (folder / "territories.geojson").symlink_to(folder / "outside.geojson")


def _fifo(folder: Path) -> None:
    (folder / "plan.json").unlink()
    os.mkfifo(folder / "plan.json")


def _set(key: str, value: object) -> Callable[[dict], None]:
    return lambda data: data.__setitem__(key, value)


PLAN_CASES: dict[str, tuple[Callable[[Path], None], list[str]]] = {
    "plan.json truncated": (
        _text_edit("plan.json", lambda t: t[: len(t) // 2]),
        ["plan.json", "cut off"],
    ),
    "plan.json foreign JSON": (
        _text_edit("plan.json", lambda t: '{"type": "FeatureCollection"}'),
        ["not a geoterr plan.json"],
    ),
    "plan.json newer format": (
        _json_edit("plan.json", _set("format_version", 99)),
        ["format 99", "upgrade geoterr"],
    ),
    "plan.json missing key": (
        _json_edit("plan.json", lambda d: d.pop("status")),
        ["lacks the key(s) status"],
    ),
    "plan.json wrong type": (
        _json_edit("plan.json", _set("n_units", "many")),
        ["n_units (expected a count"],
    ),
    "plan.json NaN": (
        _text_edit("plan.json", lambda t: t.replace('"objective": ', '"objective": NaN, "x": ', 1)),
        ["NaN or infinite numbers at objective"],
    ),
    "plan.json 1e999": (
        _text_edit(
            "plan.json", lambda t: t.replace('"lower_bound": ', '"lower_bound": 1e999, "y": ', 1)
        ),
        ["infinite numbers at lower_bound"],
    ),
    "plan.json is a FIFO (would hang)": (_fifo, ["plan.json", "not a regular file"]),
    "territories.geojson missing": (
        lambda f: (f / "territories.geojson").unlink(),
        ["territories.geojson", "is missing"],
    ),
    "territories.geojson a link": (_symlink, ["territories.geojson", "is a link"]),
    "territories.geojson another CRS": (
        _json_edit(
            "territories.geojson",
            _set("crs", {"type": "name", "properties": {"name": "EPSG:3857"}}),
        ),
        ["declares the CRS 'EPSG:3857'"],
    ),
    "territories.geojson not polygons": (
        _json_edit(
            "territories.geojson",
            lambda d: d["features"][0].__setitem__(
                "geometry", {"type": "Point", "coordinates": [0, 0]}
            ),
        ),
        ["feature 0", "not a Polygon"],
    ),
    "assignments.csv unknown territory": (
        _csv_lines(
            "assignments.csv", lambda rows: [rows[0], rows[1].rsplit(",", 1)[0] + ",T99", *rows[2:]]
        ),
        ["assignments.csv", "not in summary.csv (T99)"],
    ),
    "assignments.csv duplicate customer": (
        _csv_lines("assignments.csv", lambda rows: [rows[0], rows[1], rows[1], *rows[3:]]),
        ["more than once", "C0000"],
    ),
    "assignments.csv zero customers": (
        _csv_lines("assignments.csv", lambda rows: rows[:1]),
        ["has no customers"],
    ),
    "assignments.csv rows removed": (
        _csv_lines("assignments.csv", lambda rows: rows[:-5]),
        ["35 customers but plan.json says 40"],
    ),
    "summary.csv 1e999": (
        _cell("summary.csv", 3, "1e999"),
        ["summary.csv", "infinite numbers in workload"],
    ),
    "summary.csv edited counts": (
        _cell("summary.csv", 2, "999"),
        ["disagree on the customers", "999"],
    ),
}


@pytest.mark.parametrize("case", list(PLAN_CASES))
def test_bad_plan_folder(folder: Path, case: str) -> None:
    spoil, words = PLAN_CASES[case]
    spoil(folder)
    before = sorted((p.name, p.lstat().st_mtime_ns) for p in folder.iterdir())
    with pytest.raises(gt.InputError) as caught:
        gt.load_plan(folder)
    for word in words:
        assert word in str(caught.value), (case, str(caught.value))
    assert sorted((p.name, p.lstat().st_mtime_ns) for p in folder.iterdir()) == before


class _Counting(http.server.BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.hits.append(self.path)
        self.send_response(404)
        self.end_headers()

    do_HEAD = do_GET

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = http.server.HTTPServer(("127.0.0.1", 0), _Counting)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    _Counting.hits = []
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_vrt_territories_read_no_other_file_nor_the_network(folder: Path, server: str) -> None:
    elsewhere = folder.parent / "elsewhere.gpkg"
    gpd.read_file(folder / "territories.geojson").assign(territory="FROM_ELSEWHERE").to_file(
        elsewhere
    )
    vrt = f"""<OGRVRTDataSource>
  <OGRVRTUnionLayer name="territories">
    <OGRVRTLayer name="a"><SrcDataSource>{elsewhere}</SrcDataSource></OGRVRTLayer>
    <OGRVRTLayer name="b"><SrcDataSource>/vsicurl/{server}/x.geojson</SrcDataSource></OGRVRTLayer>
  </OGRVRTUnionLayer>
</OGRVRTDataSource>"""
    (folder / "territories.geojson").write_text(vrt)
    with pytest.raises(gt.InputError, match="territories.geojson' is not valid JSON"):
        gt.load_plan(folder)
    assert _Counting.hits == []


def test_virtual_paths_and_urls_are_refused(server: str) -> None:
    for path in (f"/vsicurl/{server}/plan", f"{server}/plan"):
        with pytest.raises(gt.InputError, match="virtual path or a URL"):
            gt.load_plan(path)
    assert _Counting.hits == []


def test_missing_folder_points_to_the_plan_an_interrupted_save_left(folder: Path) -> None:
    aside = folder.parent / ".plan.12345.abcdefgh.old"
    folder.rename(aside)
    with pytest.raises(gt.InputError, match=r"interrupted save left the earlier plan in .*\.old"):
        gt.load_plan(folder)


# --- save targets (API) ---------------------------------------------------------------


@pytest.fixture(scope="module")
def plan(saved: Path) -> gt.Plan:
    return gt.load_plan(saved)


def _tree(root: Path) -> list[tuple[str, bytes]]:
    return sorted(
        (str(p.relative_to(root)), p.read_bytes() if p.is_file() else b"") for p in root.rglob("*")
    )


def test_project_folder_with_a_plan_json_loses_nothing(plan: gt.Plan, tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "src").mkdir(parents=True)
    (project / "plan.json").write_text(json.dumps({"geoterr_version": "0.1.0"}))
    (project / "thesis.docx").write_bytes(b"PK\x03\x04 my thesis")
    (project / "src" / "model.py").write_text("x = 1\n")
    before = _tree(project)
    for overwrite in (False, True):
        with pytest.raises(gt.InputError, match=r"did not write \(src/, thesis.docx\)"):
            plan.save(project, overwrite=overwrite)
    assert _tree(project) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["project"]


@pytest.mark.parametrize(
    ("target", "words"),
    [
        (None, "`path` must be a folder path (str or pathlib.Path), got NoneType"),
        (3, "got int"),
        ("", "not a usable path"),
        ("/etc/hostname/plan", "is not a folder"),
    ],
)
def test_bad_save_targets(plan: gt.Plan, target: object, words: str) -> None:
    with pytest.raises(gt.InputError, match=words.replace("(", r"\(").replace(")", r"\)")):
        plan.save(target)


def test_file_target_is_refused(plan: gt.Plan, tmp_path: Path) -> None:
    (tmp_path / "plan").write_text("a file of mine")
    with pytest.raises(gt.InputError, match="is a file"):
        plan.save(tmp_path / "plan", overwrite=True)
    assert (tmp_path / "plan").read_text() == "a file of mine"


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"map": "yes"}, "`map` must be True or False"),
        ({"overwrite": 1}, "`overwrite` must be True or False"),
        ({"before": 3}, "`before` must be an earlier Plan"),
        ({"reps": 3}, "`reps` must be a DataFrame or the path"),
        ({"tiles": "https://t.example.com/{z}/{x}/{y}.png"}, "need their attribution"),
        ({"tiles": "No Such Tiles"}, "not a known tile provider"),
        ({"attr": "(c) me"}, "give `tiles` too"),
    ],
)
def test_bad_save_options(plan: gt.Plan, tmp_path: Path, options: dict, words: str) -> None:
    with pytest.raises(gt.InputError, match=words.replace("(", r"\(")):
        plan.save(tmp_path / "out", **options)
    assert list(tmp_path.iterdir()) == []


def test_load_plan_wrong_type() -> None:
    with pytest.raises(gt.InputError, match="got DataFrame"):
        gt.load_plan(make_customers(3))  # type: ignore[arg-type]


# --- the command line's save options ----------------------------------------------------


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    make_customers(30).to_csv(tmp_path / "c.csv", index=False)
    make_customers(30).assign(workload=1e308).to_csv(tmp_path / "huge.csv", index=False)
    (tmp_path / "empty_reps.csv").write_text("")
    (tmp_path / "my_customers.csv").write_text("id,lat,lon\n1,2,3\n")
    points = make_customers(10)
    areas = gpd.GeoSeries(gpd.points_from_xy(points.longitude, points.latitude), crs=4326)
    areas = areas.to_crs(3857).buffer(5000).set_crs(None, allow_override=True)
    with warnings.catch_warnings():  # GDAL warns that the file will have no CRS: the point
        warnings.simplefilter("ignore")
        areas.to_frame("geometry").to_file(tmp_path / "metres.gpkg")
    text = gpd.GeoDataFrame(
        points, geometry=gpd.points_from_xy(points.longitude, points.latitude), crs=4326
    ).to_json()
    (tmp_path / "cut.geojson").write_text(text[: len(text) // 2])
    monkeypatch.chdir(tmp_path)
    return tmp_path


DESIGN = ["design", "c.csv", "-k", "3"]
CLI_CASES: dict[str, tuple[list[str], list[str]]] = {
    "--figure bad extension": (
        [*DESIGN, "--figure", "plan.xyz", "--out", "p"],
        ["--figure 'plan.xyz' does not end with .png or .svg or .pdf"],
    ),
    "--figure missing folder": (
        [*DESIGN, "--figure", "nofolder/plan.png", "--out", "p"],
        ["--figure", "does not exist; create it first"],
    ),
    "--figure over an existing file": (
        [*DESIGN, "--figure", "my_customers.csv.png", "--out", "p"],
        [],
    ),
    "--reps missing": (
        [*DESIGN, "--reps", "nope.csv", "--out", "p"],
        ["--reps 'nope.csv' does not exist"],
    ),
    "--reps empty": (
        [*DESIGN, "--reps", "empty_reps.csv", "--out", "p"],
        ["--reps 'empty_reps.csv' is empty"],
    ),
    "--reps wrong columns": (
        [*DESIGN, "--reps", "my_customers.csv", "--out", "p"],
        ["--reps 'my_customers.csv'", "no column for a name"],
    ),
    "--tiles URL without --attr": (
        [*DESIGN, "--tiles", "https://t.example.com/{z}/{x}/{y}.png", "--out", "p"],
        ["need their attribution: pass --attr"],
    ),
    "--tiles unknown name": (
        [*DESIGN, "--tiles", "Nowhere Maps", "--out", "p"],
        ["--tiles 'Nowhere Maps' is not a known tile provider"],
    ),
    "--attr without --tiles": ([*DESIGN, "--attr", "(c) me", "--out", "p"], ["give --tiles too"]),
    "--crs unknown": (
        ["design", "c.csv", "-k", "3", "--crs", "EPSG:999999", "--out", "p"],
        ["--crs 'EPSG:999999' is not a coordinate reference system", "EPSG:3857"],
    ),
    "--polygons missing": (
        [*DESIGN, "--units", "polygons", "--polygons", "nope.gpkg", "--out", "p"],
        ["--polygons 'nope.gpkg' does not exist"],
    ),
    "--polygons metres without CRS": (
        [*DESIGN, "--units", "polygons", "--polygons", "metres.gpkg", "--out", "p"],
        ["has no CRS", "metres?", "ogr2ogr -a_srs"],
    ),
    "--out unwritable place": ([*DESIGN, "--out", "/etc/hostname/p"], ["--out", "is not a folder"]),
    "--out is a file": ([*DESIGN, "--out", "my_customers.csv"], ["--out", "is a file"]),
    "truncated customers GeoJSON": (
        ["design", "cut.geojson", "-k", "3", "--out", "p"],
        ["could not be read", "truncated", "export it again"],
    ),
    "huge values": (
        ["design", "huge.csv", "-k", "3", "--balance", "workload:0.1", "--out", "p"],
        ["workload column holds values so large (up to 1e+308)", "rescale the column"],
    ),
    "--out holds an earlier plan": (
        [*DESIGN, "--out", "saved"],
        ["--out", "already holds a plan; pass --overwrite to replace it"],
    ),
    "--figure inside --out": (
        [*DESIGN, "--figure", "saved/plan.png", "--out", "saved", "--overwrite"],
        ["--figure 'saved/plan.png' is inside the plan folder --out"],
    ),
    "map --out over a CSV": (
        ["map", "saved", "--out", "my_customers.csv"],
        ["--out 'my_customers.csv' does not end with .html"],
    ),
    "map --out existing page": (
        ["map", "saved", "--out", "page.html"],
        ["--out 'page.html' already exists; pass --overwrite"],
    ),
    "map --side-by-side to a PNG": (
        ["map", "saved", "--before", "saved", "--side-by-side", "x.png"],
        ["--side-by-side 'x.png' does not end with .html"],
    ),
    "map of a folder that is not a plan": (["map", "."], ["no plan.json"]),
}


@pytest.mark.parametrize("case", list(CLI_CASES))
def test_bad_save_options_on_the_command_line(
    workdir: Path, saved: Path, case: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv, words = CLI_CASES[case]
    shutil.copytree(saved, workdir / "saved")
    (workdir / "page.html").write_text("<p>my own page</p>")
    if case == "--figure over an existing file":
        (workdir / "my_customers.csv.png").write_bytes(b"my picture")
        words = ["--figure 'my_customers.csv.png' already exists; pass --overwrite"]
    before = _tree(workdir)
    code = cli.main(argv)
    err = capsys.readouterr().err
    assert code == 1, err
    assert "Traceback" not in err and "unexpected error" not in err
    assert err.count("geoterr: error") == 1, err
    for word in words:
        assert word in " ".join(err.split()), (case, err)
    assert "designing" not in err  # refused before any work
    assert _tree(workdir) == before  # nothing written, nothing changed


def _fail(*args: object, **kwargs: object) -> None:
    msg = "renderer broke"
    raise RuntimeError(msg)


def test_failing_figure_writes_no_plan(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A failing --figure used to fail after the plan folder was written."""
    from geoterr import cli_outputs

    monkeypatch.setattr(cli_outputs, "_figure_writer", lambda *a: _fail)
    code = cli.main([*DESIGN, "-q", "--figure", "f.png", "--out", "p"])
    err = capsys.readouterr().err
    assert code == 1 and "renderer broke" in err and "Nothing was written" in err
    assert not (workdir / "p").exists() and not (workdir / "f.png").exists()
    assert not [p for p in workdir.iterdir() if p.name.startswith(".")]


@pytest.mark.slow
def test_message_says_what_was_written(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from geoterr import cli_outputs

    monkeypatch.setattr(cli_outputs, "commit_files", _fail)  # after the plan folder is in place
    code = cli.main([*DESIGN, "-q", "--figure", "f.png", "--out", "p"])
    err = " ".join(capsys.readouterr().err.split())
    assert code == 1 and "Nothing was written" not in err
    assert f"Written before the error: {workdir / 'p'}." in err


def test_failing_side_by_side_keeps_the_old_map(
    workdir: Path, saved: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(saved, workdir / "saved")
    page = (workdir / "saved" / "map.html").read_bytes()
    monkeypatch.setattr("geoterr.maps.before_after_map", _fail)
    code = cli.main(["map", "saved", "--before", "saved", "--side-by-side", "s.html", "-q"])
    assert code == 1 and "Nothing was written" in capsys.readouterr().err
    assert (workdir / "saved" / "map.html").read_bytes() == page
    assert not (workdir / "s.html").exists()
    assert not [p for p in (workdir / "saved").iterdir() if p.name.startswith(".")]


def test_disk_full_is_an_ordinary_error(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import errno

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "p/map.html")

    monkeypatch.setattr("geoterr.maps.plan_map", full)
    code = cli.main([*DESIGN, "-q", "--out", "p"])
    err = " ".join(capsys.readouterr().err.split())
    assert code == 1 and "unexpected" not in err
    assert "No space left on device: 'p/map.html'; free some disk space" in err
    assert "Nothing was written" in err and not (workdir / "p").exists()


def test_unwritable_output_folder(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (workdir / "locked").mkdir()
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: real(p, mode) and Path(p).name != "locked")
    code = cli.main([*DESIGN, "--out", "locked/plan"])
    err = " ".join(capsys.readouterr().err.split())
    assert code == 1 and "the folder" in err and "locked' is not writable" in err
    assert "reading customers" not in err  # before any work


@pytest.mark.parametrize("text", ['{"a": 1, "b": [1, 2', '{"a": 1, "b": "half a str', '{"a": '])
def test_json_cut_off_anywhere_is_called_truncated(tmp_path: Path, text: str) -> None:
    from geoterr.io.plan_readers import strict_json

    path = tmp_path / "plan.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(gt.InputError, match="cut off"):
        strict_json(path)
