"""Production refuses unsafe settings by name: a placeholder secret, a Stripe test key, several workers without
Redis, publishing declared-only manifests. The refusal is one line per problem and exit status 2, not a traceback,
for the ``marketplace`` command, the WSGI module and gunicorn."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from marketplace import create_app
from marketplace.config import ConfigError, load_settings
from tests.functional.test_errors_and_security import production_settings

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).with_name("gunicorn")


def _refusals(settings: dict[str, Any]) -> tuple[str, ...]:
    with pytest.raises(ConfigError) as info:
        create_app(settings)
    return info.value.problems


@pytest.mark.parametrize(
    "secret",
    [
        "changeme-0123456789abcdefghijklmnopqrstuv",
        "CHANGE_ME_before_going_live_9f8e7d6c5b4a3210",
        "replace-with-64-random-characters",
        "your-secret-key-goes-here-0123456789abcdef",
        "k" * 40,
        "abababababababababababababababab",
    ],
)
def test_production_refuses_a_placeholder_secret_key(tmp_path, secret) -> None:
    settings = production_settings(tmp_path)
    settings["SECRET_KEY"] = secret
    problems = _refusals(settings)
    assert [p for p in problems if p.startswith("SECRET_KEY")] == list(problems)
    assert len(problems) == 1 and "placeholder" in problems[0]
    assert secret not in problems[0]  # never echo a secret


@pytest.mark.parametrize("key", ["sk_test_51HxYzExampleExampleExample", "rk_test_51HxYzExampleExampleExample"])
def test_production_refuses_a_stripe_test_key(tmp_path, key) -> None:
    settings = production_settings(tmp_path)
    settings["STRIPE_SECRET_KEY"] = key
    (problem,) = _refusals(settings)
    assert problem.startswith("STRIPE_SECRET_KEY is a test-mode key")
    assert key not in problem


def test_production_refuses_to_run_jobs_in_process(tmp_path) -> None:
    settings = production_settings(tmp_path)
    settings.pop("JOB_BROKER_URL")
    (problem,) = _refusals(settings)
    assert problem.startswith("JOB_BROKER_URL is not set: production runs background jobs on `marketplace worker`")


def test_production_refuses_several_workers_without_redis(tmp_path) -> None:
    settings = production_settings(tmp_path)
    settings["WEB_CONCURRENCY"] = 4
    (problem,) = _refusals(settings)
    assert problem.startswith("REDIS_URL is not set with WEB_CONCURRENCY=4")

    settings["REDIS_URL"] = "redis://127.0.0.1:6379/15"
    create_app(settings)  # shared counters: accepted (Redis is not contacted at start-up)
    settings.pop("REDIS_URL")
    settings["WEB_CONCURRENCY"] = 1
    create_app(settings)  # one worker keeps its counters in memory


def test_production_refuses_publishing_declared_manifests(tmp_path) -> None:
    settings = production_settings(tmp_path)
    settings["PUBLISH_DECLARED_MANIFESTS"] = True
    (problem,) = _refusals(settings)
    assert problem.startswith("PUBLISH_DECLARED_MANIFESTS is true")


def test_publishing_declared_manifests_defaults_by_environment(tmp_path) -> None:
    base = {"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "x"}
    assert load_settings({**base, "MARKETPLACE_ENV": "development"})["PUBLISH_DECLARED_MANIFESTS"] is True
    assert load_settings({**base, "MARKETPLACE_ENV": "production"})["PUBLISH_DECLARED_MANIFESTS"] is False
    explicit = {**base, "MARKETPLACE_ENV": "production", "PUBLISH_DECLARED_MANIFESTS": "true"}
    assert load_settings(explicit)["PUBLISH_DECLARED_MANIFESTS"] is True


def test_production_names_each_problem_on_its_own_line(tmp_path) -> None:
    settings = production_settings(tmp_path)
    settings.update(SECRET_KEY="changeme-" + "x" * 30, STRIPE_SECRET_KEY="sk_test_abc", WEB_CONCURRENCY=3)
    settings["PUBLISH_DECLARED_MANIFESTS"] = True
    problems = _refusals(settings)
    names = [problem.split(" ", 1)[0] for problem in problems]
    assert names == ["SECRET_KEY", "STRIPE_SECRET_KEY", "REDIS_URL", "PUBLISH_DECLARED_MANIFESTS"]


SHORT_KEY = "k1:" + "QUJDRA" * 4  # 18 bytes, not 32


@pytest.mark.parametrize("setting", ["ENCRYPTION_KEYS", "API_KEY_PEPPERS"])
def test_production_refuses_to_start_without_its_own_key_material(tmp_path, setting) -> None:
    settings = production_settings(tmp_path)
    settings.pop(setting)
    (problem,) = _refusals(settings)
    assert problem.startswith(f"{setting} is not set")


@pytest.mark.parametrize(
    "changes,named,secret",
    [
        ({"ENCRYPTION_KEYS": "k1:not*base64*at*all"}, "ENCRYPTION_KEYS", "not*base64*at*all"),
        ({"ENCRYPTION_KEYS": SHORT_KEY}, "ENCRYPTION_KEYS", SHORT_KEY[3:]),
        ({"ENCRYPTION_KEYS": "dGVzdC1lbmNyeXB0aW9uLWtleS0zMi1ieXRlcy0wMTI="}, "ENCRYPTION_KEYS", None),
        ({"ENCRYPTION_KEY_ID": "k9"}, "ENCRYPTION_KEY_ID", None),
        ({"API_KEY_PEPPERS": "p1:too-short-a-pepper"}, "API_KEY_PEPPERS", "too-short-a-pepper"),
        ({"API_KEY_PEPPERS": "legacy:Hq8vN3xR5tW9zB2dF6jL0mP4sY7cK1gA"}, "API_KEY_PEPPERS", "Hq8vN3xR5tW9zB2dF6jL"),
        ({"API_KEY_PEPPER_ID": "p2"}, "API_KEY_PEPPER_ID", None),
    ],
)
def test_production_refuses_malformed_key_material_naming_the_setting(tmp_path, changes, named, secret) -> None:
    settings = production_settings(tmp_path)
    settings.update(changes)
    (problem,) = _refusals(settings)
    assert problem.startswith(f"{named}:") or problem.startswith(f"{named} ")
    if secret:
        assert secret not in problem  # never echo key material


def test_development_refuses_malformed_key_material_too(tmp_path, app_settings) -> None:
    problems = _refusals({**app_settings, "ENCRYPTION_KEYS": SHORT_KEY, "API_KEY_PEPPER_ID": "nope"})
    assert [p.split(":", 1)[0] for p in problems] == ["ENCRYPTION_KEYS", "API_KEY_PEPPER_ID"]


def test_development_generates_key_material_once_into_the_instance_folder(tmp_path) -> None:
    base = {"INSTANCE_PATH": str(tmp_path), "MARKETPLACE_ENV": "development"}
    first, again = load_settings(base), load_settings(base)
    for name in ("ENCRYPTION_KEYS", "API_KEY_PEPPERS"):
        assert first[name] and first[name] == again[name] and first[f"{name}_GENERATED"]
    assert (tmp_path / "encryption_keys").read_text() == first["ENCRYPTION_KEYS"]
    assert oct((tmp_path / "api_key_peppers").stat().st_mode & 0o777) == "0o600"
    given = load_settings({**base, "ENCRYPTION_KEYS": "k1:dGVzdC1lbmNyeXB0aW9uLWtleS0zMi1ieXRlcy0wMTI="})
    assert given["ENCRYPTION_KEYS"].startswith("k1:") and not given["ENCRYPTION_KEYS_GENERATED"]


# --- the entry points: one line per problem, exit status 2 -------------------------------------------------------

UNSAFE = {
    "MARKETPLACE_ENV": "production",
    "SECRET_KEY": "changeme-0123456789abcdefghijklmnopqrstuv",
    "ENCRYPTION_KEYS": "k1:dGVzdC1lbmNyeXB0aW9uLWtleS0zMi1ieXRlcy0wMTI=",
    "API_KEY_PEPPERS": "p1:Hq8vN3xR5tW9zB2dF6jL0mP4sY7cK1gA",
    "DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/never_contacted",
    "MAIL_BACKEND": "smtp",
    "BASE_URL": "https://data.example.org",
    "LICENSE_SIGNING_KEY_FILE": "/nonexistent/keys.json",
    "STRIPE_SECRET_KEY": "sk_test_51HxYzExample",
    "STRIPE_WEBHOOK_SECRET": "whsec_example",
    "STORAGE_BACKEND": "s3",
    "S3_BUCKET": "datasets",
    "S3_REGION": "eu-central-1",
    "WEB_CONCURRENCY": "3",
    "PUBLISH_DECLARED_MANIFESTS": "true",
    "JOB_BROKER_URL": "redis://127.0.0.1:6379/15",
}
EXPECTED = ["SECRET_KEY", "STRIPE_SECRET_KEY", "REDIS_URL", "PUBLISH_DECLARED_MANIFESTS"]


def _run(tmp_path: Path, *command: str, **extra: str | None) -> subprocess.CompletedProcess[str]:
    # Only what the command needs: never the developer's own settings (REDIS_URL, DATABASE_URL, ...).
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT), "INSTANCE_PATH": str(tmp_path), **UNSAFE}
    for name, value in extra.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)


def _assert_refused(result: subprocess.CompletedProcess[str], expected: list[str]) -> None:
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("marketplace: refusing to start: ")]
    assert [line.removeprefix("marketplace: refusing to start: ").split(" ", 1)[0] for line in lines] == expected


def test_the_marketplace_command_refuses_unsafe_settings_with_exit_status_2(tmp_path) -> None:
    result = _run(tmp_path, sys.executable, "-c", "from marketplace.cli import main; main()", "db", "current")
    _assert_refused(result, EXPECTED)
    assert result.stdout == ""


def test_the_marketplace_command_names_an_unparseable_setting(tmp_path) -> None:
    result = _run(tmp_path, sys.executable, "-c", "from marketplace.cli import main; main()", "db", "current",
                  MARKETPLACE_ENV="development", SMTP_PORT="not-a-number")  # fmt: skip
    _assert_refused(result, ["SMTP_PORT:"])


def test_the_wsgi_module_refuses_unsafe_settings_with_exit_status_2(tmp_path) -> None:
    _assert_refused(_run(tmp_path, sys.executable, "-c", "import marketplace.wsgi"), EXPECTED)


@pytest.mark.skipif(not GUNICORN.exists(), reason="gunicorn is not installed next to this Python")
def test_gunicorn_refuses_unsafe_settings_with_exit_status_2(tmp_path) -> None:
    result = _run(tmp_path, str(GUNICORN), "-c", "infra/gunicorn.conf.py", "marketplace.wsgi:app",
                  GUNICORN_BIND="127.0.0.1:0", WEB_CONCURRENCY=None)  # fmt: skip
    # gunicorn's own default, cpu_count() * 2 + 1 workers, is several: REDIS_URL is named too.
    _assert_refused(result, EXPECTED)
