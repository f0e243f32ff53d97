"""The PromQL that ships in deploy/: the Grafana dashboard's panels and the alerting
rules, and the metric names an expression reads."""

import json
import re
from pathlib import Path

import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
DASHBOARD = DEPLOY / "grafana" / "chat-dashboard.json"
ALERTS = DEPLOY / "prometheus" / "alerts.yml"

# Words of PromQL that are neither metrics nor functions (functions are followed by "(").
_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and",
             "or", "unless", "offset", "inf", "nan"}
_IDENTIFIER = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")


def dashboard_expressions() -> dict[str, str]:
    """Panel title (and target) -> expression."""
    panels = json.loads(DASHBOARD.read_text())["panels"]
    return {f"{panel['title']} [{target['refId']}]": target["expr"]
            for panel in panels for target in panel["targets"]}


def alert_expressions() -> dict[str, str]:
    groups = yaml.safe_load(ALERTS.read_text())["groups"]
    return {rule["alert"]: str(rule["expr"]) for group in groups for rule in group["rules"]}


def metric_names(expression: str) -> set[str]:
    """The metric names ``expression`` reads (a small reader for the PromQL we write:
    label matchers, ``by (...)`` lists, ranges, numbers and strings are set aside
    first)."""
    text = re.sub(r'"[^"]*"', "", expression)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    # Numbers (0.99, 5e3) and durations (offset 5m).
    text = re.sub(r"(?<![\w:])\d[\d.eE+-]*(?:ms|[smhdwy])?(?!\w)", " ", text)
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    names = set()
    for match in _IDENTIFIER.finditer(text):
        following = text[match.end():].lstrip()
        if match.group() not in _KEYWORDS and not following.startswith("("):
            names.add(match.group())
    return names
