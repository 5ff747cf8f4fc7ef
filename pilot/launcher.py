"""`pilot up`: the whole system on one machine.

Starts the embedded nats-server and nx-27017 (unless PILOT_NATS_URL / PILOT_MONGODB_URL
name external ones), then every service as its own child process, and supervises them: a
child that dies is reported with the tail of its log and restarted with a backoff. Ctrl-C
or SIGTERM stops the services first, then the bus and the store, so nothing is cut off
mid-write.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from .embedded import (
    ManagedProcess,
    document_store,
    free_port,
    mongodb_url,
    nats_server,
    nats_url,
)
from .users_cmd import clear_runtime, ensure_admin_key, write_runtime

console = Console(stderr=True)

# (name, python module) of every service, in start order: consumers before producers.
SERVICES: tuple[tuple[str, str], ...] = (
    ("planner", "pilot_planner"),
    ("generator", "pilot_generator"),
    ("executor", "pilot_executor"),
    ("runners", "pilot_runners"),
    ("gateway", "pilot_gateway"),
)
# The gateway serves /metrics on its API port; the others get PILOT_METRICS_PORT each.
API_SERVICE = "gateway"
RESTART_BACKOFF_S = (0.5, 1, 2, 5, 10)
STABLE_AFTER_S = 30  # a child up this long has its backoff reset


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _preferred_port(preferred: int) -> int | None:
    """The conventional port when it is free (so local tools find the bus), else any."""
    return preferred if _port_free(preferred) else None


@dataclass
class Supervised:
    proc: ManagedProcess
    restarts: int = 0
    started_at: float = field(default_factory=time.monotonic)

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.proc.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


class Launcher:
    def __init__(self, *, port: int, host: str, data_dir: Path) -> None:
        self.port = port
        self.host = host
        self.data_dir = data_dir.resolve()
        self.logs = self.data_dir / "logs"
        self.infra: list[Supervised] = []
        self.services: list[Supervised] = []
        self.env: dict[str, str] = {}
        self._stopping = False
        self.admin_key: str | None = None
        self.admin_key_path = self.data_dir / "admin.key"
        self.metrics_ports: dict[str, int] = {}
        self.targets_path = self.data_dir / "prometheus" / "targets.json"

    # -- start ---------------------------------------------------------------------------

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        nats_env = os.environ.get("PILOT_NATS_URL")
        store_env = os.environ.get("PILOT_MONGODB_URL")
        if not _port_free(self.port):
            raise SystemExit(f"port {self.port} is already in use; pass --port to choose another")
        steps = (0 if nats_env else 1) + (0 if store_env else 1) + len(SERVICES) + 1
        with Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as progress:
            task = progress.add_task("starting πlot", total=steps)
            if nats_env:
                bus_url = nats_env
            else:
                progress.update(task, description="starting nats-server (JetStream)")
                nats = nats_server(self.data_dir, port=_preferred_port(4222))
                nats.start()
                self.infra.append(Supervised(nats))
                bus_url = nats_url(nats)
                progress.advance(task)
            if store_env:
                db_url = store_env
            else:
                progress.update(task, description="starting the document store (nx-27017)")
                store = document_store(self.data_dir)
                store.start()
                self.infra.append(Supervised(store))
                db_url = mongodb_url(store)
                progress.advance(task)
            # Before the gateway starts: its first request may already need the admin.
            progress.update(task, description="checking the admin user")
            self.admin_key, self.admin_key_path = ensure_admin_key(db_url, self.data_dir)
            write_runtime(self.data_dir, {"mongodb_url": db_url, "nats_url": bus_url})
            self.env = {
                "PILOT_NATS_URL": bus_url,
                "PILOT_MONGODB_URL": db_url,
                "PILOT_DATA_DIR": str(self.data_dir),
                "PILOT_HOST": self.host,
                "PILOT_PORT": str(self.port),
                "PYTHONUNBUFFERED": "1",
            }
            for name, module in SERVICES:
                progress.update(task, description=f"starting {name}")
                env = dict(self.env)
                if name != API_SERVICE:
                    # Chosen once: a restarted child keeps its port, so the targets hold.
                    self.metrics_ports[name] = free_port()
                    env["PILOT_METRICS_PORT"] = str(self.metrics_ports[name])
                proc = ManagedProcess(
                    name, [sys.executable, "-m", module], self.logs / f"{name}.log", env=env
                )
                proc.start()
                self.services.append(Supervised(proc))
                progress.advance(task)
            self._write_targets()
            progress.update(task, description="waiting for the gateway to answer")
            self._wait_healthy(timeout_s=60)
            progress.advance(task)
        self._print_urls(bus_url, db_url)

    def _scrape_host(self) -> str:
        return "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host

    def _write_targets(self) -> None:
        """A Prometheus file_sd targets file, so a local Prometheus scrapes `pilot up`."""
        ports = {API_SERVICE: self.port, **self.metrics_ports}
        groups: list[dict[str, object]] = [
            {
                "targets": [f"{self._scrape_host()}:{port}"],
                "labels": {"job": "pilot", "service": name},
            }
            for name, port in ports.items()
        ]
        self._write_targets_file(groups)

    def _write_targets_file(self, groups: list[dict[str, object]]) -> None:
        self.targets_path.parent.mkdir(parents=True, exist_ok=True)
        # Replaced whole (Prometheus watches the file and must never read half of it).
        tmp = self.targets_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(groups, indent=2) + "\n")
        tmp.replace(self.targets_path)

    def _wait_healthy(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        url = f"http://{self.host}:{self.port}/readyz"
        while time.monotonic() < deadline:
            for s in self.services:
                if not s.proc.alive:
                    raise SystemExit(f"{s.proc.name} exited during start-up:\n{s.log_tail()}")
            try:
                if httpx.get(url, timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise SystemExit(f"the gateway did not become ready at {url} within {timeout_s:.0f}s")

    def _print_urls(self, bus_url: str, db_url: str) -> None:
        base = f"http://{self.host}:{self.port}"
        table = Table(title="πlot is up", show_header=False, title_justify="left")
        table.add_row("API", base)
        table.add_row("API docs", f"{base}/docs")
        table.add_row("Metrics", f"{base}/metrics")
        table.add_row(
            "Service metrics",
            ", ".join(f"{name} :{port}/metrics" for name, port in self.metrics_ports.items()),
        )
        table.add_row("Prometheus targets", str(self.targets_path))
        table.add_row(
            "NATS", bus_url + ("" if "PILOT_NATS_URL" not in os.environ else " (external)")
        )
        table.add_row(
            "Store", db_url + ("" if "PILOT_MONGODB_URL" not in os.environ else " (external)")
        )
        table.add_row("Data", str(self.data_dir))
        table.add_row("Logs", str(self.logs))
        table.add_row("Admin key", str(self.admin_key_path))
        console.print(table)
        if self.admin_key is not None:
            # Shown this once (the store keeps only its hash); also in the file above.
            console.print(f"Admin API key (first start): [bold]{self.admin_key}[/]")
            print(f"πlot admin API key: {self.admin_key}", flush=True)
        elif not self.admin_key_path.exists():
            console.print(
                f"[yellow]{self.admin_key_path} is missing[/]: `pilot users key admin "
                f"--data-dir {self.data_dir}` issues a new admin key"
            )
        console.print(f'Send it as: -H "Authorization: Bearer $(cat {self.admin_key_path})"')
        console.print("Press Ctrl-C to stop.")
        print(f"πlot gateway listening on {base}", flush=True)

    # -- supervise -----------------------------------------------------------------------

    def supervise(self) -> None:
        while not self._stopping:
            for s in [*self.infra, *self.services]:
                if self._stopping:
                    break
                if not s.proc.alive:
                    self._restart(s)
                elif time.monotonic() - s.started_at > STABLE_AFTER_S:
                    s.restarts = 0
            time.sleep(0.5)

    def _restart(self, s: Supervised) -> None:
        code = s.proc.proc.returncode if s.proc.proc else None
        delay = RESTART_BACKOFF_S[min(s.restarts, len(RESTART_BACKOFF_S) - 1)]
        console.print(
            f"[bold red]{s.proc.name} exited (code {code})[/]; restarting in {delay}s. "
            f"Last log lines:\n{s.log_tail()}"
        )
        time.sleep(delay)
        if self._stopping:
            return
        s.restarts += 1
        try:
            s.proc.start()
        except (RuntimeError, TimeoutError) as exc:
            console.print(f"[red]{s.proc.name} failed to restart: {exc}[/]")
        s.started_at = time.monotonic()
        console.print(f"[green]{s.proc.name} restarted[/]")

    # -- stop ----------------------------------------------------------------------------

    def stop(self) -> None:
        self._stopping = True
        for s in reversed(self.services):
            s.proc.stop()
        for s in reversed(self.infra):
            s.proc.stop()
        if self.targets_path.exists():
            # No targets: a Prometheus left running must not scrape ports reused by others.
            self._write_targets_file([])
        clear_runtime(self.data_dir)


def run_up(*, port: int, host: str, data_dir: Path) -> int:
    launcher = Launcher(port=port, host=host, data_dir=data_dir)

    def on_signal(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    # SIGINT too: a shell starting us in the background sets it to "ignore", and Python
    # then installs no handler of its own, so `kill -INT` would do nothing.
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        launcher.start()
        launcher.supervise()
    except KeyboardInterrupt:
        pass
    finally:
        # A second Ctrl-C (or a terminal and a supervisor both signalling) must not cut
        # the shutdown short: nats-server and the store would be left running, holding
        # their ports and the data dir. Each child's stop is bounded (terminate, then kill).
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: console.print("still stopping…"))
        console.print("stopping πlot…")
        launcher.stop()
        console.print("stopped.")
    return 0
