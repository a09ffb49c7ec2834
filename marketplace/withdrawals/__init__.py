"""Withdrawals: a provider (or a platform admin) takes files or records out of a published version, publishes a
patched version, and every licensee of the withdrawn version is told to delete what it holds and confirms it."""
