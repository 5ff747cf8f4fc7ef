"""Safety of executions on the real nats-server and store: template and expression
injection attempts never escape the sandbox (0 escapes), data containing template syntax
is never evaluated a second time, and bad graphs are rejected naming the node."""

from __future__ import annotations

import os
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from pilot_shared.contracts import Workflow
from pilot_shared.graph import GraphValidationError, validate_workflow
from pilot_shared.settings import PilotSettings
from pilot_shared.store import Document
from tests.integration.test_execution import assert_consistent, execute, services, workflow

INPUT = {"id": "input_1", "type": "input", "config": {}}

# what each attempt would reveal if it escaped
SECRET_ENV = "PILOT_TEST_SECRET_CANARY"
MARKERS = (
    "<class",
    "subprocess",
    "Popen",
    "root:x:0",
    "<module",
    "<built-in",
    "os.system",
    "_io.",
    "import ",
    "canary-value-",
)

TEMPLATE_ATTACKS = [
    "{{ ''.__class__.__mro__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ ''.__class__.__base__.__subclasses__() }}",
    "{{ input.__class__ }}",
    "{{ input.__init__.__globals__ }}",
    "{{ lipsum.__globals__.os.system('id') }}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{{ joiner.__init__.__globals__ }}",
    "{{ namespace.__init__.__globals__ }}",
    "{{ self._TemplateReference__context }}",
    "{{ config.items() }}",
    "{{ request.application.__globals__ }}",
    "{{ [].__class__.__base__.__subclasses__()[40]('/etc/passwd').read() }}",
    "{{ ().__class__.__bases__[0].__subclasses__() }}",
    "{{ input|attr('__class__') }}",
    "{{ input|attr('\\x5f\\x5fclass\\x5f\\x5f') }}",
    "{{ 'a'|format.__globals__ }}",
    "{% for c in [].__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
    "{% import 'os' as os %}{{ os }}",
    "{% include '/etc/passwd' %}",
    "{% extends '/etc/passwd' %}",
    "{{ range.__self__ }}",
    "{{ dict.__subclasses__ }}",
    "{{ ''.format.__self__.__class__ }}",
    "{{ (7*7)|string if false else nodes.__class__ }}",
]
EXPRESSION_ATTACKS = [
    "''.__class__.__mro__[1].__subclasses__()",
    "input.__class__.__init__.__globals__",
    "lipsum.__globals__['os'].system('id') == 0",
    "cycler.__init__.__globals__",
    "__import__('os').system('id')",
]


def _escaped(value: Any) -> bool:
    text = repr(value)
    return any(m in text for m in MARKERS)


async def test_injection_corpus_has_zero_escapes(
    settings: PilotSettings, db: AsyncDatabase[Document], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_ENV, "canary-value-1")
    os.environ[SECRET_ENV] = "canary-value-1"
    escapes: list[tuple[str, Any]] = []
    outcomes: dict[str, int] = {"rejected": 0, "failed": 0, "harmless": 0}
    async with services(settings) as app:
        for attack in TEMPLATE_ATTACKS + [f"{{{{ {e} }}}}" for e in EXPRESSION_ATTACKS]:
            wf = workflow(
                [INPUT, {"id": "output_1", "type": "output", "config": {"value": attack}}],
                [("input_1", "output_1", None)],
            )
            try:
                validate_workflow(wf)
            except GraphValidationError:
                outcomes["rejected"] += 1  # refused when saved: never runs
                continue
            eid, events = await execute(app, settings, db, wf, {"text": "hi"})
            execution = await assert_consistent(db, eid, events)
            if execution.status == "failed":
                outcomes["failed"] += 1
            else:
                outcomes["harmless"] += 1
            # 49 would mean `7*7` ran where it must not; only the output can show it
            if (
                _escaped(execution.output)
                or "49" in repr(execution.output)
                or _escaped([e.data.get("output") for e in events])
            ):
                escapes.append((attack, execution.output))
        for expression in EXPRESSION_ATTACKS:
            wf = workflow(
                [
                    INPUT,
                    {"id": "cond", "type": "condition", "config": {"expression": expression}},
                    {"id": "output_1", "type": "output", "config": {"value": "{{ 1 }}"}},
                ],
                [("input_1", "cond", None), ("cond", "output_1", "true")],
            )
            try:
                validate_workflow(wf)
            except GraphValidationError:
                outcomes["rejected"] += 1
                continue
            eid, events = await execute(app, settings, db, wf, {})
            execution = await assert_consistent(db, eid, events)
            outcomes["failed" if execution.status == "failed" else "harmless"] += 1
            if _escaped([e.data.get("output") for e in events]):
                escapes.append((expression, [e.data for e in events]))
    print(f"injection corpus: {outcomes}, escapes: {len(escapes)}")
    assert escapes == []


