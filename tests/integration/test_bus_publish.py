"""`publish_all` against a real nats-server: acks awaited, and a dropped connection
reported as such at once, not after the whole ack timeout (a restarted server never
sends the acks it owed, and the executor holds the execution's lock meanwhile)."""

from __future__ import annotations

import asyncio
import os
import signal
from types import SimpleNamespace
from typing import Any

import nats
import pytest

from pilot.embedded import ManagedProcess
from pilot_shared import subjects
from pilot_shared.bus import Outgoing, publish_all
from pilot_shared.contracts import NodeChunk


def chunk(i: int) -> Outgoing:
    message = NodeChunk(task_id="t", execution_id="e", node_id="n", index=i, text=f"piece {i}")
    return Outgoing(message, subjects.RESULTS, f"t:chunk:{i}")


async def test_every_publish_is_acked_in_order(nats_server_url: str) -> None:
    nc = await nats.connect(nats_server_url)
    try:
        broker: Any = SimpleNamespace(connection=nc)
        await publish_all(broker, [chunk(i) for i in range(5)])
        await publish_all(broker, [chunk(i) for i in range(5)])  # the same msg ids again
        js = nc.jetstream()
        info = await js.stream_info(subjects.stream_for(subjects.RESULTS).name)
        assert info.state.messages == 5  # the second round was deduplicated
        sub = await js.pull_subscribe(subjects.RESULTS, durable="probe")
        got = await sub.fetch(5, timeout=5)
        assert [NodeChunk.model_validate_json(m.data).index for m in got] == [0, 1, 2, 3, 4]
    finally:
        await nc.close()


async def test_a_dropped_connection_fails_the_wait_instead_of_timing_out(
    nats_server_url: str, nats_proc: ManagedProcess
) -> None:
    nc = await nats.connect(nats_server_url, max_reconnect_attempts=-1, reconnect_time_wait=0.2)
    assert nats_proc.proc is not None
    pid = nats_proc.proc.pid
    try:
        broker: Any = SimpleNamespace(connection=nc)
        os.kill(pid, signal.SIGSTOP)  # the server takes the publishes but answers nothing
        waiting = asyncio.create_task(publish_all(broker, [chunk(i) for i in range(3)]))
        await asyncio.sleep(0.3)
        assert not waiting.done()  # still waiting for its acks
        os.kill(pid, signal.SIGKILL)  # the connection drops; those acks will never come
        with pytest.raises(ConnectionError):
            await waiting
    finally:
        if nats_proc.proc.poll() is None:  # failed before the kill: do not leave it stopped
            os.kill(pid, signal.SIGKILL)
        await nc.close()
