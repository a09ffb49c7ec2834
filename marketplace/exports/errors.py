"""The error codes bucket delivery raises (mapped to HTTP by their base classes in :mod:`marketplace.errors`)."""

from __future__ import annotations

from enum import StrEnum, unique


@unique
class ExportErrorCode(StrEnum):
    ILLEGAL_TRANSITION = "illegal_transition"  # a move the export state machine forbids
    ENDPOINT_NOT_ALLOWED = "endpoint_not_allowed"  # the destination's endpoint is not a public HTTPS address
    DESTINATION_UNREACHABLE = "destination_unreachable"  # the bucket refused the credentials or could not be reached
    NOTHING_TO_EXPORT = "nothing_to_export"  # the version has no stored file the license covers