async def test_data_with_template_syntax_is_not_evaluated_twice(
    settings: PilotSettings, db: AsyncDatabase[Document]
) -> None:
    payloads = [
        "{{ 7*7 }}",
        "{% for x in range(3) %}{{ x }}{% endfor %}",
        "{{ ''.__class__.__mro__ }}",
        "{{ input.text }}",
    ]

    def echo_twice() -> Workflow:
        return workflow(
            [
                INPUT,
                {"id": "echo", "type": "output", "config": {"value": "{{ input.text }}"}},
                {
                    "id": "output_1",
                    "type": "output",
                    "config": {
                        "mapping": {
                            "again": "{{ nodes.echo.output }}",
                            "mixed": "got: {{ nodes.echo.output }}",
                        }
                    },
                },
            ],
            [("input_1", "echo", None), ("echo", "output_1", None)],
        )

    async with services(settings) as app:
        for payload in payloads:
            eid, events = await execute(app, settings, db, echo_twice(), {"text": payload})
            execution = await assert_consistent(db, eid, events)
            assert execution.status == "completed"
            assert execution.output["output_1"] == {"again": payload, "mixed": f"got: {payload}"}
            assert execution.output["echo"] == payload


def _bad(nodes: list[dict[str, Any]], edges: list[tuple[str, str, str | None]]) -> Workflow:
    return workflow(nodes, edges)


OUT = {"id": "output_1", "type": "output", "config": {"value": "{{ 1 }}"}}


def _api(node_id: str, url: str = "http://example.com") -> dict[str, Any]:
    return {"id": node_id, "type": "api", "config": {"url": url}}


@pytest.mark.parametrize(
    ("wf", "node", "words"),
    [
        (
            _bad(
                [INPUT, _api("a"), _api("b"), OUT],
                [
                    ("input_1", "a", None),
                    ("a", "b", None),
                    ("b", "a", None),
                    ("b", "output_1", None),
                ],
            ),
            "a",
            "cycle outside a loop",
        ),
        (
            _bad([INPUT, OUT], [("input_1", "output_1", None), ("input_1", "ghost", None)]),
            "ghost",
            "missing node",
        ),
        (
            _bad(
                [
                    INPUT,
                    {
                        "id": "loop_1",
                        "type": "loop",
                        "config": {"items": "{{ [1] }}", "body": ["inner"]},
                    },
                    _api("inner"),
                    OUT,
                ],
                [
                    ("input_1", "loop_1", None),
                    ("loop_1", "inner", "body"),
                    ("inner", "output_1", None),
                    ("loop_1", "output_1", None),
                ],
            ),
            "inner",
            "not a subgraph",
        ),
        (
            _bad(
                [INPUT, _api("a", "http://x/{{ nodes.b.output }}"), _api("b"), OUT],
                [
                    ("input_1", "a", None),
                    ("input_1", "b", None),
                    ("a", "output_1", None),
                    ("b", "output_1", None),
                ],
            ),
            "a",
            "not upstream",
        ),
    ],
    ids=["cycle", "missing-node", "loop-body-not-subgraph", "template-not-upstream"],
)
def test_bad_graphs_are_rejected_naming_the_node(wf: Workflow, node: str, words: str) -> None:
    with pytest.raises(GraphValidationError) as caught:
        validate_workflow(wf)
    message = str(caught.value)
    assert words in message
    assert f"'{node}'" in message or node in message
