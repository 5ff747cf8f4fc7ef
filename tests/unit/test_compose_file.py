"""docker-compose.yml is a valid Compose file that runs the whole of πlot.

The schema is compose-spec/compose-spec `schema/compose-spec.json` at commit
00655e2222608fa6eaecdf12ac5195889ca2244a, vendored in tests/support/ so the test needs no
network and no docker.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
SCHEMA = ROOT / "tests" / "support" / "compose-spec.json"
DOCKERFILE = "deploy/Dockerfile"
PILOT_SERVICES = {
    "gateway": "pilot_gateway",
    "planner": "pilot_planner",
    "generator": "pilot_generator",
    "executor": "pilot_executor",
    "runners": "pilot_runners",
}
METRICS_PORT = 9100


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return dict(compose["services"])


def test_compose_file_matches_the_compose_spec_schema(compose: dict[str, Any]) -> None:
    schema = json.loads(SCHEMA.read_text())
    validator = jsonschema.Draft7Validator(schema)
    errors = sorted(validator.iter_errors(compose), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors
    )


def test_the_schema_rejects_what_compose_rejects() -> None:
    """The vendored schema really constrains: an unknown service key fails."""
    schema = json.loads(SCHEMA.read_text())
    bad = {"services": {"x": {"image": "a", "no_such_key": 1}}}
    assert list(jsonschema.Draft7Validator(schema).iter_errors(bad))


def test_every_part_of_the_system_is_there(services: dict[str, dict[str, Any]]) -> None:
    expected = {*PILOT_SERVICES, "nats", "mongo", "prometheus", "grafana"}
    expected |= {"otel-collector", "jaeger"}
    assert expected <= services.keys(), f"missing: {expected - services.keys()}"
    nats_args = services["nats"]["command"]
    assert "-js" in nats_args or "--jetstream" in nats_args, "NATS must run with JetStream"


@pytest.mark.parametrize("name", sorted(PILOT_SERVICES))
def test_every_service_builds_from_the_dockerfile(
    services: dict[str, dict[str, Any]], name: str
) -> None:
    service = services[name]
    build = service["build"]
    assert (ROOT / build["context"]).resolve() == ROOT
    assert build["dockerfile"] == DOCKERFILE
    assert (ROOT / DOCKERFILE).is_file()
    assert service["command"] == ["python", "-m", PILOT_SERVICES[name]]
    env = service["environment"]
    assert env["PILOT_NATS_URL"] == "nats://nats:4222"
    assert env["PILOT_MONGODB_URL"] == "mongodb://mongo:27017"
    if name != "gateway":
        assert env["PILOT_METRICS_PORT"] == str(METRICS_PORT)


def _bind_sources(service: dict[str, Any]) -> list[str]:
    sources = []
    for volume in service.get("volumes", []):
        if isinstance(volume, dict):
            if volume.get("type") == "bind":
                sources.append(volume["source"])
        elif volume.startswith((".", "/")):
            sources.append(volume.split(":", 1)[0])
    return sources


def test_every_mounted_file_exists_in_the_repository(
    services: dict[str, dict[str, Any]],
) -> None:
    mounted = {name: _bind_sources(service) for name, service in services.items()}
    for name, sources in mounted.items():
        for source in sources:
            assert (ROOT / source).exists(), f"{name} mounts {source}, which is not in the repo"
    # The mounts the observability parts cannot start without.
    assert "./deploy/prometheus/prometheus.yml" in mounted["prometheus"]
    assert "./deploy/otel/collector.yml" in mounted["otel-collector"]
    assert {"./deploy/grafana/provisioning", "./deploy/grafana/dashboards"} <= set(
        mounted["grafana"]
    )


def test_named_volumes_are_declared(compose: dict[str, Any]) -> None:
    declared = set(compose.get("volumes", {}))
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            if isinstance(volume, str) and not volume.startswith((".", "/")):
                assert volume.split(":", 1)[0] in declared, f"{name}: {volume}"


def test_prometheus_scrapes_every_service_on_its_metrics_port(
    services: dict[str, dict[str, Any]],
) -> None:
    config = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.yml").read_text())
    (pilot,) = [job for job in config["scrape_configs"] if job["job_name"] == "pilot"]
    static = {
        target: group.get("labels", {}).get("service")
        for group in pilot.get("static_configs", [])
        for target in group["targets"]
    }
    dns = {f"{name}:{sd['port']}" for sd in pilot.get("dns_sd_configs", []) for name in sd["names"]}
    gateway_port = services["gateway"]["environment"]["PILOT_PORT"]
    assert static.get(f"gateway:{gateway_port}") == "gateway"
    for name in PILOT_SERVICES.keys() - {"gateway"}:
        target = f"{name}:{METRICS_PORT}"
        assert static.get(target) == name or target in dns, f"{name} is not scraped"


def test_grafana_provisions_the_dashboards(services: dict[str, dict[str, Any]]) -> None:
    grafana = services["grafana"]
    mounts = dict(v.split(":")[:2] for v in grafana["volumes"] if v.startswith("./"))
    provider = yaml.safe_load(
        (ROOT / "deploy/grafana/provisioning/dashboards/pilot.yml").read_text()
    )
    paths = {p["options"]["path"] for p in provider["providers"]}
    assert paths == {mounts["./deploy/grafana/dashboards"]}
    datasources = yaml.safe_load(
        (ROOT / "deploy/grafana/provisioning/datasources/prometheus.yml").read_text()
    )["datasources"]
    (prom,) = [d for d in datasources if d["type"] == "prometheus"]
    assert re.fullmatch(r"http://prometheus:9090/?", prom["url"])
    # Every panel names the provisioned datasource by its uid.
    for path in (ROOT / "deploy/grafana/dashboards").glob("*.json"):
        for panel in json.loads(path.read_text())["panels"]:
            assert panel["datasource"]["uid"] == prom["uid"], f"{path.name}: {panel['title']}"
