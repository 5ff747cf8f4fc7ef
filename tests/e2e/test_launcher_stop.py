"""Stopping `pilot up`: every process it started is gone afterwards, even when the stop
signal comes twice (an impatient second Ctrl-C while it is shutting down)."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import start_pilot_up

pytestmark = pytest.mark.e2e


def descendants(pid: int) -> set[int]:
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        parents, frontier = frontier, set()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if ppid in parents:
                frontier.add(int(entry.name))
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_a_second_interrupt_during_shutdown_leaves_no_process_behind(tmp_path: Path) -> None:
    up = start_pilot_up(tmp_path / "data")
    started = descendants(up.proc.pid)
    names = {(Path("/proc") / str(p) / "cmdline").read_bytes() for p in started}
    assert any(b"nats-server" in n for n in names) and any(b"nx-27017" in n for n in names)
    up.proc.send_signal(signal.SIGINT)
    deadline = time.monotonic() + 30
    while "stopping πlot" not in up.log_path.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    up.proc.send_signal(signal.SIGINT)  # while the children are being stopped
    assert up.proc.wait(90) == 0
    left = {p for p in started if alive(p)}
    assert left == set(), [(Path("/proc") / str(p) / "cmdline").read_bytes() for p in left]
