"""The one Jinja2 sandbox: typed single expressions, strings otherwise, no escapes."""

from __future__ import annotations

import pytest

from pilot_shared.templating import TemplateError, evaluate, referenced_nodes, render

CTX = {
    "input": {"n": 7, "items": [1, 2, 3], "text": "退款 please"},
    "nodes": {"llm_1": {"output": "{{ 7 * 7 }}"}},
}


def test_single_expression_keeps_its_type() -> None:
    assert render("{{ input.items }}", CTX) == [1, 2, 3]
    assert render("  {{ input.n * 2 }} ", CTX) == 14
    assert render("n={{ input.n }}", CTX) == "n=7"
    assert render({"a": ["{{ input.n }}"]}, CTX) == {"a": [7]}


def test_node_output_is_data_not_a_template() -> None:
    assert render("{{ nodes.llm_1.output }}", CTX) == "{{ 7 * 7 }}"
    assert render("x {{ nodes.llm_1.output }}", CTX) == "x {{ 7 * 7 }}"


def test_expressions() -> None:
    assert evaluate("input.n > 5", CTX) is True
    assert evaluate("'退款' in input.text", CTX) is True
    assert evaluate("input.missing", CTX) is None


@pytest.mark.parametrize(
    "attack",
    [
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ input.__class__.__init__.__globals__ }}",
        "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
        "{{ lipsum.__globals__['os'].popen('id').read() }}",
        "{{ self.__init__.__globals__.__builtins__ }}",
        "{{ config.items() }}",
        "{{ request.application.__globals__ }}",
        "{{ ().__class__.__bases__[0].__subclasses__() }}",
        "{% for c in [].__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
        "{{ input.items.append(4) }}",
        "{{ range(10**9) | list }}",
        "{{ 'x' * 10**9 }}",
        "{{ 9 ** 9 ** 9 }}",
    ],
)
def test_sandbox_escapes_fail(attack: str) -> None:
    try:
        value = render(attack, CTX)
    except TemplateError:
        return
    text = str(value)
    assert "subclasses" not in text and "<class" not in text and "uid=" not in text
    assert CTX["input"]["items"] == [1, 2, 3]


def test_oversized_template_is_refused() -> None:
    with pytest.raises(TemplateError, match="limit"):
        render("{{ 1 }}" + "x" * 200_000, CTX)


def test_referenced_nodes() -> None:
    assert referenced_nodes("{{ nodes.a.output }} {{ nodes['b-2'].output }} {{ input.nodes }}") == {
        "a",
        "b-2",
    }
