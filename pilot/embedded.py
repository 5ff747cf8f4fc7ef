"""The embedded runtime: a nats-server with JetStream and an nx-27017 document store,
each a child process on a data directory. `pilot up` and the test fixtures both use it."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(
    port: int, timeout_s: float = 30.0, proc: subprocess.Popen[bytes] | None = None
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout_s}s")


def _binary(name: str) -> str:
    """The binary beside the running interpreter (the project venv) or on PATH."""
    candidate = Path(sys.executable).parent / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if not found:
        raise FileNotFoundError(f"{name} not found; run `make install`")
    return found


@dataclass
class ManagedProcess:
    name: str
    argv: list[str]
    log_path: Path
    port: int | None = None
    env: dict[str, str] | None = None
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self, wait_s: float = 30.0) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 (owned by the child for its lifetime)
        self.proc = subprocess.Popen(
            self.argv,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **(self.env or {})},
            start_new_session=True,  # Ctrl-C reaches the launcher, which stops us in order
        )
        log.close()
        if self.port is not None:
            wait_for_port(self.port, wait_s, self.proc)

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout_s: float = 10.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)


def nats_server(
    data_dir: Path, port: int | None = None, monitor_port: int | None = None
) -> ManagedProcess:
    port = port or free_port()
    argv = [
        _binary("nats-server"),
        "-a",
        "127.0.0.1",
        "-p",
        str(port),
        "-js",
        "-sd",
        str(data_dir / "nats"),
    ]
    if monitor_port:
        argv += ["-m", str(monitor_port)]
    return ManagedProcess("nats", argv, data_dir / "logs" / "nats.log", port=port)


def document_store(data_dir: Path, port: int | None = None) -> ManagedProcess:
    port = port or free_port()
    store_dir = data_dir / "store"
    store_dir.mkdir(parents=True, exist_ok=True)
    argv = [
        _binary("nx-27017"),
        "--data-dir",
        str(store_dir),
        "-p",
        str(port),
        "--log-file",
        str(data_dir / "logs" / "store.log"),
        "--pid-file",
        str(store_dir / "nx-27017.pid"),
    ]
    return ManagedProcess("store", argv, data_dir / "logs" / "store.out", port=port)


def nats_url(proc: ManagedProcess) -> str:
    return f"nats://127.0.0.1:{proc.port}"


def mongodb_url(proc: ManagedProcess) -> str:
    return f"mongodb://127.0.0.1:{proc.port}"
