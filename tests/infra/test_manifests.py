"""The deployment files in ``infra/`` are valid and agree with the application.

- every Kubernetes manifest validates (strict: no unknown field) against the Kubernetes schemas that
  ``kubernetes-validate`` ships, for the oldest and the newest version we claim;
- ``infra/compose.yaml`` validates against the Compose Specification's JSON schema (vendored in ``schemas/``);
- every environment variable they set is a setting of ``marketplace/config.py`` (a renamed setting fails here),
  except the few listed in :data:`NOT_SETTINGS`; no secret value is committed;
- the probes are ``/healthz`` (liveness) and ``/readyz`` (readiness); the worker runs ``marketplace worker``; the
  migration runs first; the documented configuration is one production accepts once its placeholders are filled
  in, and refuses as committed;
- the image builds where a Docker engine answers (skipped otherwise, with the reason).
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from marketplace.config import SETTINGS_BY_NAME, load_settings
from marketplace.production_settings import unsafe_for_production

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
K8S = INFRA / "k8s"
COMPOSE_FILE = INFRA / "compose.yaml"
COMPOSE_ENV_EXAMPLE = INFRA / "env.example"
K8S_SECRETS_EXAMPLE = K8S / "secrets.env.example"
DOCKERFILE = INFRA / "Dockerfile"
COMPOSE_SCHEMA = Path(__file__).resolve().parent / "schemas" / "compose-spec.json"

#: The oldest and the newest Kubernetes the manifests are checked against (both shipped by kubernetes-validate).
KUBERNETES_VERSIONS = ("1.30.0", "1.37.0")

#: Environment variables in the deployment files that are not settings of marketplace/config.py, and why.
NOT_SETTINGS = {
    "PROMETHEUS_MULTIPROC_DIR": "prometheus_client's shared directory for gunicorn's workers (marketplace/metrics.py)",
}
#: Variables of infra/env.example that only the compose file reads (to configure PostgreSQL and Redis).
COMPOSE_ONLY_VARIABLES = {"POSTGRES_PASSWORD", "REDIS_PASSWORD"}

WEB_COMMAND = ["gunicorn", "-c", "infra/gunicorn.conf.py", "marketplace.wsgi:app"]
WORKER_COMMAND = ["marketplace", "worker"]
MIGRATE_COMMAND = ["marketplace", "db", "upgrade"]
IMAGE_USER_ID = 10001
PLACEHOLDER = re.compile(r"replace[\w-]*")


# -- loading -------------------------------------------------------------------------------------------------------


def _documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


def _manifest_files() -> list[Path]:
    return sorted(p for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")


def _manifests() -> list[tuple[Path, dict[str, Any]]]:
    return [(path, doc) for path in _manifest_files() for doc in _documents(path)]


def _find(kind: str, name: str) -> dict[str, Any]:
    (doc,) = [d for _, d in _manifests() if d["kind"] == kind and d["metadata"]["name"] == name]
    return doc


def _pod_specs() -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(workload, pod template) for every Deployment and Job."""
    for _, doc in _manifests():
        if doc["kind"] in {"Deployment", "Job"}:
            yield doc, doc["spec"]["template"]


def _containers(pod_template: Mapping[str, Any]) -> list[dict[str, Any]]:
    spec = pod_template["spec"]
    return [*spec.get("initContainers", []), *spec["containers"]]


def _env_file(path: Path) -> dict[str, str]:
    """``KEY=value`` lines (``#`` comments and blank lines skipped), as both compose and kubectl read them."""
    values = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value
    return values


def _compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def _compose_app_services() -> dict[str, dict[str, Any]]:
    """The services that run the marketplace's image (web, worker, migrate)."""
    return {name: svc for name, svc in _compose()["services"].items() if "build" in svc}


