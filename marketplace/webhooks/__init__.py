"""Outbound webhooks: organisations subscribe HTTPS endpoints to marketplace events, delivered signed and retried.

An event handler writes one delivery row per matching endpoint in the same transaction as the change (a
transactional outbox); after the commit a background worker (or ``marketplace webhooks deliver``) claims due rows
and POSTs them, retrying with exponential backoff.
"""
