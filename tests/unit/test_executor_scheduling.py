"""Scheduling decisions of the executor, driven through `WorkflowExecutor` without any
bus or store: each test feeds runner results and checks what it dispatches, skips and
emits."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from pilot_executor.engine import Step, WorkflowExecutor
from pilot_executor.scheduler import decide
from pilot_executor.state import ExecutionState
from pilot_shared.contracts import Execution, NodeError, NodeResult, NodeTask, Usage, Workflow
from pilot_shared.graph import validate_workflow


def make_workflow(
    nodes: list[dict[str, Any]], edges: list[tuple[str, str, str | None]]
) -> Workflow:
    wf = Workflow.model_validate(
        {
            "id": "wf",
            "nodes": nodes,
            "connections": [
                {"id": f"c{i}", "source": s, "target": t, "source_handle": h}
                for i, (s, t, h) in enumerate(edges)
            ],
        }
    )
    validate_workflow(wf)
    return wf


def node(node_id: str, type_: str = "llm", **extra: Any) -> dict[str, Any]:
    configs: dict[str, dict[str, Any]] = {
        "input": {},
        "llm": {"prompt": "hi"},
        "output": {},
        "condition": {"expression": "input.n > 5"},
        "api": {"url": "https://example.com"},
    }
    return {"id": node_id, "type": type_, "config": configs[type_], **extra}


def start(wf: Workflow, input_data: dict[str, Any] | None = None) -> tuple[WorkflowExecutor, Step]:
    execution = Execution(id="e1", workflow_id=wf.id, input_data=input_data or {})
    executor = WorkflowExecutor(ExecutionState.build(execution, wf), rng=random.Random(7))
    return executor, executor.start()


def complete(
    executor: WorkflowExecutor, task: NodeTask, output: Any = "ok", handle: str | None = None
) -> Step:
    return executor.on_result(
        NodeResult(
            task_id=task.task_id,
            execution_id="e1",
            node_id=task.node.id,
            attempt=task.attempt,
            status="completed",
            output=output,
            handle=handle,
            duration_ms=5,
            usage=Usage(prompt_tokens=1, completion_tokens=2, cost_usd=0.001),
        )
    )


def fail(executor: WorkflowExecutor, task: NodeTask, *, retryable: bool = False) -> Step:
    return executor.on_result(
        NodeResult(
            task_id=task.task_id,
            execution_id="e1",
            node_id=task.node.id,
            attempt=task.attempt,
            status="failed",
            error=NodeError(kind="provider", message="boom", retryable=retryable),
        )
    )


def dispatched(step: Step) -> list[str]:
    return sorted(t.node.id for t in step.tasks)


def types(step: Step) -> list[str]:
    return [e.type for e in step.events]


def test_linear_runs_one_node_after_another() -> None:
    wf = make_workflow(
        [node("in", "input"), node("llm"), node("out", "output")],
        [("in", "llm", None), ("llm", "out", None)],
    )
    ex, step = start(wf, {"q": "x"})
    assert types(step) == ["execution.started", "node.started"]
    assert dispatched(step) == ["in"]
    assert step.tasks[0].task_id == "e1:in:1"
    assert step.tasks[0].context == {"input": {"q": "x"}, "nodes": {}}

    step = complete(ex, step.tasks[0], {"q": "x"})
    assert dispatched(step) == ["llm"]
    assert step.tasks[0].context["nodes"] == {"in": {"output": {"q": "x"}}}

    step = complete(ex, step.tasks[0], "answer")
    assert dispatched(step) == ["out"]
    assert list(step.tasks[0].context["nodes"]) == ["in", "llm"]  # nearest upstream last

    step = complete(ex, step.tasks[0], "final")
    assert types(step) == ["node.completed", "execution.completed"]
    assert ex.finished and ex.execution.status == "completed"
    assert ex.execution.output == "final"
    assert step.events[-1].data["output"] == "final"
    assert ex.execution.usage.prompt_tokens == 3  # three results, one token each
    assert step.fields["status"] == "completed"
    assert step.fields["node_states.out"]["status"] == "completed"


def test_parallel_fan_out_dispatches_together_and_join_waits_for_both() -> None:
    wf = make_workflow(
        [node("in", "input"), node("a"), node("b"), node("join"), node("out", "output")],
        [
            ("in", "a", None),
            ("in", "b", None),
            ("a", "join", None),
            ("b", "join", None),
            ("join", "out", None),
        ],
    )
    ex, step = start(wf)
    step = complete(ex, step.tasks[0])
    assert dispatched(step) == ["a", "b"]
    a, b = sorted(step.tasks, key=lambda t: t.node.id)
    assert dispatched(complete(ex, b)) == []  # join still waits for a
    step = complete(ex, a)
    assert dispatched(step) == ["join"]
    assert set(step.tasks[0].context["nodes"]) == {"in", "a", "b"}


def test_condition_routes_and_skips_the_branch_not_taken() -> None:
    wf = make_workflow(
        [
            node("in", "input"),
            node("cond", "condition"),
            node("yes"),
            node("yes_out", "output"),
            node("no"),
            node("no_more"),
            node("no_out", "output"),
        ],
        [
            ("in", "cond", None),
            ("cond", "yes", "true"),
            ("yes", "yes_out", None),
            ("cond", "no", "false"),
            ("no", "no_more", None),
            ("no_more", "no_out", None),
        ],
    )
    ex, step = start(wf, {"n": 9})
    step = complete(ex, step.tasks[0])
    step = complete(ex, step.tasks[0], True, handle="true")
    assert dispatched(step) == ["yes"]
    skipped = [e.node_id for e in step.events if e.type == "node.skipped"]
    assert skipped == ["no", "no_more", "no_out"]  # propagated down the whole branch
    assert all(ex.state.node_state(n).status == "skipped" for n in skipped)
    step = complete(ex, step.tasks[0])
    step = complete(ex, step.tasks[0], "done")
    assert ex.execution.status == "completed" and ex.execution.output == "done"


def test_join_after_a_condition_runs_once_the_taken_branch_is_done() -> None:
    wf = make_workflow(
        [
            node("in", "input"),
            node("cond", "condition"),
            node("a"),
            node("b"),
            node("join"),
            node("out", "output"),
        ],
        [
            ("in", "cond", None),
            ("cond", "a", "true"),
            ("cond", "b", "false"),
            ("a", "join", None),
            ("b", "join", None),
            ("join", "out", None),
        ],
    )
    ex, step = start(wf, {"n": 1})
    step = complete(ex, step.tasks[0])
    step = complete(ex, step.tasks[0], False, handle="false")
    assert dispatched(step) == ["b"]
    assert [e.node_id for e in step.events if e.type == "node.skipped"] == ["a"]
    step = complete(ex, step.tasks[0])
    assert dispatched(step) == ["join"]
    assert set(step.tasks[0].context["nodes"]) == {"in", "cond", "b"}


def test_decide_is_a_pure_function_of_the_states() -> None:
    wf = make_workflow(
        [node("in", "input"), node("cond", "condition"), node("a"), node("out", "output")],
        [("in", "cond", None), ("cond", "a", "true"), ("a", "out", None), ("cond", "out", "false")],
    )
    state = ExecutionState.build(Execution(id="e", workflow_id="wf"), wf)
    assert decide(state.graph, state.order, {}).ready == ["in"]
    from pilot_shared.contracts import NodeState

    states = {
        "in": NodeState(status="completed"),
        "cond": NodeState(status="completed", handle="false"),
    }
    decision = decide(state.graph, state.order, states)
    # `out` has a taken edge from cond and its other source `a` is skipped in the same pass
    assert decision.skipped == ["a"] and decision.ready == ["out"]


def test_retryable_failure_retries_with_backoff_then_succeeds() -> None:
    retry = {"max_attempts": 3, "initial_delay_ms": 500, "multiplier": 2.0, "jitter": False}
    wf = make_workflow(
        [node("in", "input"), node("llm", retry=retry), node("out", "output")],
        [("in", "llm", None), ("llm", "out", None)],
    )
    ex, step = start(wf)
    task = complete(ex, step.tasks[0]).tasks[0]
    step = fail(ex, task, retryable=True)
    assert types(step) == ["node.retrying"]
    assert step.events[0].data["attempt"] == 1 and step.events[0].data["delay_ms"] == 500
    assert [(r.node_id, r.failed_attempt, r.delay_ms) for r in step.retries] == [("llm", 1, 500)]
    assert ex.state.node_state("llm").status == "retrying"
    assert fail(ex, task, retryable=True).empty  # a redelivered result changes nothing

    step = ex.on_retry_due("llm", 1)
    assert step.tasks[0].task_id == "e1:llm:2" and step.tasks[0].attempt == 2
    assert ex.on_retry_due("llm", 1).empty  # a second timer for the same retry is a no-op
    step = fail(ex, step.tasks[0], retryable=True)
    assert step.events[0].data["delay_ms"] == 1000
    step = complete(ex, ex.on_retry_due("llm", 2).tasks[0], "third time")
    assert dispatched(step) == ["out"]
    assert ex.state.node_state("llm").attempt == 3


def test_jittered_backoff_stays_within_the_policy() -> None:
    from pilot_executor.failure import backoff_ms
    from pilot_shared.contracts import RetryPolicy

    policy = RetryPolicy(initial_delay_ms=1000, multiplier=2, max_delay_ms=3000, jitter=True)
    rng = random.Random(1)
    assert all(500 <= backoff_ms(policy, 1, rng) <= 1000 for _ in range(50))
    assert all(1500 <= backoff_ms(policy, 5, rng) <= 3000 for _ in range(50))


def test_a_provider_retry_after_stretches_the_backoff() -> None:
    from pilot_executor.failure import RetryLater, plan_failure
    from pilot_shared.contracts import NODE_ADAPTER

    llm = NODE_ADAPTER.validate_python(
        {"id": "a", "type": "llm", "retry": {"max_attempts": 3, "initial_delay_ms": 100}}
    )
    rate_limited = NodeError(kind="provider", message="429", retryable=True, retry_after_s=7)
    plain = NodeError(kind="provider", message="503", retryable=True)
    rng = random.Random(1)
    assert plan_failure(llm, 1, rate_limited, has_error_branch=False, rng=rng) == RetryLater(7000)
    action = plan_failure(llm, 1, plain, has_error_branch=False, rng=rng)
    assert isinstance(action, RetryLater) and action.delay_ms <= 100


def test_non_retryable_failure_fails_the_execution_and_cancels_the_rest() -> None:
    wf = make_workflow(
        [
            node("in", "input"),
            node("a", retry={"max_attempts": 5}),
            node("b"),
            node("out", "output"),
        ],
        [("in", "a", None), ("in", "b", None), ("a", "out", None), ("b", "out", None)],
    )
    ex, step = start(wf)
    step = complete(ex, step.tasks[0])
    a, b = sorted(step.tasks, key=lambda t: t.node.id)
    step = fail(ex, a, retryable=False)
    assert types(step) == ["node.failed", "execution.failed"]
    assert ex.execution.status == "failed"
    assert ex.execution.error == "node 'a' failed: boom"
    assert ex.state.node_state("b").status == "cancelled"
    assert complete(ex, b).empty  # results after the end change nothing


def test_on_error_continue_uses_the_default_output() -> None:
    wf = make_workflow(
        [
            node("in", "input"),
            node("llm", on_error={"strategy": "continue", "default_output": "n/a"}),
            node("out", "output"),
        ],
        [("in", "llm", None), ("llm", "out", None)],
    )
    ex, step = start(wf)
    step = fail(ex, complete(ex, step.tasks[0]).tasks[0])
    assert types(step) == ["node.completed", "node.started"]
    assert step.events[0].data["output"] == "n/a" and step.events[0].data["on_error"] == "continue"
    assert step.tasks[0].context["nodes"]["llm"] == {"output": "n/a"}


def test_condition_that_fails_with_continue_takes_its_default_branch() -> None:
    wf = make_workflow(
        [
            node("in", "input"),
            {
                "id": "cond",
                "type": "condition",
                "on_error": {"strategy": "continue"},
                "config": {
                    "cases": [{"handle": "vip", "when": "input.vip"}],
                    "default_handle": "other",
                },
            },
            node("vip"),
            node("other"),
            node("out", "output"),
        ],
        [
            ("in", "cond", None),
            ("cond", "vip", "vip"),
            ("cond", "other", "other"),
            ("vip", "out", None),
            ("other", "out", None),
        ],
    )
    ex, step = start(wf)
    step = fail(ex, complete(ex, step.tasks[0]).tasks[0])
    assert dispatched(step) == ["other"]


def test_error_branch_takes_only_the_error_connections() -> None:
    wf = make_workflow(
        [
            node("in", "input"),
            node("llm", on_error={"strategy": "error_branch"}),
            node("ok_out", "output"),
            node("apology"),
            node("err_out", "output"),
        ],
        [
            ("in", "llm", None),
            ("llm", "ok_out", None),
            ("llm", "apology", "error"),
            ("apology", "err_out", None),
        ],
    )
    ex, step = start(wf)
    step = fail(ex, complete(ex, step.tasks[0]).tasks[0])
    assert types(step) == ["node.failed", "node.skipped", "node.started"]
    assert dispatched(step) == ["apology"]
    assert step.tasks[0].context["nodes"]["llm"]["error"]["message"] == "boom"
    step = complete(ex, step.tasks[0], "sorry")
    step = complete(ex, step.tasks[0], "sorry")
    assert ex.execution.status == "completed" and ex.execution.output == "sorry"


def test_several_output_nodes_give_an_output_per_node() -> None:
    wf = make_workflow(
        [node("in", "input"), node("o1", "output"), node("o2", "output")],
        [("in", "o1", None), ("in", "o2", None)],
    )
    ex, step = start(wf)
    step = complete(ex, step.tasks[0])
    o1, o2 = sorted(step.tasks, key=lambda t: t.node.id)
    complete(ex, o1, "one")
    complete(ex, o2, "two")
    assert ex.execution.output == {"o1": "one", "o2": "two"}


def test_chunks_of_the_current_attempt_become_events() -> None:
    from pilot_shared.contracts import NodeChunk

    wf = make_workflow([node("in", "input"), node("out", "output")], [("in", "out", None)])
    ex, step = start(wf)
    chunk = NodeChunk(task_id="t", execution_id="e1", node_id="in", attempt=1, index=0, text="hé")
    step = ex.on_chunk(chunk)
    assert types(step) == ["node.chunk"] and step.events[0].data == {
        "text": "hé",
        "index": 0,
        "attempt": 1,
    }
    assert ex.on_chunk(chunk.model_copy(update={"attempt": 2})).empty
    assert ex.on_chunk(chunk.model_copy(update={"node_id": "out"})).empty  # not running


def test_a_rebuilt_executor_resumes_and_recovers_lost_events() -> None:
    wf = make_workflow(
        [node("in", "input"), node("llm", retry={"max_attempts": 2}), node("out", "output")],
        [("in", "llm", None), ("llm", "out", None)],
    )
    ex, step = start(wf)
    all_events = list(step.events)
    step = complete(ex, step.tasks[0])
    all_events += step.events
    step = fail(ex, step.tasks[0], retryable=True)
    # the retrying step's events were lost in a crash; a new executor loads the document
    stored = Execution.model_validate(ex.execution.model_dump(mode="json"))
    again = WorkflowExecutor(ExecutionState.build(stored, wf))
    lost = again.lost_events(all_events)
    assert [(e.type, e.node_id) for e in lost] == [("node.retrying", "llm")]
    assert lost[0].data["recovered"] is True
    # its retry timer died with the old process: it is set again for the delay that
    # remains (next_attempt_at is stored with the node), or dispatched now once due
    due = stored.node_states["llm"].next_attempt_at
    assert due is not None
    step = again.start()
    if step.tasks:
        assert [t.task_id for t in step.tasks] == ["e1:llm:2"]
    else:
        assert [(r.node_id, r.failed_attempt) for r in step.retries] == [("llm", 1)]
        late = WorkflowExecutor(
            ExecutionState.build(
                Execution.model_validate(ex.execution.model_dump(mode="json")), wf
            ),
            clock=lambda: due + timedelta(milliseconds=1),
        )
        assert [t.task_id for t in late.start().tasks] == ["e1:llm:2"]
