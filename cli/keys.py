"""`tariff keys create|list|revoke`: API keys, on the database the server
uses (TARIFF_DATABASE_URL, else the instance folder's SQLite file, exactly as
`tariff serve` resolves it), migrated first.

    tariff keys create --scope admin --name ops      # the secret, once, on the last line
    tariff keys create --scope service --organization acme --name backend
    tariff keys list
    tariff keys revoke k0123456789abcdef
"""
from __future__ import annotations

import sys


def server_url() -> str:
    """The server's database URL: the same resolution as api/accounts (_open_ledger)."""
    from flask import Flask
    from tariff.storage import check_settings, database_url
    check_settings()  # every storage setting named when wrong (cli/main reports ConfigError)
    return database_url(Flask("tariff").instance_path)


def database():
    """The server's database, migrated."""
    from tariff.storage import Database, migrate
    url = server_url()
    migrate(url)
    return Database(url)


def _fail(message: str) -> int:
    print(f"tariff keys: {message}", file=sys.stderr)
    return 2


def cmd_create(args) -> int:
    from tariff.storage import InvalidInput, keys
    db = database()
    try:
        key, secret = keys.create(db, args.scope, args.organization, args.name, by="cli")
    except InvalidInput as exc:
        return _fail(exc.message)
    finally:
        db.dispose()
    where = f"organization {key.organization}" if key.organization else "every organization"
    print(f"created key {key.id} ({key.name}): scope {key.scope}, {where}")
    print("the secret is shown only now; send it as `Authorization: Bearer <secret>`:")
    print(secret)
    return 0


def cmd_list(args) -> int:
    from tariff.storage import keys
    db = database()
    try:
        found = keys.list_all(db)
    finally:
        db.dispose()
    if args.format == "json":
        import json
        print(json.dumps([k.json() for k in found], indent=2))
        return 0
    for k in found:
        state = f"revoked {k.revoked_at.isoformat(timespec='seconds')}" if k.revoked_at else "live"
        print(f"{k.id}  {k.scope:<7}  {k.organization or '*':<20}  {state:<30}  {k.name}")
    if not found:
        print("no keys: the server runs in local mode (loopback only)")
    return 0


def cmd_revoke(args) -> int:
    from tariff.storage import NotFound, keys
    db = database()
    try:
        key = keys.revoke(db, args.id, by="cli")
    except NotFound as exc:
        print(f"tariff keys: {exc.message}", file=sys.stderr)
        return 1
    finally:
        db.dispose()
    print(f"revoked key {key.id} ({key.name})")
    return 0


def register(sub) -> None:
    keys = sub.add_parser("keys", help="API keys: create, list, revoke (on the server's database)")
    commands = keys.add_subparsers(dest="keys_command", required=True)
    p = commands.add_parser("create", help="make a key; prints its secret once, on the last line")
    p.add_argument("--scope", required=True, choices=["admin", "service", "read"])
    p.add_argument("--organization", help="bind the key to one organization (service: optional; read: required)")
    p.add_argument("--name", help="what the key is for (shown in lists and the audit trail)")
    p.set_defaults(func=cmd_create)
    p = commands.add_parser("list", help="every key: id, scope, organization, live or revoked, name")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.set_defaults(func=cmd_list)
    p = commands.add_parser("revoke", help="revoke a key at once")
    p.add_argument("id")
    p.set_defaults(func=cmd_revoke)
