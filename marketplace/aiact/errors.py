"""The error codes of the AI Act documentation packs (see :mod:`marketplace.errors`)."""

from __future__ import annotations

from enum import StrEnum, unique


@unique
class AiActErrorCode(StrEnum):
    PACK_INCOMPLETE = "ai_act_pack_incomplete"  # a pack with missing parts cannot be signed off
    ALREADY_SIGNED_OFF = "ai_act_already_signed_off"  # a version's documentation is signed off once, for good
    VERSION_NOT_PUBLISHED = "ai_act_version_not_published"  # only a published (immutable) version is signed off
