"""Printing a frame for the CLI in one of the output formats (checked before anything prints)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from noordstats.declarations.files import ConfigError
from noordstats.i18n import DEFAULT_LANG

if TYPE_CHECKING:
    import pandas as pd

FORMATS = ("table", "csv", "json", "md")


def add_theme_option(parser: argparse.ArgumentParser, help: str, required: bool = False) -> None:
    """``--theme ID`` (``--specialisation``, the old name, kept as an alias)."""
    parser.add_argument(
        "--theme", "--specialisation", dest="theme", required=required, default=None, help=help
    )


def add_lang_option(parser: argparse.ArgumentParser, texts: str) -> None:
    """``--lang``: the language of the command's ``texts``, the reports' default."""
    parser.add_argument(
        "--lang",
        default=DEFAULT_LANG,
        help=f"language of the texts ({texts}): {DEFAULT_LANG} (the default, as for the "
        "reports), en, or any a working folder's catalogue.yaml adds",
    )


API_CHOICES = ("v3", "v4", "auto")


def add_api_option(parser: argparse.ArgumentParser) -> None:
    """``--api v3|v4|auto``: CBS's OData v3 (opendata.cbs.nl), v4 (datasets.cbs.nl,
    ``NOORDSTATS_V4_URL``) or, the default (``NOORDSTATS_API``), v4 and v3 where v4 lacks the
    table or fails."""
    parser.add_argument(
        "--api",
        choices=API_CHOICES,
        default=None,
        help="CBS service: v3 (opendata.cbs.nl), v4 (datasets.cbs.nl) or auto (v4, then v3; "
        "the default, or $NOORDSTATS_API)",
    )


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise ConfigError(f"unknown format {fmt!r}; valid: {', '.join(FORMATS)}")
    return fmt


def print_frame(frame: pd.DataFrame, fmt: str, table_columns: list[str], footer: str = "") -> None:
    """``table`` shows ``table_columns`` only; ``csv``, ``json`` and ``md`` show every column."""
    # deferred: pandas takes ~0.7 s to import; `noordstats --help` and `--version` do not need it
    import pandas as pd

    check_format(fmt)
    if fmt == "csv":
        print(frame.to_csv(index=False), end="")
    elif fmt == "json":
        print(frame.to_json(orient="records", force_ascii=False, indent=1))
    elif fmt == "md":
        print(_to_markdown(frame))
    else:
        with pd.option_context("display.max_colwidth", 70, "display.width", 250):
            print(frame[table_columns].to_string(index=False))
        if footer:
            print(f"\n{footer}")


def _to_markdown(frame: pd.DataFrame) -> str:
    def cell(value: object) -> str:
        text = "" if value is None or (isinstance(value, float) and value != value) else str(value)
        return text.replace("|", "\\|").replace("\n", " ")

    header = "| " + " | ".join(frame.columns) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *body])
