"""deploy/k8s/ cannot run here (no Kubernetes): what can be checked is that every manifest
parses and carries the fields its kind requires, and that the sandbox hosts get exactly
the privileges bubblewrap needs (and no more), with Ray's token authentication on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

K8S = Path(__file__).parents[2] / "deploy" / "k8s"


def _documents() -> list[dict[str, Any]]:
    docs = []
    for path in sorted(K8S.glob("*.yaml")):
        docs += [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
    return docs


def _by_kind(kind: str) -> list[dict[str, Any]]:
    return [d for d in _documents() if d["kind"] == kind]


def _containers(pod_template: dict[str, Any]) -> list[dict[str, Any]]:
    containers = pod_template["spec"]["containers"]
    assert containers, "a pod template needs containers"
    for container in containers:
        assert container["name"] and container["image"]
    return list(containers)


def _env(container: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env", [])}


API_VERSIONS = {
    "Deployment": "apps/v1",
    "Service": "v1",
    "HorizontalPodAutoscaler": "autoscaling/v2",
    "RayCluster": "ray.io/v1",
}


def test_every_manifest_has_a_known_kind_its_api_version_and_a_name() -> None:
    docs = _documents()
    assert {d["kind"] for d in docs} == set(API_VERSIONS)
    for doc in docs:
        assert doc["apiVersion"] == API_VERSIONS[doc["kind"]], doc["kind"]
        assert doc["metadata"]["name"]


def test_the_http_tier_deployment_service_and_autoscaler_fit_together() -> None:
    (deployment,) = _by_kind("Deployment")
    (service,) = _by_kind("Service")
    (hpa,) = _by_kind("HorizontalPodAutoscaler")
    spec = deployment["spec"]
    labels = spec["template"]["metadata"]["labels"]
    assert spec["selector"]["matchLabels"].items() <= labels.items()
    (container,) = _containers(spec["template"])
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    env = _env(container)
    assert env["CODETEAM_TRANSPORT"] == "http" and int(env["CODETEAM_PORT"]) == ports["mcp"]
    assert "secretKeyRef" in env["CODETEAM_TOKEN"]  # off loopback the server needs a token
    assert env["RAY_AUTH_MODE"] == "token" and "secretKeyRef" in env["RAY_AUTH_TOKEN"]
    assert container["args"][container["args"].index("--executor") + 1] == "ray"

    assert service["spec"]["selector"].items() <= labels.items()
    assert {p["targetPort"] for p in service["spec"]["ports"]} <= set(ports) | set(ports.values())

    target = hpa["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", deployment["metadata"]["name"])
    assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
    assert hpa["spec"]["metrics"]


def test_the_ray_cluster_gives_bubblewrap_what_it_needs_and_authenticates() -> None:
    (cluster,) = _by_kind("RayCluster")
    spec = cluster["spec"]
    head = spec["headGroupSpec"]
    assert head["rayStartParams"].get("include-dashboard") == "false"
    groups = spec["workerGroupSpecs"]
    assert groups
    templates = [head["template"]]
    for group in groups:
        assert group["groupName"]
        assert group["minReplicas"] <= group["replicas"] <= group["maxReplicas"]
        assert "rayStartParams" in group
        templates.append(group["template"])
    for template in templates:
        assert template["spec"].get("hostUsers") is False  # procMount Unmasked needs it
        for container in _containers(template):
            env = _env(container)
            assert env["RAY_AUTH_MODE"] == "token" and "secretKeyRef" in env["RAY_AUTH_TOKEN"]
            security = container["securityContext"]
            assert security["seccompProfile"] == {"type": "Unconfined"}
            assert security["appArmorProfile"] == {"type": "Unconfined"}
            assert security["procMount"] == "Unmasked"
            assert not security.get("privileged") and not security.get("capabilities")
            assert security["allowPrivilegeEscalation"] is False


@pytest.mark.parametrize("path", sorted(K8S.glob("*.yaml")), ids=lambda p: p.name)
def test_each_file_says_it_is_not_run_here(path: Path) -> None:
    assert "Not run by the tests" in path.read_text()
