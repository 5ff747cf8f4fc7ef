"""Generator settings (prefix PILOT_)."""

from __future__ import annotations

from pydantic import Field

from pilot_shared.settings import PilotSettings


class GeneratorSettings(PilotSettings):
    generator_concurrency: int = Field(default=4, ge=1, le=256)

    @classmethod
    def from_base(cls, settings: PilotSettings | None) -> GeneratorSettings:
        """Accept the shared settings a launcher or test builds, keeping its values."""
        if settings is None:
            return cls()
        if isinstance(settings, cls):
            return settings
        return cls(**settings.model_dump())
