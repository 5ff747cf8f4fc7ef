"""Structural validation and traversal of workflow graphs.

One validator serves the generator (before a generated workflow is stored), the gateway
(when a client saves one) and the executor (which trusts only validated graphs).
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass

from .contracts import (
    ERROR_HANDLE,
    LOOP_BODY_HANDLE,
    ConditionNode,
    Connection,
    LoopNode,
    Node,
    Workflow,
)
from .templating import TemplateError, check_syntax, referenced_nodes, undeclared_names


@dataclass(frozen=True)
class GraphIssue:
    message: str
    node_id: str | None = None

    def __str__(self) -> str:
        return f"node {self.node_id!r}: {self.message}" if self.node_id else self.message


class GraphValidationError(ValueError):
    def __init__(self, issues: list[GraphIssue]) -> None:
        self.issues = issues
        super().__init__("; ".join(str(i) for i in issues))


class Graph:
    """Adjacency of a workflow, with loop back-edges (body node -> its loop) set apart."""

    def __init__(self, workflow: Workflow) -> None:
        self.workflow = workflow
        self.nodes: dict[str, Node] = {n.id: n for n in workflow.nodes}
        self.outgoing: dict[str, list[Connection]] = defaultdict(list)
        self.incoming: dict[str, list[Connection]] = defaultdict(list)
        self.loop_of: dict[str, str] = {}
        for n in workflow.nodes:
            if isinstance(n, LoopNode):
                for body_id in n.config.body:
                    self.loop_of.setdefault(body_id, n.id)
        for c in workflow.connections:
            if c.source in self.nodes and c.target in self.nodes and not self.is_back_edge(c):
                self.outgoing[c.source].append(c)
                self.incoming[c.target].append(c)

    def is_back_edge(self, c: Connection) -> bool:
        loop_id = self.loop_of.get(c.source)
        return loop_id is not None and c.target == loop_id

    def successors(self, node_id: str) -> list[str]:
        return [c.target for c in self.outgoing.get(node_id, [])]

    def entry_nodes(self) -> list[str]:
        return [n.id for n in self.workflow.nodes if n.type == "input"]

    def reachable_from(self, starts: Iterable[str]) -> set[str]:
        seen: set[str] = set()
        queue = deque(starts)
        while queue:
            nid = queue.popleft()
            if nid in seen:
                continue
            seen.add(nid)
            queue.extend(self.successors(nid))
        return seen

    def ancestors(self, node_id: str) -> set[str]:
        seen: set[str] = set()
        queue = deque(c.source for c in self.incoming.get(node_id, []))
        while queue:
            nid = queue.popleft()
            if nid in seen:
                continue
            seen.add(nid)
            queue.extend(c.source for c in self.incoming.get(nid, []))
            # a body node may read what its loop's ancestors produced
            if nid in self.loop_of:
                queue.append(self.loop_of[nid])
        if node_id in self.loop_of:
            loop_id = self.loop_of[node_id]
            seen.add(loop_id)
            seen |= self.ancestors(loop_id)
        return seen

    def topological_order(self) -> list[str]:
        """Kahn's algorithm; raises GraphValidationError naming the nodes on a cycle."""
        indegree = {nid: 0 for nid in self.nodes}
        for edges in self.outgoing.values():
            for c in edges:
                indegree[c.target] += 1
        queue = deque(nid for nid in self.nodes if indegree[nid] == 0)
        order: list[str] = []
        while queue:
            nid = queue.popleft()
            order.append(nid)
            for succ in self.successors(nid):
                indegree[succ] -= 1
                if indegree[succ] == 0:
                    queue.append(succ)
        if len(order) != len(self.nodes):
            cyclic = sorted(nid for nid, d in indegree.items() if d > 0)
            raise GraphValidationError(
                [GraphIssue(f"cycle outside a loop through {', '.join(cyclic)}", cyclic[0])]
            )
        return order


def _templates_of(node: Node) -> list[tuple[str, bool]]:
    """(source, is_expression) of every template-bearing config field of a node."""
    found: list[tuple[str, bool]] = []

    def walk(value: object) -> None:
        if isinstance(value, str):
            if "{{" in value or "{%" in value:
                found.append((value, False))
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    cfg = node.config
    if isinstance(node, ConditionNode):
        if cfg.expression:  # type: ignore[union-attr]
            found.append((cfg.expression, True))  # type: ignore[union-attr]
        for case in cfg.cases or []:  # type: ignore[union-attr]
            found.append((case.when, True))
        if cfg.input:  # type: ignore[union-attr]
            walk(cfg.input)  # type: ignore[union-attr]
    elif isinstance(node, LoopNode):
        if node.config.items:
            walk(node.config.items)
        if node.config.condition:
            found.append((node.config.condition, True))
    else:
        walk(cfg.model_dump(exclude_none=True))
    return found


