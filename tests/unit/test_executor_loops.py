"""Loops and limits in the pure engine: no bus, no store."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from pilot_executor.engine import Limits, WorkflowExecutor, scope_of
from pilot_executor.state import ExecutionState
from pilot_shared.contracts import Execution, NodeTask, Workflow, utcnow
from tests.unit.test_executor_scheduling import complete, make_workflow, node


def loop_wf(config: dict[str, Any]) -> Workflow:
    return make_workflow(
        [
            node("in", "input"),
            {"id": "loop", "type": "loop", "config": {"body": ["body"], **config}},
            node("body", "llm"),
            node("out", "output"),
        ],
        [("in", "loop", None), ("loop", "body", "body"), ("loop", "out", None)],
    )


def run_input(
    wf: Workflow, data: dict[str, Any], limits: Limits | None = None
) -> tuple[WorkflowExecutor, list[NodeTask]]:
    execution = Execution(id="e1", workflow_id=wf.id, input_data=data)
    ex = WorkflowExecutor(ExecutionState.build(execution, wf), rng=random.Random(1), limits=limits)
    step = ex.start()
    step = complete(ex, step.tasks[0], data)
    return ex, step.tasks


def test_for_each_caps_concurrency_and_keeps_item_order() -> None:
    ex, tasks = run_input(
        loop_wf({"items": "{{ input.xs }}", "concurrency": 2}), {"xs": [10, 20, 30, 40]}
    )
    assert [scope_of(t.task_id) for t in tasks] == [("loop", 0), ("loop", 1)]
    assert [t.context["item"] for t in tasks] == [10, 20]
    assert tasks[1].context["loop"]["index"] == 2 and tasks[1].context["loop"]["index0"] == 1
    # the second iteration finishes first: the third starts, order of results is by item
    step = complete(ex, tasks[1], "r20")
    assert [t.context["item"] for t in step.tasks] == [30]
    pending = [tasks[0], step.tasks[0]]
    step = complete(ex, pending[1], "r30")
    assert [t.context["item"] for t in step.tasks] == [40]
    last = step.tasks[0]
    complete(ex, pending[0], "r10")
    step = complete(ex, last, "r40")
    assert ex.state.node_state("loop").output == ["r10", "r20", "r30", "r40"]
    assert [t.node.id for t in step.tasks] == ["out"]
    assert step.tasks[0].context["nodes"]["loop"]["output"] == ["r10", "r20", "r30", "r40"]


def test_while_runs_until_its_condition_fails() -> None:
    ex, tasks = run_input(loop_wf({"mode": "while", "condition": "loop.index0 < 2"}), {})
    outputs = []
    while tasks and tasks[0].node.id == "body":
        outputs.append(f"r{tasks[0].context['loop']['index0']}")
        tasks = complete(ex, tasks[0], outputs[-1]).tasks
    assert ex.state.node_state("loop").output == ["r0", "r1"]
    assert [t.node.id for t in tasks] == ["out"]


def test_limits_fail_with_a_clear_reason() -> None:
    ex, _ = run_input(
        loop_wf({"items": "{{ input.xs }}"}), {"xs": list(range(5))}, Limits(max_loop_iterations=3)
    )
    assert ex.execution.status == "failed"
    assert "5 items > the executor's max_loop_iterations=3" in (ex.execution.error or "")

    ex, _ = run_input(loop_wf({"items": "{{ input.xs }}"}), {"xs": "no list"})
    assert ex.execution.status == "failed"
    assert "must be a list" in (ex.execution.error or "")

    ex, _ = run_input(
        loop_wf({"items": "{{ input.xs }}", "concurrency": 4}), {"xs": [1] * 9}, Limits(max_steps=3)
    )
    assert ex.execution.status == "failed"
    assert ex.execution.error == "step limit exceeded: 3 node attempts ran (max_steps=3)"

    wf = loop_wf({"items": "{{ input.xs }}"})
    started = utcnow()
    execution = Execution(id="e1", workflow_id=wf.id, input_data={"xs": [1]})
    ex = WorkflowExecutor(
        ExecutionState.build(execution, wf),
        clock=lambda: started,
        limits=Limits(max_wall_time_s=1),
    )
    ex.start()
    late = WorkflowExecutor(
        ex.state, clock=lambda: started + timedelta(seconds=2), limits=Limits(max_wall_time_s=1)
    )
    late.check_deadline()
    assert late.execution.status == "failed"
    assert (late.execution.error or "").startswith("wall time limit exceeded")
