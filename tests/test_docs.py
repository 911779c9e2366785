"""The documentation site builds in strict mode: a broken link, a bad reference or a public
name without a docstring fails the build (see mkdocs.yml and docs/hooks/site_pages.py)."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

needs_mkdocs = pytest.mark.skipif(
    any(
        importlib.util.find_spec(m) is None
        for m in ("mkdocs", "material", "mkdocstrings_handlers.python", "mkdocs_jupyter")
    ),
    reason="mkdocs, mkdocs-material, mkdocstrings[python] or mkdocs-jupyter is not installed "
    "(pip install -e '.[docs]')",
)


def _build(site: Path, config: Path = ROOT / "mkdocs.yml") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_MKDOCS_2_WARNING": "1"}
    env.pop("GEOTERR_DOCS_EXECUTE", None)
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config), "-d", str(site)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.slow
@needs_mkdocs
def test_strict_build(tmp_path: Path) -> None:
    result = _build(tmp_path / "site")
    assert result.returncode == 0, result.stdout + result.stderr
    site = tmp_path / "site"
    api = (site / "reference" / "api" / "index.html").read_text(encoding="utf-8")
    for name in ("read_customers", "build_units", "design", "Plan", "units_from_files"):
        assert re.search(rf'id="geoterr\.(\w+\.)?{name}"', api), name
    # The CLI page is the parser's own help, one section per subcommand.
    sys.path.insert(0, str(ROOT / "docs" / "hooks"))
    try:
        from site_pages import _subcommands
    finally:
        sys.path.pop(0)
    from geoterr.cli import _parser

    cli = (site / "reference" / "cli" / "index.html").read_text(encoding="utf-8")
    commands = _subcommands(_parser())
    assert commands
    for name, sub in commands.items():
        assert f"usage: geoterr {name}" in cli, name
        for action in sub._actions:
            for option in action.option_strings:
                assert option in cli, (name, option)
    for page in (
        "notebooks/01_quickstart",
        "notebooks/02_redesign",
        "notebooks/05_scale",
        "data",
        "guide/concepts",
    ):
        assert (site / page / "index.html").is_file(), page
    assert "GeoNames" in (site / "data" / "index.html").read_text(encoding="utf-8")


@pytest.mark.slow
@needs_mkdocs
def test_strict_build_fails_on_a_broken_link(tmp_path: Path) -> None:
    # The same configuration with one page linking nowhere must fail: strict mode is on.
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "index.md").write_text("# Home\n\n[gone](missing.md)\n", encoding="utf-8")
    config = tmp_path / "mkdocs.yml"
    config.write_text(
        "site_name: t\ndocs_dir: docs\nstrict: true\ntheme: {name: material}\n"
        "validation: {links: {not_found: warn}}\n",
        encoding="utf-8",
    )
    result = _build(tmp_path / "site", config)
    assert result.returncode != 0
    assert "missing.md" in result.stdout + result.stderr


def test_api_check_names_missing_public_names(caplog: pytest.LogCaptureFixture) -> None:
    # The hook warns (an error in strict mode) for a public name left out of the reference.
    pytest.importorskip("mkdocs", reason="mkdocs is not installed (pip install -e '.[docs]')")
    sys.path.insert(0, str(ROOT / "docs" / "hooks"))
    try:
        import site_pages
    finally:
        sys.path.pop(0)

    class Page:
        class file:
            src_uri = "reference/api.md"

    full = (ROOT / "docs" / "reference" / "api.md").read_text(encoding="utf-8")
    with caplog.at_level("WARNING", logger="mkdocs.hooks.geoterr"):
        site_pages.on_page_markdown(full, Page, {}, None)
        assert not caplog.records
        site_pages.on_page_markdown(full.replace("::: geoterr.sweep\n", ""), Page, {}, None)
    assert [r.getMessage() for r in caplog.records] == [
        "geoterr.sweep (in geoterr.__all__) is missing from reference/api.md"
    ]
