"""A withdrawal world for the authorisation matrix: a second listing whose version 1.0.0 was withdrawn (its patch
published, the buyer notified) and whose patch 1.0.1 has a withdrawal filed with a publishable patch 1.0.2."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from marketplace.catalog.manifest import compute_manifest_digest
from marketplace.catalog.vocab import VersionStatus
from marketplace.db import utcnow
from marketplace.licenses import services as licenses
from marketplace.withdrawals import services
from tests.factories import DatasetFactory, DatasetVersionFactory


def add_kept_file(world: Any) -> None:
    """Give the world's version 1.0.0 a second stored file, which a withdrawal of ``data/train.csv`` keeps."""
    from sqlmodel import select

    from marketplace.catalog.models import DatasetFile
    from tests.functional.api.conftest import stored_file

    version = world.objects["version"]
    world.objects["extra_file"] = stored_file(world.app, version, "data/extra.csv", b"id,text\n2,bye\n")
    files = list(world.session.exec(select(DatasetFile).where(DatasetFile.version_id == version.id)).all())
    version.manifest_digest = compute_manifest_digest(files)
    version.file_count = len(files)
    world.session.add(version)
    world.session.flush()


def withdrawals_for_matrix(world: Any) -> dict[str, Any]:
    """Path values for the withdrawal routes: a filed withdrawal (``withdrawal_id``) ready to publish, and the
    buyer's notice (``notice_id``) waiting for its confirmation."""
    from tests.functional.api.conftest import stored_file, work

    seller = world.people["seller"]
    dataset = DatasetFactory(organisation=world.orgs["prov"], slug="recall", title="Recall")
    version = DatasetVersionFactory(
        dataset=dataset, version="1.0.0", status=VersionStatus.PUBLISHED, published_at=utcnow() - timedelta(days=3)
    )
    files = [stored_file(world.app, version, f"{name}.csv", f"id\n{name}\n".encode()) for name in "abc"]
    version.manifest_digest = compute_manifest_digest(files)
    version.file_count = len(files)
    world.session.add(version)
    world.session.flush()
    uow = work(world.app, world.session)
    offer = licenses.create_offer(uow, seller, dataset, title="Open", license_id="CC-BY-4.0", price_amount=0,
                                  currency="EUR")  # fmt: skip
    licenses.issue_grant(uow, offer, licensee=world.orgs["buy"], acquired_by=None)
    world.session.flush()
    first = services.file_withdrawal(uow, seller, dataset, services.Filing(version="1.0.0", reason="error",
                                                                           files=("a.csv",)))  # fmt: skip
    [notice] = services.publish_patched_version(uow, seller, first)
    second = services.file_withdrawal(uow, seller, dataset, services.Filing(version="1.0.1", reason="legal_takedown",
                                                                            files=("b.csv",)))  # fmt: skip
    world.session.flush()
    return {"withdrawal_id": second.id, "notice_id": notice.id}
