"""The key ring of stored secrets and the peppers of credential hashes (marketplace/crypto.py)."""

from __future__ import annotations

import pytest

from marketplace.crypto import (
    LEGACY_ID,
    EncryptionKeys,
    KeyMaterialError,
    Peppers,
    SecretBox,
    SecretUnreadable,
    key_id_of,
    key_material_problems,
    new_encryption_key,
    new_pepper,
)

K1, K2 = new_encryption_key("k1"), new_encryption_key("k2")
# Made by the code before the key ring (SecretBox(SECRET_KEY, purpose)) and its SECRET_KEY-derived pepper.
LEGACY_SECRET_KEY = "legacy-secret-key-0123456789abcdefghijklmnop"
LEGACY_CIPHERTEXT = (
    "gAAAAABrDU5xnZwRjB7g6F7Nylb--HmJAT6j78jCVQEi-ZWb0qGUB1BEoP4doV6dx5WZ2Gr7bdLNtbb45sexVZI6OvR0Qii1PQ=="
)
LEGACY_DIGEST_OF_MKP_LIVE_X = "8e659c0d87227d4c439dd1c8cf71c340c35ecbe939dc39249eea0aeb2c3be2d3"
PURPOSE = "webhook-signing-secret"


def test_ciphertexts_name_the_writing_key_and_every_listed_key_reads() -> None:
    old = SecretBox(EncryptionKeys.parse(K1), PURPOSE)
    sealed = old.encrypt("whsec_abc")
    assert sealed.startswith("v1:k1:") and key_id_of(sealed) == "k1" and "whsec_abc" not in sealed
    both = SecretBox(EncryptionKeys.parse(f"{K2},{K1}"), PURPOSE)
    assert both.keys.writing_id == "k2"
    assert both.decrypt(sealed) == "whsec_abc"
    assert key_id_of(both.encrypt("x")) == "k2"
    chosen = SecretBox(EncryptionKeys.parse(f"{K2},{K1}", writing_id="k1"), PURPOSE)
    assert key_id_of(chosen.encrypt("x")) == "k1"
    assert both.reencrypt(sealed).startswith("v1:k2:") and both.decrypt(both.reencrypt(sealed)) == "whsec_abc"
    assert not both.is_current(sealed) and both.is_current(both.reencrypt(sealed)) and both.is_current(None)


def test_an_unknown_key_id_is_refused_naming_it() -> None:
    sealed = SecretBox(EncryptionKeys.parse(K1), PURPOSE).encrypt("s")
    with pytest.raises(SecretUnreadable, match="'k1'"):
        SecretBox(EncryptionKeys.parse(K2), PURPOSE).decrypt(sealed)


def test_a_tampered_or_foreign_ciphertext_is_refused() -> None:
    box = SecretBox(EncryptionKeys.parse(K1), PURPOSE)
    sealed = box.encrypt("s")
    with pytest.raises(SecretUnreadable):
        box.decrypt(sealed[:-4] + ("AAAA" if not sealed.endswith("AAAA") else "BBBB"))
    with pytest.raises(SecretUnreadable):  # same key id, other key bytes
        SecretBox(EncryptionKeys.parse("k1:" + K2.split(":", 1)[1]), PURPOSE).decrypt(sealed)
    with pytest.raises(SecretUnreadable):  # another purpose
        SecretBox(EncryptionKeys.parse(K1), "sso-client-secret").decrypt(sealed)


def test_ciphertexts_from_before_the_key_ring_stay_readable_through_secret_key() -> None:
    assert key_id_of(LEGACY_CIPHERTEXT) == LEGACY_ID
    box = SecretBox(EncryptionKeys.parse(K1, legacy_secret=LEGACY_SECRET_KEY), PURPOSE)
    assert box.decrypt(LEGACY_CIPHERTEXT) == "whsec_legacy"
    assert box.reencrypt(LEGACY_CIPHERTEXT).startswith("v1:k1:")
    with pytest.raises(SecretUnreadable, match="legacy"):
        SecretBox(EncryptionKeys.parse(K1, legacy_secret="another-secret-key-entirely-0123456789"), PURPOSE).decrypt(
            LEGACY_CIPHERTEXT
        )
    with pytest.raises(SecretUnreadable):
        SecretBox(EncryptionKeys.parse(K1), PURPOSE).decrypt(LEGACY_CIPHERTEXT)


