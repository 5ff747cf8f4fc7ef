"""Horizontal scale: two executor processes and three api runner processes share 100
executions. All complete, each node ran once (counted at the HTTP server), and both
executors committed part of the work (their own counters, logged at shutdown)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from pilot_shared.repositories import NodeRunRepository
from pilot_shared.settings import PilotSettings
from pilot_shared.store import Document
from tests.integration.test_durability import Fleet, two_calls
from tests.support.fleet import (
    assert_gap_free,
    executor_process,
    runner_process,
    submit,
    wait_finished,
)
from tests.support.gauge_server import GaugeServer

EXECUTIONS = 100


@pytest.fixture
def fleet() -> Iterator[Fleet]:
    f = Fleet()
    try:
        yield f
    finally:
        f.stop()


async def test_two_executors_and_three_runners_share_100_executions(
    settings: PilotSettings, db: AsyncDatabase[Document], tmp_path: Path, fleet: Fleet
) -> None:
    with GaugeServer(delay_s=0.02).serve() as gauge:
        fleet.start(runner_process("runner-io", settings, tmp_path, "input,output"))
        for i in range(3):
            fleet.start(runner_process(f"runner-api-{i}", settings, tmp_path, "api"))
        executors = [
            fleet.start(executor_process(f"executor-{i}", settings, tmp_path)) for i in range(2)
        ]
        keys = list(range(EXECUTIONS))
        ids = await submit(settings, db, two_calls(gauge.url), [{"k": k} for k in keys])
        found = await wait_finished(db, ids, 120)
        for proc in executors:
            proc.stop()  # SIGTERM: each logs what it did
    assert set(found.values()) == {"completed"}
    for eid in ids:
        await assert_gap_free(db, eid)
        runs = await NodeRunRepository(db).list(eid)
        assert sorted(r.node_id for r in runs) == ["a", "b", "input_1", "output_1"]
    expected = {f"/k/{k}/{node}" for k in keys for node in ("a", "b")}
    assert set(gauge.hits) == expected
    assert set(gauge.hits.values()) == {1}  # each api node's call happened once
    work = []
    for proc in executors:
        text = proc.log_path.read_text()
        match = re.search(r"executor stats: steps_applied=(\d+) conflicts=(\d+)", text)
        assert match, text[-2000:]
        work.append((int(match.group(1)), int(match.group(2))))
    print(f"executor (steps applied, conflicts): {work}")
    assert all(steps > 0 for steps, _ in work), work  # both executors did part of the work
