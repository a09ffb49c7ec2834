"""Errors of governed access (mapped to HTTP by their base classes in marketplace.errors)."""

from __future__ import annotations

from dataclasses import dataclass

from marketplace.errors import PermissionDenied

#: What a holder is told when the approval or the agreement's term has ended (also the download refusal).
ACCESS_EXPIRED = "access expired"


@dataclass
class AccessRequired(PermissionDenied):
    """The dataset's access is governed and this person (or organisation) holds no approval in force (403)."""

    message: str = "Access to this dataset must be requested and approved first."
    code: str = "access_required"
