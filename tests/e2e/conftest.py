"""`pilot up` as a user starts it: a child process on a free port and a data dir."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from pilot.embedded import free_port


@dataclass
class PilotUp:
    base_url: str
    data_dir: Path
    proc: subprocess.Popen[bytes]
    log_path: Path
    started_in_s: float

    def stop(self) -> int:
        """Ctrl-C, as a user would; returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        return self.proc.returncode

    @property
    def admin_key(self) -> str:
        """Written by `pilot up` on its first start, as the README says."""
        return (self.data_dir / "admin.key").read_text().strip()

    def client(self, **kwargs: Any) -> httpx.AsyncClient:
        """An HTTP client sending the admin key, as the README's curl lines do."""
        return httpx.AsyncClient(
            base_url=self.base_url,
            timeout=kwargs.pop("timeout", 60),
            headers={"Authorization": f"Bearer {self.admin_key}"},
            **kwargs,
        )

    def children(self) -> dict[str, int]:
        """pid of each service child, by the module it runs."""
        found: dict[str, int] = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                ppid = int(stat.rsplit(")", 1)[1].split()[1])
                cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            except (OSError, IndexError, ValueError):
                continue
            if ppid == self.proc.pid and b"-m" in cmdline:
                found[cmdline[cmdline.index(b"-m") + 1].decode()] = int(entry.name)
        return found


def start_pilot_up(
    data_dir: Path,
    port: int | None = None,
    timeout_s: float = 90,
    extra_env: dict[str, str] | None = None,
) -> PilotUp:
    port = port or free_port()
    log_path = data_dir.parent / f"pilot-up-{port}.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PILOT_")}
    env.update(extra_env or {})
    t0 = time.monotonic()
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "pilot.cli",
                "up",
                "--port",
                str(port),
                "--data-dir",
                str(data_dir),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"pilot up exited with {proc.returncode}:\n{log_path.read_text()[-4000:]}"
            )
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return PilotUp(base, data_dir, proc, log_path, time.monotonic() - t0)
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise TimeoutError(f"pilot up not ready after {timeout_s}s:\n{log_path.read_text()[-4000:]}")


@pytest.fixture(scope="module")
def pilot_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pilot-up") / "data"


@pytest.fixture(scope="module")
def pilot_up(pilot_data_dir: Path) -> Iterator[PilotUp]:
    up = start_pilot_up(pilot_data_dir)
    try:
        yield up
    finally:
        up.stop()
