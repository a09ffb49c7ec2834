"""Governed access: gated and credentialed datasets, data-use agreements, requests, review, credentials."""
