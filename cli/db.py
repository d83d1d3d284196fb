"""`tariff db current|upgrade|downgrade`: the ledger's schema, on the database
the server uses (TARIFF_DATABASE_URL, else the instance folder's SQLite file,
exactly as `tariff serve` resolves it).

    tariff db current            # the schema's revision, and this release's
    tariff db upgrade            # to this release's (what every server does when it starts)
    tariff db downgrade 0012     # before starting an older release, with this (newer) release
"""
from __future__ import annotations

import sys

from .keys import server_url


def cmd_current(args) -> int:
    from tariff.storage import current, head_revision
    at = current(server_url())
    print(f"schema at {at or 'nothing (never migrated)'}; this release's: {head_revision()}")
    return 0


def cmd_move(args) -> int:
    """upgrade or downgrade to ``args.revision``; a revision it cannot go to: one line, exit 2."""
    from tariff.storage import InvalidInput, downgrade, migrate
    step = migrate if args.db_command == "upgrade" else downgrade
    try:
        print(f"schema at {step(server_url(), args.revision)}")
    except InvalidInput as exc:
        print(f"tariff db: {exc.message}", file=sys.stderr)
        return 2
    return 0


def register(sub) -> None:
    db = sub.add_parser("db", help="the ledger's schema: current, upgrade, downgrade (on the server's database)")
    commands = db.add_subparsers(dest="db_command", required=True)
    p = commands.add_parser("current", help="the revision the schema is at, and this release's")
    p.set_defaults(func=cmd_current)
    p = commands.add_parser("upgrade", help="migrate to this release's schema (servers do it when they start)")
    p.add_argument("revision", nargs="?", default="head")
    p.set_defaults(func=cmd_move)
    p = commands.add_parser("downgrade", help="take the schema back to REVISION, before starting an older release")
    p.add_argument("revision")
    p.set_defaults(func=cmd_move)
