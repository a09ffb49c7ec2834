"""Delivery's services, in one namespace for views, the API and the command line.

They live in three modules, one per concern: :mod:`marketplace.delivery.uploads` (provider uploads into object
storage, verified manifests, publishing once every file is verified), :mod:`marketplace.delivery.downloads`
(the one gate for download links, their audit, and links that die with the license) and
:mod:`marketplace.delivery.stats` (the provider's download statistics); :mod:`marketplace.delivery.stores` says
where a dataset's files live.
"""

from __future__ import annotations

from marketplace.delivery.downloads import (
    DownloadLink,
    Rendition,
    Requester,
    check_download_allowed,
    covered_versions,
    deliverable_files,
    downloads_used,
    grant_for_download,
    grant_for_file_download,
    grant_manifest,
    issue_download_link,
    issue_download_links,
    link_reference,
    link_refusal,
)
from marketplace.delivery.stats import DownloadStats, download_stats
from marketplace.delivery.stores import dataset_storage, regional_storage, storage_key_for
from marketplace.delivery.uploads import (
    DEFAULT_MEDIA_TYPE,
    complete_upload,
    deliverability_problems,
    get_upload,
    publish_uploaded_version,
    remove_upload,
    require_deliverable,
    start_upload,
    upload_links,
    upload_progress,
    uploads_of,
)

__all__ = [
    "DEFAULT_MEDIA_TYPE",
    "DownloadLink",
    "DownloadStats",
    "Rendition",
    "Requester",
    "check_download_allowed",
    "complete_upload",
    "covered_versions",
    "dataset_storage",
    "deliverability_problems",
    "deliverable_files",
    "download_stats",
    "downloads_used",
    "get_upload",
    "grant_for_download",
    "grant_for_file_download",
    "grant_manifest",
    "issue_download_link",
    "issue_download_links",
    "link_reference",
    "link_refusal",
    "publish_uploaded_version",
    "regional_storage",
    "remove_upload",
    "require_deliverable",
    "start_upload",
    "storage_key_for",
    "upload_links",
    "upload_progress",
    "uploads_of",
]
