"""`python -m pilot_runners [--types llm,api]`: serve tasks of the given node types."""

from __future__ import annotations

import argparse

from pilot_shared.contracts import NODE_TYPES
from pilot_shared.service import run_service
from pilot_shared.telemetry import configure_logging

from .app import create_app
from .settings import RunnerSettings


def parse_types(value: str) -> list[str]:
    types = [t.strip() for t in value.split(",") if t.strip()]
    unknown = sorted(set(types) - set(NODE_TYPES))
    if unknown or not types:
        raise argparse.ArgumentTypeError(
            f"unknown node types {unknown}; choose from {', '.join(NODE_TYPES)}"
        )
    return types


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="pilot_runners", description=__doc__)
    parser.add_argument(
        "--types",
        type=parse_types,
        default=list(NODE_TYPES),
        help="comma-separated node types to serve (default: all)",
    )
    args = parser.parse_args(argv)
    settings = RunnerSettings()
    configure_logging(settings.log_level)
    run_service(create_app(settings, types=args.types))


if __name__ == "__main__":
    main()
