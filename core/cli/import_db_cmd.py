"""`turnloom import-db`: JSON databases of the τ2 kind (tables as lists of records) to SQLite.

The SQLite files work with `--db` and `generate --db-dir`; the conversion itself is
`tools.json_import`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from turnloom.core.errors import UsageError
from turnloom.core.tools.json_import import import_json_database


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "import-db",
        help="convert τ2-style JSON databases (tables as lists of records) to SQLite",
        description=(
            "Convert JSON databases of the τ2-bench kind — one object whose keys are tables, each a list "
            "of records or an object of records by id — to SQLite files for --db and generate --db-dir. "
            "Nested values are kept as JSON text; keys and foreign keys are inferred from the data."
        ),
    )
    parser.add_argument("files", nargs="+", metavar="FILE.json", help="JSON databases (τ2's db.json layout)")
    parser.add_argument(
        "--out",
        required=True,
        metavar="FILE.sqlite|DIR",
        help="the SQLite file (one input), or a folder receiving NAME.sqlite per input "
        "(NAME: the file's stem, or its folder's name for a file called db.json)",
    )
    parser.set_defaults(handler=handle)


def output_paths(files: list[str], out: str) -> list[Path]:
    """Where each input goes: `out` itself for one input named *.sqlite, else `out/NAME.sqlite`.

    Raises:
        UsageError: two inputs would be written to the same file.
    """
    target = Path(out)
    if len(files) == 1 and target.suffix in (".sqlite", ".db", ".sqlite3"):
        return [target]
    paths: list[Path] = []
    for file in files:
        source = Path(file)
        name = source.parent.resolve().name if source.stem == "db" else source.stem
        path = target / f"{name}.sqlite"
        if path in paths:
            raise UsageError(f"{file}: would also be written to {path}; convert it on its own with --out FILE.sqlite")
        paths.append(path)
    return paths


def handle(args: argparse.Namespace) -> int:
    for file, path in zip(args.files, output_paths(args.files, args.out), strict=True):
        tables = import_json_database(file, path)
        rows = sum(len(t.rows) for t in tables)
        links = sum(len(t.references) for t in tables)
        print(f"# {file} -> {path}: {len(tables)} tables, {rows} rows, {links} foreign keys")
    return 0
