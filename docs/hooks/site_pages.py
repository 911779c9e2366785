"""mkdocs hook: pages made at build time, and a check that the public API is documented.

- ``notebooks/*.ipynb`` (kept at the repository root, where the tests run them) become the
  pages ``notebooks/<name>.ipynb`` of the site; mkdocs-jupyter renders them.
- ``reference/cli.md`` is rendered from ``geoterr.cli._parser()``: the help of ``geoterr``
  and of each subcommand, so the page cannot drift from the parser.
- Every name of ``geoterr.__all__`` must have a docstring and appear in the API reference
  (``docs/reference/api.md``); in strict mode a miss fails the build.
"""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files

log = logging.getLogger("mkdocs.hooks.geoterr")

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
HELP_WIDTH = "100"


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _help(parser: argparse.ArgumentParser) -> str:
    # argparse wraps to $COLUMNS: fix it so that the page is the same on every machine.
    before = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = HELP_WIDTH
    try:
        return parser.format_help().rstrip()
    finally:
        if before is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = before


def cli_reference() -> str:
    """The Markdown of the command-line reference, from the parser itself."""
    from geoterr.cli import _parser

    parser = _parser()
    commands = _subcommands(parser)
    lines = [
        "# Command line",
        "",
        "`geoterr` is installed with the package (`pip install geoterr`, or `pip install -e .`",
        "from a clone). Each command below is a thin wrapper over the Python API; the text is",
        "the program's own `--help`, rendered from its parser when the site is built.",
        "",
        "Exit codes: 0 when the plan keeps every promise; 3 when a plan was written but breaks",
        "a promise (the plan says which); 1 when the input cannot be used or no plan can exist",
        "(the message names the problem and nothing is written); 2 for unknown options.",
        "",
        "## geoterr",
        "",
        "```text",
        _help(parser),
        "```",
    ]
    for name, sub in commands.items():
        lines += ["", f"## geoterr {name}", "", "```text", _help(sub), "```"]
    return "\n".join(lines) + "\n"


@event_priority(100)  # before mkdocs-jupyter wraps the notebooks
def on_files(files: Files, config) -> Files:
    for notebook in sorted(NOTEBOOKS.glob("*.ipynb")):
        files.append(
            File(
                f"notebooks/{notebook.name}",
                src_dir=str(ROOT),
                dest_dir=config["site_dir"],
                use_directory_urls=config["use_directory_urls"],
            )
        )
    files.append(File.generated(config, "reference/cli.md", content=cli_reference()))
    return files


def on_page_markdown(markdown: str, page, config, files) -> str:
    if page.file.src_uri != "reference/api.md":
        return markdown
    import geoterr

    for name in geoterr.__all__:
        if name.startswith("__"):
            continue
        obj = getattr(geoterr, name)
        if not (getattr(obj, "__doc__", None) or "").strip():
            log.warning("geoterr.%s has no docstring", name)
        if f"geoterr.{name}\n" not in markdown and f".{name}\n" not in markdown:
            log.warning("geoterr.%s (in geoterr.__all__) is missing from reference/api.md", name)
    return markdown
