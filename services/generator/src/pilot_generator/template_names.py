"""Which names a node's templates read. A run provides only `input`, `nodes`, and inside a
loop `item`/`loop`; anything else (`{{ user_message }}` for `{{ input.user_message }}`)
silently renders empty, so the generator refuses it up front.

(The shared graph validator checks `nodes.<id>` references; this adds the root names.)
"""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, TemplateSyntaxError, meta

from pilot_shared.contracts import ConditionNode, LoopNode, Node

TEMPLATE_ROOTS = frozenset({"input", "nodes", "item", "loop", "range", "len", "min", "max"})
_parser = Environment()


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value] if ("{{" in value or "{%" in value) else []
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def unknown_names(node: Node) -> set[str]:
    sources = _strings(node.config.model_dump(exclude_none=True, by_alias=True))
    if isinstance(node, ConditionNode):
        expressions = [node.config.expression, *(c.when for c in node.config.cases or [])]
        sources += [f"{{{{ {e} }}}}" for e in expressions if e]
    elif isinstance(node, LoopNode) and node.config.condition:
        sources.append(f"{{{{ {node.config.condition} }}}}")
    names: set[str] = set()
    for source in sources:
        try:
            names |= meta.find_undeclared_variables(_parser.parse(source))
        except TemplateSyntaxError:
            continue  # the graph validator reports syntax errors, naming the node
    return names - TEMPLATE_ROOTS
