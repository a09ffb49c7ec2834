"""``marketplace keys generate-encryption-key``, ``generate-pepper`` and ``rotate-encryption``: the key material of
stored secrets and credential hashes (:mod:`marketplace.crypto`), attached to the ``keys`` group."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from marketplace.crypto import EncryptionKeys, KeyMaterialError, new_encryption_key, new_pepper
from marketplace.reencrypt import DEFAULT_BATCH_SIZE, reencrypt_all


@click.command("generate-encryption-key")
@click.option("--id", "key_id", default="k1", show_default=True, help="The new key's id (letters, digits, - or _).")
def generate_encryption_key(key_id: str) -> None:
    """Print a fresh `id:base64` entry (32 random bytes) for ENCRYPTION_KEYS.

    To rotate: put it first in ENCRYPTION_KEYS (or name it in ENCRYPTION_KEY_ID), keep the old entries, restart,
    run `marketplace keys rotate-encryption`, then remove the old entries.
    """
    try:
        click.echo(new_encryption_key(key_id))
    except KeyMaterialError as error:
        raise click.BadParameter(str(error), param_hint="--id") from error


@click.command("generate-pepper")
@click.option("--id", "pepper_id", default="p1", show_default=True, help="The new pepper's id.")
def generate_pepper(pepper_id: str) -> None:
    """Print a fresh `id:secret` entry for API_KEY_PEPPERS.

    A new pepper hashes new keys, client secrets and tokens once it is first (or named in API_KEY_PEPPER_ID); keep
    the old entry while credentials hashed with it live (an API key is re-hashed under the writing pepper when used).
    """
    try:
        click.echo(new_pepper(pepper_id))
    except KeyMaterialError as error:
        raise click.BadParameter(str(error), param_hint="--id") from error


@click.command("rotate-encryption")
@click.option("--batch-size", default=DEFAULT_BATCH_SIZE, show_default=True, type=click.IntRange(min=1),
              help="Rows re-encrypted and committed per transaction.")  # fmt: skip
@with_appcontext
def rotate_encryption(batch_size: int) -> None:
    """Re-encrypt every stored secret under the writing key of ENCRYPTION_KEYS, in batches, with progress.

    Safe to run again or after an interruption: rows already under the writing key are skipped. Exits 1 when a
    secret cannot be decrypted with any key of the ring (it is listed and left as it is).
    """
    database = current_app.extensions["marketplace.db"]
    context = current_app.extensions["marketplace.context"]

    def progress(label: str, done: int, total: int) -> None:
        click.echo(f"{label}: {done}/{total}")

    outcome = reencrypt_all(database, context, batch_size=batch_size, progress=progress)
    for label, row_id, reason in outcome.unreadable:
        click.echo(f"unreadable: {label} #{row_id}: {reason}", err=True)
    total = sum(outcome.reencrypted.values())
    writing_id = EncryptionKeys.from_settings(context.settings).writing_id
    click.echo(f"re-encrypted {total} row(s) under key {writing_id}")
    if outcome.unreadable:
        sys.exit(1)


KEY_COMMANDS = (generate_encryption_key, generate_pepper, rotate_encryption)