def unknown_template_names(node: Node) -> set[str]:
    """Names a node's templates and expressions read that a run never provides."""
    names: set[str] = set()
    for source, is_expr in _templates_of(node):
        names |= undeclared_names(source, expression=is_expr)
    return names


def validate_workflow(workflow: Workflow) -> None:
    """Raise GraphValidationError listing every structural problem found."""
    issues: list[GraphIssue] = []
    if not workflow.nodes:
        raise GraphValidationError([GraphIssue("a workflow needs at least one node")])

    ids: set[str] = set()
    for n in workflow.nodes:
        if n.id in ids:
            issues.append(GraphIssue("duplicate node id", n.id))
        ids.add(n.id)
    conn_ids: set[str] = set()
    for c in workflow.connections:
        if c.id in conn_ids:
            issues.append(GraphIssue(f"duplicate connection id {c.id!r}"))
        conn_ids.add(c.id)
        for end in (c.source, c.target):
            if end not in ids:
                issues.append(GraphIssue(f"connection {c.id!r} refers to a missing node", end))
        if c.source == c.target:
            issues.append(GraphIssue(f"connection {c.id!r} connects the node to itself", c.source))
    if issues:
        raise GraphValidationError(issues)

    graph = Graph(workflow)
    for n in workflow.nodes:
        handles = {c.source_handle for c in graph.outgoing.get(n.id, [])}
        if isinstance(n, ConditionNode):
            allowed = {*n.config.handles(), ERROR_HANDLE}
            for h in handles:
                if h not in allowed:
                    issues.append(
                        GraphIssue(
                            f"branch {h!r} is not one of the condition's handles {sorted(allowed)}",
                            n.id,
                        )
                    )
        if isinstance(n, LoopNode):
            body = n.config.body
            for b in body:
                if b not in ids:
                    issues.append(GraphIssue(f"loop body names a missing node {b!r}", n.id))
                elif b == n.id:
                    issues.append(GraphIssue("a loop cannot be in its own body", n.id))
            body_targets = [
                c.target
                for c in graph.outgoing.get(n.id, [])
                if c.source_handle == LOOP_BODY_HANDLE
            ]
            members = set(body) | {n.id}
            for b in body:
                for c in graph.incoming.get(b, []):
                    if c.source not in members:
                        issues.append(
                            GraphIssue(
                                f"the loop body of {n.id!r} is not a subgraph: "
                                f"{c.source!r} outside it connects into it",
                                b,
                            )
                        )
                for c in graph.outgoing.get(b, []):
                    if c.target not in members:
                        issues.append(
                            GraphIssue(
                                f"the loop body of {n.id!r} is not a subgraph: it connects "
                                f"out to {c.target!r}; continue after the loop from the loop",
                                b,
                            )
                        )
            if body and body_targets != [body[0]]:
                issues.append(
                    GraphIssue(
                        f"the loop must connect to its first body node {body[0]!r} "
                        "with handle 'body'",
                        n.id,
                    )
                )
    if issues:
        raise GraphValidationError(issues)

    graph.topological_order()  # raises on a cycle

    inputs = graph.entry_nodes()
    if not inputs:
        raise GraphValidationError([GraphIssue("a workflow needs an input node")])
    reachable = graph.reachable_from(inputs)
    for n in workflow.nodes:
        if n.id not in reachable:
            issues.append(GraphIssue("not reachable from an input node", n.id))
    if not any(n.type == "output" and n.id in reachable for n in workflow.nodes):
        issues.append(GraphIssue("no output node is reachable from the input"))

    for n in workflow.nodes:
        upstream: set[str] | None = None
        for source, is_expr in _templates_of(n):
            try:
                check_syntax(source, expression=is_expr)
            except TemplateError as exc:
                issues.append(GraphIssue(str(exc), n.id))
                continue
            refs = referenced_nodes(source)
            if refs:
                upstream = graph.ancestors(n.id) if upstream is None else upstream
                for ref in sorted(refs - upstream):
                    issues.append(
                        GraphIssue(
                            f"template reads nodes.{ref}, which is not upstream of this node", n.id
                        )
                    )
    if issues:
        raise GraphValidationError(issues)
