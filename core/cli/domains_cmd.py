"""`turnloom domains`: the built-in domain packs with their tables, rows and tools."""

from __future__ import annotations

import argparse
import json

from turnloom.core.cli.render import new_table, print_table
from turnloom.core.domains import all_packs
from turnloom.core.tools.dbimage import build_pack_image
from turnloom.core.tools.derive import derive_tools
from turnloom.core.tools.sqlenv import SqlEnvironment


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "domains",
        help="list the built-in domains",
        description="List the built-in domain packs with their table, row, tool, intent and task-template counts.",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(handler=handle)


def domain_rows() -> list[dict]:
    rows = []
    for pack in all_packs():
        image = build_pack_image(pack)
        with SqlEnvironment(image) as env:
            counts = env.row_counts()
        rows.append(
            {
                "name": pack.name,
                "title": pack.title,
                "tables": len(counts),
                "rows": sum(counts.values()),
                "tools": len(derive_tools(image).tools),
                "intents": len(pack.intents),
                "templates": len(pack.templates),
                "description": pack.description,
            }
        )
    return rows


def handle(args: argparse.Namespace) -> int:
    rows = domain_rows()
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    counts = ("tables", "rows", "tools", "intents", "templates")
    table = new_table("domain", *counts, "description", right=counts)
    for row in rows:
        table.add_row(row["name"], *(str(row[key]) for key in counts), row["description"])
    print_table(table)
    return 0
