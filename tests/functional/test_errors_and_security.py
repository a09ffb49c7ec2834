"""The error table, the JSON error shape under /api/, CSRF, security headers and production refusal."""

from __future__ import annotations

import pytest

from marketplace import create_app
from marketplace.config import ConfigError
from marketplace.security import CONTENT_SECURITY_POLICY


def test_form_posted_without_csrf_token_is_400(client) -> None:
    response = client.post("/login", data={"email": "a@example.org", "password": "whatever-password"})
    assert response.status_code == 400
    assert "security token" in response.get_data(as_text=True)


def test_form_posted_with_forged_csrf_token_is_400(client) -> None:
    response = client.post("/signup", data={"email": "a@example.org", "password": "x" * 12, "csrf_token": "forged"})
    assert response.status_code == 400


def test_api_errors_use_the_json_shape(client) -> None:
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.is_json
    body = response.get_json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == "not_found"
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert body["error"]["details"] == []


def test_api_method_not_allowed_is_json(client) -> None:
    response = client.post("/api/v1/status")
    assert response.status_code in (404, 405)
    assert response.get_json()["error"]["code"] in {"method_not_allowed", "not_found"}


@pytest.mark.parametrize("status,path", [(404, "/no/such/page"), (405, "/logout")])
def test_html_error_pages(client, status, path) -> None:
    response = client.get(path)
    assert response.status_code == status
    assert response.mimetype == "text/html"
    assert f'data-status="{status}"' in response.get_data(as_text=True)


def test_unexpected_error_is_a_500_page_without_details(app, client) -> None:
    @app.get("/boom-for-test")
    def boom() -> str:
        raise RuntimeError("secret internals")

    response = client.get("/boom-for-test")
    assert response.status_code == 500
    assert "secret internals" not in response.get_data(as_text=True)


def test_permission_error_renders_403_page(client) -> None:
    from tests.factories import OrganisationFactory, UserFactory
    from tests.helpers import log_in

    UserFactory(email="outsider@example.org")
    org = OrganisationFactory()
    log_in(client, "outsider@example.org", "correct horse battery")
    response = client.get(f"/orgs/{org.slug}")
    assert response.status_code == 403


def test_security_headers_on_every_response(client) -> None:
    for path in ("/", "/login", "/api/v1/status", "/no/such/page"):
        headers = client.get(path).headers
        assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert "unsafe-inline" not in headers["Content-Security-Policy"]
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_pages_contain_no_inline_script_or_style(client) -> None:
    for path in ("/", "/login", "/signup", "/password/forgot"):
        html = client.get(path).get_data(as_text=True)
        assert "<script>" not in html and "<script type" not in html
        assert " style=" not in html and "<style" not in html
        assert " onclick=" not in html


def test_production_without_secret_key_refuses_to_start(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigError) as info:
        create_app({"MARKETPLACE_ENV": "production", "INSTANCE_PATH": str(tmp_path), "SECRET_KEY": ""})
    assert "SECRET_KEY" in str(info.value)


def test_production_names_every_unsafe_setting(tmp_path) -> None:
    with pytest.raises(ConfigError) as info:
        create_app(
            {
                "MARKETPLACE_ENV": "production",
                "INSTANCE_PATH": str(tmp_path),
                "SECRET_KEY": "k" * 40,
                "DATABASE_URL": "sqlite:///x.db",
            }
        )
    message = str(info.value)
    for name in ("DATABASE_URL", "MAIL_BACKEND", "BASE_URL"):
        assert name in message


def production_settings(tmp_path) -> dict[str, object]:
    """A complete, safe production configuration (every real backend chosen)."""
    import licensing
    from marketplace.db import utcnow

    return {
        "MARKETPLACE_ENV": "production",
        "INSTANCE_PATH": str(tmp_path),
        "SECRET_KEY": "Vq3x9LmT2pR7wK4sZ8nB1cY6hJ0dF5gA",  # random-looking: 32 characters, no placeholder
        "ENCRYPTION_KEYS": "k1:dGVzdC1lbmNyeXB0aW9uLWtleS0zMi1ieXRlcy0wMTI=",
        "API_KEY_PEPPERS": "p1:Hq8vN3xR5tW9zB2dF6jL0mP4sY7cK1gA",
        "DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/test",
        "MAIL_BACKEND": "smtp",
        "BASE_URL": "https://data.example.org",
        "LICENSE_SIGNING_KEY": licensing.KeyRing.generate(utcnow()).private_pem().decode(),
        "STRIPE_SECRET_KEY": "sk_live_example",
        "STRIPE_WEBHOOK_SECRET": "whsec_example",
        "STORAGE_BACKEND": "s3",
        "S3_BUCKET": "datasets",
        "S3_REGION": "eu-central-1",
        "JOB_BROKER_URL": "redis://127.0.0.1:6379/15",  # never contacted while the app is built
    }


def test_production_with_safe_settings_starts(tmp_path) -> None:
    app = create_app(production_settings(tmp_path))
    assert app.config["SESSION_COOKIE_SECURE"] is True


@pytest.mark.parametrize(
    "setting,unsafe",
    [("SECRET_KEY", ""), ("DATABASE_URL", "sqlite:///x.db"), ("MAIL_BACKEND", "console"), ("BASE_URL", "http://x"),
     ("STRIPE_SECRET_KEY", ""), ("LICENSE_SIGNING_KEY", ""), ("PASSWORD_HASHER_PROFILE", "CHEAPEST")],
)  # fmt: skip
def test_production_refuses_each_development_default(tmp_path, setting, unsafe) -> None:
    settings = production_settings(tmp_path)
    settings[setting] = unsafe
    with pytest.raises(ConfigError, match=setting):
        create_app(settings)


def test_bad_setting_value_names_the_setting(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("SMTP_PORT", "not-a-number")
    with pytest.raises(ConfigError, match="SMTP_PORT"):
        create_app({"INSTANCE_PATH": str(tmp_path)})
    monkeypatch.delenv("SMTP_PORT")
    monkeypatch.setenv("MAIL_BACKEND", "pigeon")
    with pytest.raises(ConfigError, match="MAIL_BACKEND"):
        create_app({"INSTANCE_PATH": str(tmp_path)})


def test_development_secret_key_is_generated_once(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = create_app({"INSTANCE_PATH": str(tmp_path), "DATABASE_URL": "sqlite://"})
    second = create_app({"INSTANCE_PATH": str(tmp_path), "DATABASE_URL": "sqlite://"})
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert len(first.config["SECRET_KEY"]) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_healthz_answers_ok(client) -> None:
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_readme_lists_every_setting() -> None:
    from pathlib import Path

    from marketplace.config import SETTINGS

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    missing = [s.name for s in SETTINGS if f"`{s.name}`" not in readme]
    assert not missing, f"README settings table lacks {missing}; run `marketplace config docs`"
