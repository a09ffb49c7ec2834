"""The tamper-evident audit log: per-organisation hash chains of license events, access decisions, downloads and
withdrawals.

Other domains record an event with :func:`append` inside their own unit of work. The chain logic
(:mod:`marketplace.audit.chain`) is pure Python, so exports are verified offline.
"""

from marketplace.audit.service import actor_of, append

__all__ = ["actor_of", "append"]
