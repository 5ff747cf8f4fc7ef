"""The `pilot` command."""

from __future__ import annotations

import argparse
import os
from pathlib import Path


def _default_data_dir() -> Path:
    return Path(os.environ.get("PILOT_DATA_DIR", ".pilot"))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pilot", description="πlot: prompts to AI-agent workflows"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    up = sub.add_parser("up", help="start the whole system on its embedded defaults")
    up.add_argument("--port", type=int, default=8000, help="gateway port (default 8000)")
    up.add_argument("--host", default="127.0.0.1", help="gateway address (default 127.0.0.1)")
    up.add_argument("--data-dir", type=Path, default=None, help="embedded data (default .pilot/)")

    runner = sub.add_parser("runner", help="run node runners for some node types")
    runner.add_argument("--types", default="", help="comma-separated node types (default: all)")

    users = sub.add_parser("users", help="manage users and their API keys")
    users_sub = users.add_subparsers(dest="users_command", required=True)
    create = users_sub.add_parser("create", help="create a user; prints their API key")
    create.add_argument("name", help="username (letters, digits, . _ -)")
    create.add_argument("--admin", action="store_true", help="make the user an admin")
    create.add_argument("--data-dir", type=Path, default=None, help="data dir (default .pilot/)")
    key = users_sub.add_parser("key", help="issue a new API key for an existing user")
    key.add_argument("name", help="username")
    key.add_argument("--data-dir", type=Path, default=None, help="data dir (default .pilot/)")

    from .generate_cmd import add_arguments

    add_arguments(sub.add_parser("generate", help="turn a prompt into a workflow (in-process)"))
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "up":
        from .launcher import run_up

        return run_up(port=args.port, host=args.host, data_dir=args.data_dir or _default_data_dir())
    if args.command == "runner":
        from pilot_runners.__main__ import main as runner_main

        runner_main(["--types", args.types] if args.types else [])
        return 0
    if args.command == "generate":
        from .generate_cmd import run_generate

        return run_generate(args)
    if args.command == "users":
        from .users_cmd import run_users

        return run_users(
            action=args.users_command,
            username=args.name,
            data_dir=args.data_dir or _default_data_dir(),
            admin=getattr(args, "admin", False),
        )
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
