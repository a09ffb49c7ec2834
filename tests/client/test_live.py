"""The client against the live application: search, a listing and its offers, an order paid through the sandbox
checkout link, a licensed download checked against the manifest, the certificate verified offline (and a tampered
one refused), an access request, a request for custom data with a quote accepted; then the command line."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from marketplace_client import Client, NotFound, ValidationError

from tests.client.live_world import FILES, World, build, pay_in_sandbox, quote_on
from tests.functional.custom.conftest import request_spec


@pytest.fixture()
def world(live_server) -> World:  # type: ignore[no-untyped-def]
    return build(live_server)


def _client(world: World) -> Client:
    return Client(world.server.url, world.key, timeout=30)


def _bought(client: Client) -> str:
    """Order the speech listing's paid offer, pay it in the sandbox; returns the license id."""
    offer = next(o for o in client.offers("call-centre-speech") if not o.is_free)
    order = client.create_order("globex", [offer], idempotency_key="buy-speech-once")
    assert order.status == "pending_payment" and order.checkout_url
    assert client.checkout_url(order.id) == order.checkout_url
    again = client.create_order("globex", [offer], idempotency_key="buy-speech-once")  # a retry: the same order
    assert again.id == order.id
    pay_in_sandbox(order.checkout_url)
    paid = client.order(order.id)
    assert paid.status == "paid" and len(paid.license_ids) == 1
    assert [o.id for o in client.orders()] == [order.id]
    return paid.license_ids[0]


def test_search_dataset_and_offers(world: World) -> None:
    client = _client(world)
    page = client.search("speech")
    assert {h.slug for h in page.hits} == {"call-centre-speech", "clinical-dictation"} and page.total == 2
    assert [h.slug for h in client.search_all("clinical")] == ["clinical-dictation"]
    dataset = client.dataset("call-centre-speech")
    assert dataset.provider == "northwind" and [v.version for v in dataset.versions] == ["1.0.0"]
    version = client.version("call-centre-speech", "1.0.0")
    assert {f.path: f.sha256 for f in version.files} == {p: hashlib.sha256(c).hexdigest() for p, c in FILES.items()}
    [offer] = client.offers("call-centre-speech")
    assert offer.price.amount == 90000 and offer.price.currency == "EUR" and len(offer.terms_hash) == 64
    with pytest.raises(NotFound) as missing:
        client.dataset("no-such-listing")
    assert missing.value.status == 404


def test_order_pay_download_and_verify_the_certificate(world: World, tmp_path: Path) -> None:
    client = _client(world)
    license_id = _bought(client)
    held = client.license(license_id)
    assert held.status == "active" and held.dataset == "call-centre-speech" and held.licensee == "globex"

    done = client.download("call-centre-speech", tmp_path / "out", parallel=2)
    assert sorted(d.path for d in done) == sorted(FILES)
    for path, content in FILES.items():
        assert (tmp_path / "out" / path).read_bytes() == content

    certificate = client.certificate(license_id)
    result = client.verify_certificate(certificate)
    assert result.valid and result.claims is not None and result.claims["sub"] == license_id
    assert result.claims["dataset"]["slug"] == "call-centre-speech" and result.claims["terms_hash"] == held.terms_hash
    head, payload, signature = certificate.token.split(".")
    tampered = f"{head}.{payload}.{signature[:-2]}{'A' if signature[-2] != 'A' else 'B'}{signature[-1]}"
    assert client.verify_certificate(tampered).reason in {"bad_signature", "malformed"}
    saved = client.download_certificate(license_id, tmp_path / "license.jwt")
    assert client.verify_certificate(saved).valid
    assert client.verify_online(license_id)["valid"] is True


def test_access_request_is_created_signed_and_followed(world: World) -> None:
    client = _client(world)
    form = client.access_form("clinical-dictation")
    assert form["mode"] == "gated_manual"
    with pytest.raises(ValidationError) as invalid:
        client.request_access(
            "clinical-dictation", full_name="Pat", intended_uses=[], intended_use_text="", country="DE"
        )
    assert invalid.value.status == 422 and invalid.value.field
    asked = client.request_access(
        "clinical-dictation",
        full_name="Pat Purchaser",
        intended_uses=["research"],
        intended_use_text="Training a de-identification model.",
        country="DE",
        organisation="globex",
    )
    assert asked.agreement is not None
    signed = client.sign_agreement(asked, "Pat Purchaser")
    status = client.access_request(asked.id)
    assert status.state == signed.state and status.state not in {"approved", "rejected"}
    assert [r.id for r in client.access_requests()] == [asked.id]


def test_custom_request_quote_and_accept(world: World) -> None:
    client = _client(world)
    created = client.create_custom_request(request_spec(), organisation="globex")
    assert created.state == "open" and created.title == request_spec()["title"]
    assert [r.id for r in client.custom_requests()] == [created.id]
    quote_id = quote_on(world, created.id)
    [quote] = client.quotes(created.id)
    assert quote.id == quote_id and quote.provider == "northwind"
    accepted = client.accept_quote(quote_id)
    assert accepted.quote.state == "accepted" and accepted.contract_url.endswith(f"/contracts/{accepted.contract_id}")


def _cli(world: World, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).parent / "marketplace-client"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "marketplace_client"]
    env = {**os.environ, "MARKETPLACE_URL": world.server.url, "MARKETPLACE_API_KEY": world.key}
    return subprocess.run([*command, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False)


def test_the_command_line_searches_downloads_and_verifies(world: World, tmp_path: Path) -> None:
    found = _cli(world, "search", "speech", "--facet", "modality=audio", cwd=tmp_path)
    assert found.returncode == 0, found.stderr
    listed = _cli(world, "search", "dictation", "--json", cwd=tmp_path)
    assert listed.returncode == 0 and '"slug": "clinical-dictation"' in listed.stdout

    missing = _cli(world, "download", "call-centre-speech", "--dest", "out", cwd=tmp_path)
    assert missing.returncode == 1 and "no active license" in missing.stderr

    license_id = _bought(_client(world))
    fetched = _cli(
        world, "download", "call-centre-speech", "--version", "1.0.0", "--dest", "out", "--parallel", "2", cwd=tmp_path
    )
    assert fetched.returncode == 0, fetched.stderr
    assert "2 file(s) downloaded and verified" in fetched.stderr
    for path, content in FILES.items():
        assert (tmp_path / "out" / path).read_bytes() == content
        assert f"{hashlib.sha256(content).hexdigest()}  " in fetched.stdout

    by_id = _cli(world, "verify", license_id, cwd=tmp_path)
    assert by_id.returncode == 0 and by_id.stdout.startswith(f"valid: license {license_id}"), by_id.stderr
    token = _client(world).certificate(license_id).token
    (tmp_path / "good.jwt").write_text(token)
    assert _cli(world, "verify", "good.jwt", cwd=tmp_path).returncode == 0
    (tmp_path / "bad.jwt").write_text(token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB"))
    refused = _cli(world, "verify", "bad.jwt", cwd=tmp_path)
    assert refused.returncode == 3 and "not valid" in refused.stderr

    denied = subprocess.run(
        [
            sys.executable,
            "-m",
            "marketplace_client",
            "--base-url",
            world.server.url,
            "--api-key",
            "mkp_live_wrong",
            "search",
            "x",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={k: v for k, v in os.environ.items() if not k.startswith("MARKETPLACE_")},
    )
    assert denied.returncode == 1 and "(401 " in denied.stderr
