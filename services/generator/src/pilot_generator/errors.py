"""Generator errors. Messages name the step or node at fault and are safe to show users."""

from __future__ import annotations


class GenerationError(ValueError):
    """A blueprint that cannot become a workflow; retrying will not help."""


class InvalidBlueprint(GenerationError):
    pass
