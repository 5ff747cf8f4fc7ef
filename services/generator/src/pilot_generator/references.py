"""Node ids for blueprint steps, and rewriting the step keys that configs mention
(`nodes.<key>` in templates, loop bodies) to those ids.

Steps are renumbered per type in blueprint order (input_1, llm_1, llm_2, …) whatever keys
the planner chose, so every generated workflow reads the same way. The rewrite is one
simultaneous substitution: keys that swap names (an LLM calling its first llm step
"llm_2") cannot clobber each other.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from pilot_shared.contracts import BlueprintStep

from .errors import InvalidBlueprint

_NODE_REF = re.compile(
    r"(?<![A-Za-z0-9_.])nodes\s*(?:\.\s*(?P<attr>[A-Za-z_][A-Za-z0-9_]*)"
    r"|\[\s*(?P<q>['\"])(?P<item>[^'\"]+)(?P=q)\s*\])"
)


def assign_ids(steps: list[BlueprintStep]) -> dict[str, str]:
    """step key -> node id."""
    counts: Counter[str] = Counter()
    ids: dict[str, str] = {}
    for step in steps:
        if step.key in ids:
            raise InvalidBlueprint(f"step {step.key!r}: two steps have this key")
        counts[step.type] += 1
        ids[step.key] = f"{step.type}_{counts[step.type]}"
    return ids


def rewrite_refs(value: Any, id_map: dict[str, str]) -> Any:
    """`value` with every `nodes.<key>` / `nodes['<key>']` of a known key pointing at the
    key's node id. Unknown keys stay as they are, for the graph validator to report."""
    if isinstance(value, str):
        if "nodes" not in value:
            return value

        def sub(m: re.Match[str]) -> str:
            key = m.group("attr") or m.group("item")
            return f"nodes.{id_map[key]}" if key in id_map else m.group()

        return _NODE_REF.sub(sub, value)
    if isinstance(value, dict):
        return {k: rewrite_refs(v, id_map) for k, v in value.items()}
    if isinstance(value, list):
        return [rewrite_refs(v, id_map) for v in value]
    return value


def rewrite_loop_body(step: BlueprintStep, body: Any, id_map: dict[str, str]) -> list[str]:
    if not isinstance(body, list) or not all(isinstance(k, str) for k in body):
        raise InvalidBlueprint(f"step {step.key!r} (loop): config.body must be a list of step keys")
    missing = ", ".join(repr(k) for k in body if k not in id_map)
    if missing:
        raise InvalidBlueprint(
            f"step {step.key!r} (loop): config.body names unknown steps {missing}"
        )
    return [id_map[k] for k in body]
