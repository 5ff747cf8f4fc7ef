"""`python -m pilot_planner`"""

from pilot_shared.service import run_service
from pilot_shared.telemetry import configure_logging

from .app import create_app
from .settings import PlannerSettings


def main() -> None:
    configure_logging(PlannerSettings().log_level)
    run_service(create_app())


if __name__ == "__main__":
    main()
