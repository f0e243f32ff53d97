"""The compose `monitoring` profile (Prometheus + Grafana with the chat dashboard):
validated by the real compose binary and Prometheus's own promtool, wired together
consistently, and reading only metrics a live node exports."""

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.test_compose import COMPOSE_FILE, ROOT, run_compose, with_defaults
from tests.support.metrics import scrape
from tests.support.nodes import NodeRunner
from tests.support.promql import (
    ALERTS,
    DASHBOARD,
    alert_expressions,
    dashboard_expressions,
    metric_names,
)

PROMETHEUS_YML = ROOT / "deploy" / "prometheus" / "prometheus.yml"
PROVISIONING = ROOT / "deploy" / "grafana" / "provisioning"
# Series Prometheus writes itself for every target, not read from /metrics.
WRITTEN_BY_PROMETHEUS = {"up"}


def compose_config(tmp_path: Path, *profile: str) -> dict[str, Any]:
    no_settings = tmp_path / "empty.env"
    no_settings.write_text("")
    result = run_compose(*profile, "config", "--format", "json", env_file=no_settings,
                         home=tmp_path)
    assert result.returncode == 0, result.stderr
    config: dict[str, Any] = json.loads(result.stdout)
    return config


def test_the_monitoring_profile_adds_prometheus_and_grafana_only_when_asked(
        tmp_path: Path) -> None:
    plain = compose_config(tmp_path)
    monitored = compose_config(tmp_path, "--profile", "monitoring")
    assert not {"prometheus", "grafana"} & set(plain["services"])
    assert set(monitored["services"]) == set(plain["services"]) | {"prometheus", "grafana"}
    for name in ("prometheus", "grafana"):
        service = monitored["services"][name]
        for volume in service["volumes"]:
            if volume["type"] == "bind":  # every file it mounts is in the repository
                assert Path(volume["source"]).exists(), volume["source"]
        published = [port["host_ip"] for port in service["ports"]]
        assert published == ["127.0.0.1"], published


def test_images_are_pinned_to_a_release() -> None:
    services = yaml.safe_load(COMPOSE_FILE.read_text())["services"]
    assert re.fullmatch(r"prom/prometheus:v\d+\.\d+\.\d+", services["prometheus"]["image"])
    assert re.fullmatch(r"grafana/grafana:\d+\.\d+\.\d+", services["grafana"]["image"])


def test_prometheus_scrapes_every_compose_node_on_its_http_port() -> None:
    services = yaml.safe_load(COMPOSE_FILE.read_text())["services"]
    nodes = {name: with_defaults(service["environment"]["HTTP_PORT"])
             for name, service in services.items() if name.startswith("node-")}
    [job] = yaml.safe_load(PROMETHEUS_YML.read_text())["scrape_configs"]
    [static] = job["static_configs"]
    assert sorted(static["targets"]) == sorted(f"{name}:{port}" for name, port in nodes.items())
    assert services["prometheus"]["depends_on"].keys() == nodes.keys()


def test_grafana_is_provisioned_with_the_datasource_the_dashboard_names() -> None:
    [source] = yaml.safe_load(
        (PROVISIONING / "datasources" / "prometheus.yml").read_text())["datasources"]
    assert source["url"] == "http://prometheus:9090"
    panels = json.loads(DASHBOARD.read_text())["panels"]
    named = {target["datasource"]["uid"] for panel in panels for target in panel["targets"]}
    assert named == {source["uid"]}
    [provider] = yaml.safe_load(
        (PROVISIONING / "dashboards" / "chat.yml").read_text())["providers"]
    grafana = yaml.safe_load(COMPOSE_FILE.read_text())["services"]["grafana"]
    mounted = [volume.split(":")[1] for volume in grafana["volumes"]
               if volume.startswith("./deploy/grafana/chat-dashboard.json:")]
    assert [str(Path(target).parent) for target in mounted] == [provider["options"]["path"]]


def test_the_dashboard_has_the_panels_operators_look_at() -> None:
    expressions = " ".join(dashboard_expressions().values())
    for must in ("rate(chat_messages_published_total[1m])", "rate(chat_deliveries_total[1m])",
                 "chat_users",
                 "histogram_quantile(0.99, sum by (le) (rate(chat_delivery_lag_seconds_bucket",
                 "chat_redis_command_seconds_bucket", "chat_drops_total",
                 "chat_slow_consumer_drops_total"):
        assert must in expressions, must


def _promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        pytest.skip("SKIPPED LOUDLY: no `promtool` (Debian's prometheus package), so the "
                    "Prometheus config and alerting rules were not checked by Prometheus")
    return found


@pytest.mark.parametrize("check, path", [("config", PROMETHEUS_YML), ("rules", ALERTS)])
def test_promtool_accepts_the_config_and_the_rules(check: str, path: Path) -> None:
    result = subprocess.run([_promtool(), "check", check, str(path)], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


async def test_dashboard_and_alerts_read_only_metrics_a_node_exports(
        nodes: NodeRunner) -> None:
    node = await nodes.start()
    exported = {name for name, _ in await scrape(node.http_port)}
    expressions = {**dashboard_expressions(), **alert_expressions()}
    read = {where: metric_names(expression) for where, expression in expressions.items()}
    assert all(read.values()), read  # the reader found a metric in every expression
    unknown = {where: names - exported - WRITTEN_BY_PROMETHEUS
               for where, names in read.items() if names - exported - WRITTEN_BY_PROMETHEUS}
    assert not unknown, f"not exported by /metrics: {unknown}"


OPERATIONS = ROOT / "docs" / "operations.md"


async def test_operations_md_lists_every_chat_metric_a_node_exports(nodes: NodeRunner) -> None:
    node = await nodes.start()
    families = {name.removesuffix("_bucket").removesuffix("_count").removesuffix("_sum")
                for name, _ in await scrape(node.http_port) if name.startswith("chat_")}
    listed = set(re.findall(r"^\| `(chat_\w+)` \|", OPERATIONS.read_text(), re.MULTILINE))
    assert listed == families


def test_operations_md_shows_the_alerting_rules_as_they_are() -> None:
    rows = re.findall(r"^\| (Chat\w+) \| `(.+?)` \|", OPERATIONS.read_text(), re.MULTILINE)
    assert dict(rows) == alert_expressions()
