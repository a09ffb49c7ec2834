"""The error codes the webhooks domain raises (see :mod:`marketplace.errors`)."""

from __future__ import annotations

from enum import StrEnum, unique


@unique
class WebhookErrorCode(StrEnum):
    TOO_MANY_ENDPOINTS = "too_many_endpoints"  # the organisation has the most endpoints it may have
    ENDPOINT_DISABLED = "endpoint_disabled"  # redelivering to an endpoint that is switched off