@pytest.mark.parametrize(
    "raw,writing,message",
    [
        ("", "", "ENCRYPTION_KEYS is empty"),
        ("nocolon", "", "not `id:value`"),
        ("k1:" + "A" * 10, "", "must be 32 bytes"),
        ("k1:not base64 !!", "", "is not base64"),
        ("k1:" + "*" * 43 + "=", "", "is not base64"),
        ("bad id:" + K1.split(":", 1)[1], "", "key id 'bad id'"),
        (f"legacy:{K1.split(':', 1)[1]}", "", "key id 'legacy'"),
        (f"{K1},{K1}", "", "appears twice"),
        (K1, "k9", "ENCRYPTION_KEY_ID: 'k9' is not one of"),
    ],
)
def test_malformed_key_rings_are_refused_naming_the_setting(raw, writing, message) -> None:
    with pytest.raises(KeyMaterialError, match=message.replace("(", r"\(")) as info:
        EncryptionKeys.parse(raw, writing)
    assert str(info.value).startswith(("ENCRYPTION_KEYS", "ENCRYPTION_KEY_ID"))
    assert K1.split(":", 1)[1] not in str(info.value)


def test_standard_base64_is_accepted_too() -> None:
    keys = EncryptionKeys.parse("k1:" + "+/" * 21 + "A=")
    assert len(keys.keys["k1"]) == 32


def test_peppers_name_their_id_and_verify_with_the_one_a_row_names() -> None:
    one = Peppers.parse(new_pepper("p1"))
    pepper_id, digest = one.digest("mkp_live_x")
    assert pepper_id == "p1" and len(digest) == 64
    two = Peppers.parse(f"{new_pepper('p2')},p1:{one.peppers['p1'].decode()}")
    assert two.writing_id == "p2"
    assert two.matches("mkp_live_x", "p1", digest)
    assert not two.matches("mkp_live_x", "p2", digest)  # the row's pepper, not any pepper
    assert not two.matches("mkp_live_y", "p1", digest)
    assert not two.matches("mkp_live_x", "p9", digest)
    assert two.candidates("mkp_live_x")["p1"] == digest


def test_hashes_from_before_peppers_had_ids_still_verify() -> None:
    peppers = Peppers.parse(new_pepper("p1"), legacy_secret=LEGACY_SECRET_KEY)
    assert peppers.matches("mkp_live_x", LEGACY_ID, LEGACY_DIGEST_OF_MKP_LIVE_X)
    assert peppers.writing_id == "p1"
    assert not Peppers.parse(new_pepper("p1")).matches("mkp_live_x", LEGACY_ID, LEGACY_DIGEST_OF_MKP_LIVE_X)


@pytest.mark.parametrize(
    "raw,writing,message",
    [("p1:short", "", "at least 32 characters"), (new_pepper("p1"), "p2", "API_KEY_PEPPER_ID: 'p2'")],
)
def test_malformed_peppers_are_refused(raw, writing, message) -> None:
    with pytest.raises(KeyMaterialError, match=message):
        Peppers.parse(raw, writing)


def test_key_material_problems_in_and_out_of_production() -> None:
    good = {"ENCRYPTION_KEYS": K1, "API_KEY_PEPPERS": new_pepper("p1")}
    assert key_material_problems(good, required=True) == []
    assert [p.split(" ")[0] for p in key_material_problems({}, required=True)] == [
        "ENCRYPTION_KEYS",
        "API_KEY_PEPPERS",
    ]
    assert key_material_problems({}, required=False) == []
    generated = {**good, "ENCRYPTION_KEYS_GENERATED": True}
    assert key_material_problems(generated, required=True)[0].startswith("ENCRYPTION_KEYS is not set")
    assert key_material_problems({**good, "ENCRYPTION_KEY_ID": "zz"}, required=False)[0].startswith("ENCRYPTION_KEY_ID")


def test_new_entries_are_well_formed_and_random() -> None:
    assert new_encryption_key("k1") != K1
    assert EncryptionKeys.parse(K1).writing_id == "k1"
    with pytest.raises(KeyMaterialError):
        new_encryption_key("legacy")
    with pytest.raises(KeyMaterialError):
        new_pepper("has space")
