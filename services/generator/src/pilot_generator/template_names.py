"""Which names a node's templates read. A run provides only `input`, `nodes`, and inside a
loop `item`/`loop`; anything else (`{{ user_message }}` for `{{ input.user_message }}`)
silently renders empty, so the generator refuses it up front.

The check itself lives in `pilot_shared.graph`, shared with the planner's preflight.
"""

from __future__ import annotations

from pilot_shared.contracts import Node
from pilot_shared.graph import unknown_template_names
from pilot_shared.templating import TEMPLATE_ROOTS

__all__ = ["TEMPLATE_ROOTS", "unknown_names"]


def unknown_names(node: Node) -> set[str]:
    return unknown_template_names(node)
