"""`python -m pilot_executor`: run the executor until SIGINT/SIGTERM."""

from __future__ import annotations

from pilot_shared.service import run_service
from pilot_shared.telemetry import configure_logging

from .app import create_app
from .settings import ExecutorSettings


def main() -> None:
    settings = ExecutorSettings()
    configure_logging(settings.log_level)
    run_service(create_app(settings))


if __name__ == "__main__":
    main()
