"""Sandboxed Jinja2 templates and expressions (DESIGN.md §4).

One environment for every template and condition expression in πlot. Nothing
user-supplied reaches `eval`; the immutable sandbox refuses dunder attributes,
unsafe callables and mutation of the context. Node outputs are data placed in the
context, never templates: they are not rendered a second time.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from jinja2 import TemplateError as _JinjaTemplateError
from jinja2 import Undefined, meta, nodes
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment, safe_range

MAX_TEMPLATE_CHARS = 100_000
_EVAL_ERRORS = (
    TypeError,
    ValueError,
    AttributeError,
    ZeroDivisionError,
    KeyError,
    IndexError,
    OverflowError,
    RecursionError,
    MemoryError,
)
_SINGLE_EXPRESSION = re.compile(r"^\s*\{\{(?P<expr>.*)\}\}\s*$", re.DOTALL)


class TemplateError(ValueError):
    """A template or expression that cannot be compiled or evaluated, or that tried to
    leave the sandbox. The message is safe to show to the workflow's author."""


MAX_SEQUENCE_RESULT = 1_000_000
MAX_EXPONENT = 1_000


class _Env(ImmutableSandboxedEnvironment):
    # `'x' * 10**9` or `9 ** 9 ** 9` would exhaust memory or CPU: bound them.
    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**":
            if isinstance(right, int | float) and abs(right) > MAX_EXPONENT:
                raise SecurityError(f"exponent {right} is over the limit {MAX_EXPONENT}")
            return left**right
        for seq, n in ((left, right), (right, left)):
            if (
                isinstance(seq, str | list | tuple)
                and isinstance(n, int)
                and len(seq) * n > MAX_SEQUENCE_RESULT
            ):
                raise SecurityError("repetition result is over the size limit")
        return left * right

    def getattr(self, obj: Any, attribute: str) -> Any:
        # `{{ input.items }}` must mean the key "items", not dict.items: data keys win
        # over methods for mappings, which is what workflow authors expect.
        if isinstance(obj, Mapping) and attribute in obj:
            return obj[attribute]
        return super().getattr(obj, attribute)


_env = _Env(autoescape=False, undefined=Undefined, keep_trailing_newline=True)
_env.globals.clear()  # no range(), lipsum(), dict() etc. unless listed below
# safe_range caps ranges (a `range(10**9) | list` would otherwise exhaust memory).
_env.globals.update({"range": safe_range, "len": len, "min": min, "max": max})


@lru_cache(maxsize=4096)
def _compile_template(source: str) -> Any:
    return _env.from_string(source)


@lru_cache(maxsize=4096)
def _compile_expression(source: str) -> Any:
    return _env.compile_expression(source, undefined_to_none=True)


@lru_cache(maxsize=4096)
def _single_expression(source: str) -> str | None:
    """The inner expression when `source` is exactly one `{{ … }}`, else None."""
    match = _SINGLE_EXPRESSION.match(source)
    if not match:
        return None
    try:
        body = _env.parse(source.strip()).body
    except _JinjaTemplateError:
        return None
    if (
        len(body) == 1
        and isinstance(body[0], nodes.Output)
        and len(body[0].nodes) == 1
        and not isinstance(body[0].nodes[0], nodes.TemplateData)
    ):
        return match.group("expr")
    return None


def _check_size(source: str) -> None:
    if len(source) > MAX_TEMPLATE_CHARS:
        raise TemplateError(
            f"template is {len(source)} characters; the limit is {MAX_TEMPLATE_CHARS}"
        )


def render(template: Any, context: Mapping[str, Any]) -> Any:
    """Render a template. A single `{{ expr }}` yields the value with its type; text mixed
    with expressions yields a string. Dicts and lists are rendered element by element;
    other values are returned as they are."""
    if isinstance(template, dict):
        return {k: render(v, context) for k, v in template.items()}
    if isinstance(template, list):
        return [render(v, context) for v in template]
    if not isinstance(template, str) or ("{{" not in template and "{%" not in template):
        return template
    _check_size(template)
    try:
        inner = _single_expression(template)
        if inner is not None:
            value = _compile_expression(inner)(**context)
            return None if isinstance(value, Undefined) else value
        return _compile_template(template).render(**context)
    except SecurityError as exc:
        raise TemplateError(f"template refused by the sandbox: {exc}") from None
    except _JinjaTemplateError as exc:
        raise TemplateError(f"template error: {exc}") from None
    except _EVAL_ERRORS as exc:
        raise TemplateError(f"template evaluation failed: {type(exc).__name__}: {exc}") from None


def evaluate(expression: str, context: Mapping[str, Any]) -> Any:
    """Evaluate a bare expression (no braces), as condition nodes use."""
    _check_size(expression)
    try:
        return _compile_expression(expression)(**context)
    except SecurityError as exc:
        raise TemplateError(f"expression refused by the sandbox: {exc}") from None
    except _JinjaTemplateError as exc:
        raise TemplateError(f"expression error: {exc}") from None
    except _EVAL_ERRORS as exc:
        raise TemplateError(f"expression evaluation failed: {type(exc).__name__}: {exc}") from None


def check_syntax(source: str, *, expression: bool = False) -> None:
    """Raise TemplateError if `source` does not compile (used when a workflow is saved)."""
    _check_size(source)
    try:
        if expression:
            _compile_expression(source)
        else:
            _compile_template(source)
    except _JinjaTemplateError as exc:
        raise TemplateError(f"{'expression' if expression else 'template'} error: {exc}") from None


_NODE_REF = re.compile(r"\bnodes\s*(?:\.\s*([A-Za-z_][A-Za-z0-9_]*)|\[\s*['\"]([^'\"]+)['\"]\s*\])")


def referenced_nodes(source: str) -> set[str]:
    """Node ids a template reads through `nodes.<id>` or `nodes['<id>']`."""
    return {a or b for a, b in _NODE_REF.findall(source)}


# What a template may read: the workflow input, upstream outputs, the loop item and index
# inside a loop body, and the sandbox's few globals.
TEMPLATE_ROOTS = frozenset({"input", "nodes", "item", "loop", *_env.globals})


def undeclared_names(source: str, *, expression: bool = False) -> set[str]:
    """Root names `source` reads that no run provides (`{{ user_message }}` where
    `{{ input.user_message }}` was meant: it would silently render empty). A source that
    does not compile reads nothing here; `check_syntax` reports it."""
    return set(_undeclared(source, expression))


@lru_cache(maxsize=4096)
def _undeclared(source: str, expression: bool) -> frozenset[str]:
    try:
        parsed = _env.parse(f"{{{{ {source} }}}}" if expression else source)
    except _JinjaTemplateError:
        return frozenset()
    return frozenset(meta.find_undeclared_variables(parsed) - TEMPLATE_ROOTS)
