"""Workflow secrets in the runner (the store and key live in `pilot_shared.secrets`), and a
command to manage them:

    python -m pilot_runners.secrets set NAME      # the value is read from stdin
    python -m pilot_runners.secrets list
    python -m pilot_runners.secrets delete NAME

It uses PILOT_MONGODB_URL / PILOT_MONGODB_DB and PILOT_SECRET_KEY (or PILOT_DATA_DIR/secret.key),
the same settings the runners decrypt with.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from pilot_shared.secrets import (
    MASK,
    SECRET_NAME,
    SecretError,
    SecretStore,
    load_or_create_key,
    mask,
    referenced_names,
)
from pilot_shared.store import create_store_client

from .settings import RunnerSettings

__all__ = [
    "MASK",
    "SECRET_NAME",
    "SecretError",
    "SecretStore",
    "load_or_create_key",
    "main",
    "mask",
    "referenced_names",
]


async def _run(args: argparse.Namespace, settings: RunnerSettings) -> int:
    key = settings.secret_key.get_secret_value() if settings.secret_key else None
    client = create_store_client(settings.mongodb_url)
    try:
        store = SecretStore(client[settings.mongodb_db], load_or_create_key(key, settings.data_dir))
        if args.command == "set":
            value = sys.stdin.read().rstrip("\n")
            if not value:
                print("no value on stdin", file=sys.stderr)
                return 2
            await store.put(args.name, value)
            print(f"secret {args.name} stored (encrypted)")
        elif args.command == "delete":
            found = await store.delete(args.name)
            print(f"secret {args.name} {'deleted' if found else 'not found'}")
            return 0 if found else 1
        else:
            for name in await store.names():
                print(name)
        return 0
    finally:
        await client.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pilot_runners.secrets")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("set", help="store a secret; the value is read from stdin").add_argument("name")
    sub.add_parser("delete", help="delete a secret").add_argument("name")
    sub.add_parser("list", help="list secret names (never values)")
    args = parser.parse_args(argv)
    if getattr(args, "name", None) is not None and not SECRET_NAME.match(args.name):
        parser.error(f"invalid secret name {args.name!r}")
    try:
        return asyncio.run(_run(args, RunnerSettings()))
    except SecretError as exc:
        print(exc, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
