"""Condition expressions that hold up against real data."""

from __future__ import annotations


def safe_number(root: str, path: str) -> str:
    """`root.path` as an expression that is 0, not an error, when any part of the path is
    missing: an API's answer or a list item may not have the field the prompt named.
    `path` is like "rates.CNY", "current_condition[0].temp_C | float"."""
    path, _, filters = path.partition("|")
    expr = root
    for part in path.strip().split("."):
        name, _, index = part.partition("[")
        expr = f"({expr} or {{}}).{name}" if name else expr
        if index:
            expr = f"({expr} or [{{}}])[{index}"
    expr = f"({expr} or 0)"
    return f"({expr} | {filters.strip()})" if filters.strip() else expr
