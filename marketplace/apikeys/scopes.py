"""The scopes an API key or OAuth client may hold, with what each allows. Scopes only narrow: a credential never
does more than the user (or, for an organisation's credential, its creator within that organisation) may."""

from __future__ import annotations

CATALOG_READ = "catalog:read"
ORDERS_WRITE = "orders:write"
LICENSES_READ = "licenses:read"
DOWNLOADS = "downloads"
PROVIDER_WRITE = "provider:write"
WEBHOOKS_MANAGE = "webhooks:manage"
CUSTOM_READ = "custom:read"
CUSTOM_WRITE = "custom:write"
ACCESS_REQUEST = "access:request"
ACCESS_REVIEW = "access:review"
WITHDRAWALS_READ = "withdrawals:read"
WITHDRAWALS_WRITE = "withdrawals:write"
AUDIT_READ = "audit:read"
ANALYTICS_READ = "analytics:read"
NOTIFICATIONS = "notifications"

SCOPES: dict[str, str] = {
    CATALOG_READ: "Search the catalog; read listings, versions, Croissant metadata and offers.",
    ORDERS_WRITE: "Place orders (accepting their terms) and read them, with their checkout links.",
    LICENSES_READ: "List and read licenses held or granted, and their signed certificates.",
    DOWNLOADS: "Get audited download links and file manifests for licensed datasets.",
    PROVIDER_WRITE: "Providers: create and edit listings, versions, uploads, offers; run catalog imports.",
    WEBHOOKS_MANAGE: "Manage the organisation's outbound webhook endpoints and their deliveries.",
    # Custom data has scopes of its own: negotiating bespoke collections (requests, quotes, private threads) is
    # neither buying off the shelf (orders:write) nor editing listings (provider:write), and a key for the one
    # should not speak for the organisation in the other.
    CUSTOM_READ: "Custom data: read the requests board, your requests and invitations, quotes and private threads.",
    CUSTOM_WRITE: "Custom data: post and edit requests, invite providers, attach files; submit, revise and withdraw "
    "quotes; accept or decline quotes (accepting makes a contract); write in private threads.",
    ACCESS_REQUEST: "Governed datasets: read access forms, request access, sign agreements, follow or withdraw "
    "requests; upload training credentials; manage the named seats of an organisation's access.",
    ACCESS_REVIEW: "Providers' reviewers: the access request queue, approve or reject in batches, reset, revoke "
    "and grant access, export the access report; verify or refuse training credentials.",
    WITHDRAWALS_READ: "Withdrawals: providers read the withdrawals they filed and each licensee's status; licensees "
    "read the withdrawal notices sent to them.",
    WITHDRAWALS_WRITE: "Withdrawals: providers file withdrawals and publish patched versions; licensees confirm "
    "deletion.",
    AUDIT_READ: "Organisation admins: read and export the organisation's tamper-evident audit log (JSON Lines).",
    ANALYTICS_READ: "Providers: read the analytics of the organisation's listings (views, checkouts, sales, revenue, "
    "downloads).",
    NOTIFICATIONS: "Read your own notifications and mark them read (a personal credential: an organisation's "
    "credential reaches no one's notifications).",
}


def parse_scopes(value: str | list[str] | tuple[str, ...]) -> list[str]:
    """Known scopes from a space-separated string or a list, in :data:`SCOPES` order; ValueError names unknown
    ones."""
    items = value.split() if isinstance(value, str) else [str(v) for v in value]
    unknown = sorted({s for s in items if s not in SCOPES})
    if unknown:
        raise ValueError("unknown scope(s): " + ", ".join(unknown))
    chosen = set(items)
    return [s for s in SCOPES if s in chosen]