_INTERPOLATION = re.compile(r"\$\$|\$\{(?P<name>\w+)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


def _interpolate(value: str, env: Mapping[str, str]) -> str:
    """Compose's variable interpolation (``$$``, ``${X}``, ``${X:-default}``, ``${X:?error}``)."""

    def one(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, arg = match.group("name"), match.group("op"), match.group("arg")
        present = env.get(name, "") != "" if op and op.startswith(":") else name in env
        if present:
            return env[name]
        if op and op.endswith("?"):
            raise KeyError(f"{name}: {arg}")
        return arg if op else ""

    return _INTERPOLATION.sub(one, value)


# -- schemas -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_kubernetes_manifest_is_valid_in_strict_mode(version: str) -> None:
    manifests = _manifests()
    assert {doc["kind"] for _, doc in manifests} >= {
        "ConfigMap",
        "Deployment",
        "Service",
        "Job",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "NetworkPolicy",
    }
    for path, doc in manifests:
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            pytest.fail(f"{path.name}: {doc['kind']}/{doc['metadata']['name']}: {error.message}")


def test_strict_validation_rejects_a_misspelt_field() -> None:
    deployment = json.loads(json.dumps(_find("Deployment", "marketplace-web")))
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    container["livenesProbe"] = container.pop("livenessProbe")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSIONS[-1], strict=True)


def test_the_kustomization_lists_every_long_running_manifest() -> None:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    # The migrate Job runs to completion before each rollout, so it is applied on its own.
    assert set(kustomization["resources"]) == {p.name for p in _manifest_files()} - {"migrate-job.yaml"}
    images = {c["image"].split(":")[0] for _, pod in _pod_specs() for c in _containers(pod)}
    assert images == {image["name"] for image in kustomization["images"]}


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_kubectl_renders_the_kustomization_and_the_secret_from_the_example() -> None:
    rendered = subprocess.run(
        ["kubectl", "kustomize", str(K8S)], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    docs = [d for d in yaml.safe_load_all(rendered) if d]
    assert len(docs) == len(_manifests()) - 1  # all but the migrate Job
    secret = subprocess.run(
        [
            "kubectl",
            "create",
            "secret",
            "generic",
            "marketplace-secrets",
            f"--from-env-file={K8S_SECRETS_EXAMPLE}",
            "--dry-run=client",
            "-o",
            "yaml",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    docs.append(yaml.safe_load(secret))
    for doc in docs:
        doc["metadata"].pop("creationTimestamp", None)  # kubectl's dry run prints `null`
        kubernetes_validate.validate(doc, KUBERNETES_VERSIONS[-1], strict=True)
    data = docs[-1]["data"]
    assert base64.b64decode(data["SECRET_KEY"]).decode() == _env_file(K8S_SECRETS_EXAMPLE)["SECRET_KEY"]


def _compose_validator() -> jsonschema.protocols.Validator:
    schema = json.loads(COMPOSE_SCHEMA.read_text())
    # The schema names draft 2019-09 (by an old spelling of its address, which jsonschema does not recognise).
    jsonschema.Draft201909Validator.check_schema(schema)
    return jsonschema.Draft201909Validator(schema)


def test_the_compose_file_is_valid_against_the_compose_specification() -> None:
    errors = sorted(_compose_validator().iter_errors(_compose()), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors)


def test_the_compose_schema_rejects_a_broken_file() -> None:
    compose = _compose()
    compose["services"]["web"]["depends_on"]["migrate"]["condition"] = "service_done"
    compose["services"]["worker"]["healthcheck"] = {"tset": ["CMD", "true"]}
    messages = [error.message for error in _compose_validator().iter_errors(compose)]
    assert any("service_done" in m for m in messages) and any("tset" in m for m in messages)


# -- the application's settings --------------------------------------------------------------------------------


def _is_setting(name: str) -> bool:
    return name in SETTINGS_BY_NAME or name in NOT_SETTINGS


def _is_secret(name: str) -> bool:
    setting = SETTINGS_BY_NAME.get(name)
    return setting.secret if setting is not None else False


def _kubernetes_environment_names() -> dict[str, set[str]]:
    names: dict[str, set[str]] = {}
    for workload, pod in _pod_specs():
        for container in _containers(pod):
            where = f"{workload['metadata']['name']}/{container['name']}"
            names.setdefault(where, set()).update(e["name"] for e in container.get("env", []))
    names["ConfigMap marketplace-config"] = set(_find("ConfigMap", "marketplace-config")["data"])
    names[K8S_SECRETS_EXAMPLE.name] = set(_env_file(K8S_SECRETS_EXAMPLE))
    return names


def _compose_environment_names() -> dict[str, set[str]]:
    names = {f"compose {name}": set(svc.get("environment", {})) for name, svc in _compose_app_services().items()}
    names[COMPOSE_ENV_EXAMPLE.name] = set(_env_file(COMPOSE_ENV_EXAMPLE)) - COMPOSE_ONLY_VARIABLES
    return names


def test_every_environment_variable_of_the_deployment_files_is_a_setting() -> None:
    unknown = {
        f"{where}: {name}"
        for where, names in (_kubernetes_environment_names() | _compose_environment_names()).items()
        for name in names
        if not _is_setting(name)
    }
    assert not unknown, f"not a setting of marketplace/config.py (renamed?): {sorted(unknown)}"


def test_no_secret_value_is_committed() -> None:
    assert not [doc for _, doc in _manifests() if doc["kind"] == "Secret"], "a Secret is made from secrets.env"
    configmap = _find("ConfigMap", "marketplace-config")["data"]
    assert not [name for name in configmap if _is_secret(name)], "a secret belongs in secrets.env"
    for _, pod in _pod_specs():
        for container in _containers(pod):
            literal = [e["name"] for e in container.get("env", []) if _is_secret(e["name"]) and "value" in e]
            assert not literal, f"{container['name']}: secret as a literal value: {literal}"
    for example in (K8S_SECRETS_EXAMPLE, COMPOSE_ENV_EXAMPLE):
        for name, value in _env_file(example).items():
            if _is_secret(name) or name in COMPOSE_ONLY_VARIABLES:
                assert PLACEHOLDER.search(value), f"{example.name}: {name} must be a placeholder"
    for service, svc in _compose_app_services().items():
        for name, value in svc["environment"].items():
            if _is_secret(name):
                assert "${" in str(value), f"compose {service}: {name} must come from infra/.env"


def _filled_in(values: Mapping[str, str]) -> dict[str, str]:
    """The example's values with each placeholder replaced by a value of the right form."""
    made = {
        "ENCRYPTION_KEYS": "k1:" + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "API_KEY_PEPPERS": "p1:" + secrets.token_urlsafe(48),
        "STRIPE_SECRET_KEY": "sk_live_" + secrets.token_hex(24),
    }
    return {
        name: made.get(name) or PLACEHOLDER.sub(lambda _: secrets.token_hex(24), value)
        if PLACEHOLDER.search(value)
        else value
        for name, value in values.items()
    }


def _kubernetes_settings(secret_values: Mapping[str, str], container: str) -> dict[str, str]:
    (pod,) = [p for w, p in _pod_specs() if w["metadata"]["name"] == container]
    env = dict(_find("ConfigMap", "marketplace-config")["data"])
    env.update(secret_values)
    env.update({e["name"]: e["value"] for e in pod["spec"]["containers"][0].get("env", [])})
    return env


def _compose_settings(env_file: Mapping[str, str], service: str) -> dict[str, str]:
    env = dict(env_file)
    for name, value in _compose_app_services()[service]["environment"].items():
        env[name] = _interpolate(str(value), env_file)
    return env


def _refusals(env: Mapping[str, str], tmp_path: Path) -> list[str]:
    return unsafe_for_production(load_settings(env, {"INSTANCE_PATH": str(tmp_path)}))


@pytest.mark.parametrize("workload", ["marketplace-web", "marketplace-worker", "marketplace-migrate"])
def test_production_accepts_the_kubernetes_configuration_once_filled_in(tmp_path: Path, workload: str) -> None:
    example = _env_file(K8S_SECRETS_EXAMPLE)
    refused = _refusals(_kubernetes_settings(example, workload), tmp_path)
    assert any(p.startswith("SECRET_KEY") for p in refused) and any(p.startswith("STRIPE_SECRET_KEY") for p in refused)
    assert _refusals(_kubernetes_settings(_filled_in(example), workload), tmp_path) == []


@pytest.mark.parametrize("service", ["web", "worker", "migrate"])
def test_production_accepts_the_compose_configuration_once_filled_in(tmp_path: Path, service: str) -> None:
    example = _env_file(COMPOSE_ENV_EXAMPLE)
    refused = _refusals(_compose_settings(example, service), tmp_path)
    assert any(p.startswith("SECRET_KEY") for p in refused) and any(p.startswith("STRIPE_SECRET_KEY") for p in refused)
    assert _refusals(_compose_settings(_filled_in(example), service), tmp_path) == []


def test_compose_names_each_missing_secret() -> None:
    example = _env_file(COMPOSE_ENV_EXAMPLE)
    del example["SECRET_KEY"]
    with pytest.raises(KeyError, match="SECRET_KEY"):
        _compose_settings(example, "web")


# -- processes, probes, order ------------------------------------------------------------------------------------


def _command(container: Mapping[str, Any]) -> list[str]:
    return [*container.get("command", []), *container.get("args", [])]


def test_the_web_pods_probe_healthz_for_liveness_and_readyz_for_readiness() -> None:
    (container,) = _find("Deployment", "marketplace-web")["spec"]["template"]["spec"]["containers"]
    assert _command(container) == WEB_COMMAND
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["startupProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    for probe in ("livenessProbe", "startupProbe", "readinessProbe"):
        assert container[probe]["httpGet"]["port"] in ports
    assert ports["http"] == 8000  # infra/gunicorn.conf.py's default bind
    web = _compose()["services"]["web"]
    assert web["command"] == WEB_COMMAND
    assert "/readyz" in " ".join(web["healthcheck"]["test"])


def test_the_worker_runs_marketplace_worker_and_accepts_no_connection() -> None:
    worker = _find("Deployment", "marketplace-worker")
    (container,) = worker["spec"]["template"]["spec"]["containers"]
    assert _command(container) == WORKER_COMMAND
    assert "ports" not in container
    assert worker["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] >= 60
    labels = worker["spec"]["template"]["metadata"]["labels"]
    for _, doc in _manifests():
        if doc["kind"] == "Service":
            assert not doc["spec"]["selector"].items() <= labels.items(), "a Service selects the worker"
    policy = _find("NetworkPolicy", "marketplace-worker")
    assert policy["spec"]["podSelector"]["matchLabels"].items() <= labels.items()
    assert "Ingress" in policy["spec"]["policyTypes"] and not policy["spec"].get("ingress")
    assert _compose()["services"]["worker"]["command"] == WORKER_COMMAND


def test_the_web_pods_accept_connections_on_gunicorns_port_only() -> None:
    policy = _find("NetworkPolicy", "marketplace-web")
    labels = _find("Deployment", "marketplace-web")["spec"]["template"]["metadata"]["labels"]
    assert policy["spec"]["podSelector"]["matchLabels"].items() <= labels.items()
    assert policy["spec"]["policyTypes"] == ["Ingress", "Egress"]
    ports = [port for rule in policy["spec"]["ingress"] for port in rule["ports"]]
    assert ports == [{"protocol": "TCP", "port": 8000}]


def test_the_migration_runs_before_web_and_worker() -> None:
    job = _find("Job", "marketplace-migrate")
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert _command(container) == MIGRATE_COMMAND
    services = _compose()["services"]
    assert services["migrate"]["command"] == MIGRATE_COMMAND
    for name in ("web", "worker"):
        assert services[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}


def test_autoscaler_and_disruption_budgets_aim_at_the_workloads() -> None:
    deployments = {doc["metadata"]["name"]: doc for _, doc in _manifests() if doc["kind"] == "Deployment"}
    hpa = _find("HorizontalPodAutoscaler", "marketplace-web")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"]["name"] in deployments and hpa["spec"]["minReplicas"] >= 2
    for name, deployment in deployments.items():
        (pdb,) = [
            doc for _, doc in _manifests() if doc["kind"] == "PodDisruptionBudget" and doc["metadata"]["name"] == name
        ]
        assert pdb["apiVersion"] == "policy/v1"
        assert pdb["spec"]["selector"] == deployment["spec"]["selector"]
    service = _find("Service", "marketplace-web")
    assert service["spec"]["selector"] == deployments["marketplace-web"]["spec"]["selector"]["matchLabels"]


def test_every_pod_runs_unprivileged_on_a_read_only_root_file_system() -> None:
    for workload, pod in _pod_specs():
        spec = pod["spec"]
        assert spec["securityContext"]["runAsNonRoot"] is True, workload["metadata"]["name"]
        assert spec["securityContext"]["runAsUser"] == IMAGE_USER_ID
        assert spec.get("automountServiceAccountToken") is False
        mounts = set()
        for container in _containers(pod):
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True and context["allowPrivilegeEscalation"] is False
            assert context["capabilities"]["drop"] == ["ALL"]
            assert "memory" in container["resources"]["limits"] and container["resources"]["requests"]
            mounts |= {m["mountPath"] for m in container.get("volumeMounts", [])}
        assert "/tmp" in mounts  # INSTANCE_PATH, gunicorn's heartbeat files
        assert _find("ConfigMap", "marketplace-config")["data"]["INSTANCE_PATH"].startswith("/tmp/")
    for name, svc in _compose_app_services().items():
        assert svc["read_only"] is True and "/tmp" in svc["tmpfs"], name
        assert svc["user"] == f"{IMAGE_USER_ID}:{IMAGE_USER_ID}"


def test_the_readme_tells_how_to_make_the_secrets_the_manifests_use() -> None:
    readme = (ROOT / "README.md").read_text()
    deploying = readme.split("## Deploying", 1)[1].split("\n## ", 1)[0]
    referenced = {
        ref["secretRef"]["name"]
        for _, pod in _pod_specs()
        for container in _containers(pod)
        for ref in container.get("envFrom", [])
        if "secretRef" in ref
    } | {v["secret"]["secretName"] for _, pod in _pod_specs() for v in pod["spec"].get("volumes", []) if "secret" in v}
    assert referenced == {"marketplace-secrets", "marketplace-license-key"}
    for name in referenced:
        assert f"kubectl create secret generic {name}" in deploying
    for command in ("migrate-job.yaml", "kubectl apply -k infra/k8s", "marketplace worker", "/readyz", "/healthz"):
        assert command in deploying


# -- the image -----------------------------------------------------------------------------------------------------


def _final_stage() -> list[str]:
    lines = [line.strip() for line in DOCKERFILE.read_text().replace("\\\n", " ").splitlines()]
    instructions = [line for line in lines if line and not line.startswith("#")]
    last_from = max(i for i, line in enumerate(instructions) if line.upper().startswith("FROM "))
    return instructions[last_from:]


def test_the_dockerfile_runs_gunicorn_as_a_non_root_user_and_copies_what_exists() -> None:
    text = DOCKERFILE.read_text()
    for line in text.replace("\\\n", " ").splitlines():
        if line.startswith("COPY ") and "--from=" not in line:
            *sources, _ = line.split()[1:]
            for source in sources:
                assert (ROOT / source).exists(), f"COPY {source}: no such file in the repository"
    final = _final_stage()
    (user,) = [line.split()[1] for line in final if line.startswith("USER ")]
    assert user == f"{IMAGE_USER_ID}:{IMAGE_USER_ID}"
    (cmd,) = [json.loads(line[len("CMD ") :]) for line in final if line.startswith("CMD ")]
    assert cmd == WEB_COMMAND
    (entrypoint,) = [json.loads(line[len("ENTRYPOINT ") :]) for line in final if line.startswith("ENTRYPOINT ")]
    assert entrypoint[0] == "tini"  # signals reach the worker and gunicorn; args replace CMD only
    assert any(line.startswith("COPY migrations") for line in final)  # `marketplace db upgrade` needs them
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {"infra/.env", "infra/secrets", "infra/k8s/secrets.env", ".git", ".venv"} <= set(ignored)


def _docker_engine() -> str | None:
    """None when a Docker engine answers, else why not."""
    if shutil.which("docker") is None:
        return "the docker command is not installed"
    try:
        info = subprocess.run(["docker", "info"], capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        return "`docker info` did not answer within 30 s"
    if info.returncode != 0:
        return (info.stderr.strip().splitlines() or ["`docker info` failed"])[-1]
    return None


@pytest.mark.slow
def test_the_image_builds() -> None:
    reason = _docker_engine()
    if reason is not None:
        pytest.skip(f"no Docker engine: {reason}")
    tag = "dataset-marketplace:test-build"
    build = subprocess.run(
        ["docker", "build", "-f", str(DOCKERFILE), "-t", tag, str(ROOT)],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert build.returncode == 0, build.stderr[-4000:]
    try:
        probe = subprocess.run(
            [
                "docker",
                "run",
                "--rm",
                "--read-only",
                tag,
                "python",
                "-c",
                "import marketplace.migrate as m; "
                "assert (m.MIGRATIONS_DIR / 'env.py').exists(), m.MIGRATIONS_DIR; print('ok')",
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert probe.returncode == 0 and probe.stdout.strip() == "ok", probe.stderr[-4000:]
        user = subprocess.run(["docker", "run", "--rm", tag, "id", "-u"], capture_output=True, text=True, timeout=300)
        assert user.stdout.strip() == str(IMAGE_USER_ID)
    finally:
        subprocess.run(["docker", "image", "rm", "-f", tag], capture_output=True, timeout=300)
