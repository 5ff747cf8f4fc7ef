"""`python -m pilot_generator`"""

from pilot_shared.service import run_service
from pilot_shared.telemetry import configure_logging

from .app import create_app
from .settings import GeneratorSettings


def main() -> None:
    configure_logging(GeneratorSettings().log_level)
    run_service(create_app())


if __name__ == "__main__":
    main()
