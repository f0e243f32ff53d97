"""deploy/k8s/*.yaml: valid against the Kubernetes API schemas (kubernetes-validate ships
them, so this runs offline), and carrying what a safe rollout of the nodes needs."""

import re
import tomllib
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
MANIFESTS = sorted((ROOT / "deploy" / "k8s").glob("*.yaml"))
# The oldest Kubernetes release these should apply to, and the newest the validator knows.
VERSIONS = ("1.29.0", kubernetes_validate.latest_version())


def documents() -> list[dict[str, Any]]:
    return [doc for path in MANIFESTS for doc in yaml.safe_load_all(path.read_text()) if doc]


def find(kind: str, name: str) -> dict[str, Any]:
    matches = [doc for doc in documents()
               if doc["kind"] == kind and doc["metadata"]["name"] == name]
    assert len(matches) == 1, f"{kind}/{name}: {len(matches)} found"
    return matches[0]


def node_container() -> dict[str, Any]:
    [container] = find("Deployment", "chat-node")["spec"]["template"]["spec"]["containers"]
    return container


@pytest.mark.parametrize("version", VERSIONS)
def test_every_manifest_passes_strict_schema_validation(version: str) -> None:
    assert MANIFESTS, "no manifests under deploy/k8s"
    for doc in documents():
        kubernetes_validate.validate(doc, version, strict=True)


def test_the_validator_rejects_a_misspelt_field() -> None:
    """The check above can fail: an unknown field in a container is refused."""
    broken = find("Deployment", "chat-node")
    broken["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, VERSIONS[-1], strict=True)


def test_nodes_are_probed_on_healthz_and_get_time_to_drain() -> None:
    pod = find("Deployment", "chat-node")["spec"]["template"]["spec"]
    container = node_container()
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        assert container[probe]["httpGet"] == {"path": "/healthz", "port": "http"}, probe
    prestop = container["lifecycle"]["preStop"]["exec"]["command"]
    drain = 15  # a node's own shutdown: release users and flush, under 10 s
    assert pod["terminationGracePeriodSeconds"] >= int(prestop[-1]) + drain
    assert pod["enableServiceLinks"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True


def test_nodes_have_resources_and_their_id_from_the_pod_name() -> None:
    container = node_container()
    for bound in ("requests", "limits"):
        assert set(container["resources"][bound]) == {"cpu", "memory"}
    env = {item["name"]: item for item in container["env"]}
    assert env["NODE_ID"]["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.name"}}
    assert env["HOST"]["value"] == "0.0.0.0"
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    assert ports == {"chat-tcp": int(env["TCP_PORT"]["value"]),
                     "http": int(env["HTTP_PORT"]["value"])}
    config = find("ConfigMap", "chat-node")["data"]
    assert config["REDIS_URL"] == "redis://redis:6379"
    assert container["envFrom"] == [{"configMapRef": {"name": "chat-node"}}]


def test_services_reach_the_node_pods_on_tcp_and_http() -> None:
    pod_labels = find("Deployment", "chat-node")["spec"]["template"]["metadata"]["labels"]
    targets = {}
    for name in ("chat-tcp", "chat-http"):
        spec = find("Service", name)["spec"]
        assert spec["selector"].items() <= pod_labels.items(), name
        [port] = spec["ports"]
        targets[name] = port["targetPort"]
    assert targets == {"chat-tcp": "chat-tcp", "chat-http": "http"}


def test_redis_is_marked_as_a_development_stand_in() -> None:
    text = (ROOT / "deploy" / "k8s" / "redis.yaml").read_text()
    assert "DEVELOPMENT STAND-IN" in text and "managed Redis" in text
    for kind in ("Deployment", "Service"):
        assert "development stand-in" in find(kind, "redis")["metadata"]["annotations"][
            "trio-redis-chat/purpose"]
    assert find("Service", "redis")["spec"]["ports"][0]["port"] == 6379


def test_the_image_is_the_one_compose_builds_for_this_version() -> None:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert node_container()["image"] == f"trio-redis-chat:{version}"
    for number in (1, 2, 3):
        assert compose["services"][f"node-{number}"]["image"] == f"trio-redis-chat:{version}"
    assert re.search(rf"-t trio-redis-chat:{re.escape(version)} ",
                     (ROOT / "deploy" / "Dockerfile").read_text())
