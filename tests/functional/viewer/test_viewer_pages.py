"""The data viewer's pages: samples for everyone who may see them, full files only for members of an organisation
whose grant passes the download gate (a matrix of people × grant states), every look recorded as a view and
never as a download, statistics computed once by the job, and the problems of unreadable files."""

from __future__ import annotations

import hashlib

import pytest
from markupsafe import escape
from sqlmodel import Session, select

from marketplace.catalog.models import SampleFile
from marketplace.delivery.errors import RefusalReason
from marketplace.delivery.models import DownloadEvent, ViewEvent
from marketplace.jobs.models import BackgroundJob, JobKind
from marketplace.viewer.models import StatisticsState, ViewerStatistics
from tests.factories import PASSWORD
from tests.functional.test_delivery import _grant_in_state, _stored_file, issue
from tests.helpers import log_in

CSV = b"id,name,score\n" + b"".join(f"{i},name-{i},{i * 1.5}\n".encode() for i in range(1, 131))

STATES = {
    "active": None,
    "revoked": "grant_revoked",
    "suspended": "grant_suspended",
    "expired": "grant_expired",
    "not_yet_valid": "grant_not_yet_valid",
    "limit_reached": None,  # a view is no download: a spent download limit does not stop it
}
USERS = {"purchaser": True, "buyer_owner": True, "clerk": False, "seller": False, "outsider": False, "admin": False}


def _sample(db_session: Session, dataset, name: str = "preview.csv", content: bytes = CSV,  # type: ignore[no-untyped-def]
            media_type: str = "text/csv") -> SampleFile:  # fmt: skip
    sample = SampleFile(
        dataset_id=dataset.id, filename=name, media_type=media_type, size_bytes=len(content),
        sha256=hashlib.sha256(content).hexdigest(), content=content,
    )  # fmt: skip
    db_session.add(sample)
    db_session.flush()
    return sample


def _full(app, market):  # type: ignore[no-untyped-def]
    return _stored_file(app, market["v1"], "data/full.csv", CSV)


def _file_url(market, file) -> str:  # type: ignore[no-untyped-def]
    return f"/datasets/{market['dataset'].slug}/versions/1.0.0/files/{file.id}/data"


def _views(db_session: Session) -> list[ViewEvent]:
    return list(db_session.exec(select(ViewEvent).order_by(ViewEvent.id)).all())


def test_a_visitor_pages_and_searches_a_sample(client, market, db_session) -> None:
    sample = _sample(db_session, market["dataset"])
    url = f"/datasets/speech/samples/{sample.id}/data"
    page = client.get(url)
    html = page.get_data(as_text=True)
    assert page.status_code == 200, html
    assert "130 rows; showing 1 to 50" in html
    assert '<th scope="col">name<br>' in html and "name-50" in html and "name-51" not in html
    second = client.get(url + "?offset=50").get_data(as_text=True)
    assert "name-51" in second and "name-100" in second and "Previous 50 rows" in second
    found = client.get(url + "?q=NAME-12").get_data(as_text=True)
    # name-12 and name-120 .. name-129
    assert "11 rows contain" in found and "name-125" in found and "name-13," not in found
    assert _views(db_session) == []  # samples are public: nothing to audit


def test_sample_statistics_are_computed_once_by_the_job(client, market, db_session) -> None:
    sample = _sample(db_session, market["dataset"])
    url = f"/datasets/speech/samples/{sample.id}/data"
    client.get(url)  # asks for them; the in-process queue runs the job after the commit
    row = db_session.exec(select(ViewerStatistics).where(ViewerStatistics.sample_id == sample.id)).one()
    db_session.refresh(row)
    assert row.state is StatisticsState.READY, row.error
    assert row.statistics["rows"] == 130
    score = next(c for c in row.statistics["columns"] if c["name"] == "score")
    assert (score["nulls"], score["distinct"], score["min"], score["max"]) == (0, 130, 1.5, 195.0)
    assert sum(bar["count"] for bar in score["histogram"]) == 130
    html = client.get(url).get_data(as_text=True)
    assert 'data-testid="viewer-statistics"' in html and "Histogram of score" in html
    jobs = db_session.exec(select(BackgroundJob).where(BackgroundJob.kind == JobKind.VIEWER_STATS)).all()
    assert len(jobs) == 1


def test_statistics_show_as_being_computed_until_the_job_ran(app, client, market, db_session) -> None:
    sample = _sample(db_session, market["dataset"])
    db_session.add(ViewerStatistics(sample_id=sample.id))  # asked for, not computed yet
    db_session.flush()
    html = client.get(f"/datasets/speech/samples/{sample.id}/data").get_data(as_text=True)
    assert "being computed" in html


@pytest.mark.parametrize("state", list(STATES))
@pytest.mark.parametrize("who", list(USERS))
def test_full_files_only_for_licensee_members_of_a_grant_in_force(app, client, market, db_session, state, who) -> None:
    _grant_in_state(app, db_session, market, state)
    file = _full(app, market)
    log_in(client, market[who].email, PASSWORD)
    response = client.get(_file_url(market, file))
    html = response.get_data(as_text=True)
    views = _views(db_session)
    if USERS[who] and STATES[state] is None:
        assert response.status_code == 200, html
        assert "name-1," not in html and "name-1<" in html and "130 rows" in html
        assert [(v.file_id, v.user_id, v.what) for v in views] == [(file.id, market[who].id, "rows")]
    else:
        assert response.status_code == 403
        reason = RefusalReason(STATES[state] if USERS[who] else "not_licensee")
        assert "name-1<" not in html
        if USERS[who]:
            assert str(escape(reason.message)) in html
        assert views == []
    assert db_session.exec(select(DownloadEvent)).all() == []  # a view is never a download


def test_a_visitor_is_refused_the_full_file(app, client, market, db_session) -> None:
    issue(app, db_session, market)
    file = _full(app, market)
    response = client.get(_file_url(market, file))
    assert response.status_code == 403
    assert "name-1<" not in response.get_data(as_text=True)


def test_a_file_of_another_dataset_or_version_is_not_found(app, client, market, db_session) -> None:
    issue(app, db_session, market)
    file = _full(app, market)
    log_in(client, market["purchaser"].email, PASSWORD)
    assert client.get(f"/datasets/speech/versions/2.0.0/files/{file.id}/data").status_code == 404
    assert client.get(f"/datasets/nothing/versions/1.0.0/files/{file.id}/data").status_code == 404
    assert client.get(f"/datasets/speech/versions/1.0.0/files/{file.id + 999}/data").status_code == 404
    assert client.get("/datasets/speech/samples/999999/data").status_code == 404


def test_a_malformed_file_is_shown_with_its_problem(app, client, market, db_session) -> None:
    sample = _sample(db_session, market["dataset"], "broken.jsonl", b'{"a": 1}\n{"a": \n', "application/jsonl")
    response = client.get(f"/datasets/speech/samples/{sample.id}/data")
    assert response.status_code == 422
    assert "could not be read as JSON Lines" in response.get_data(as_text=True)


def test_the_version_page_links_each_uploaded_file_to_the_viewer(app, client, market, db_session) -> None:
    file = _full(app, market)
    html = client.get("/datasets/speech/versions/1.0.0").get_data(as_text=True)
    assert _file_url(market, file) in html


def test_the_demo_seed_has_parquet_and_csv_samples_and_full_files(app, client, db_session) -> None:
    from marketplace.catalog.models import Dataset, DatasetFile, DatasetVersion
    from marketplace.db import UnitOfWork
    from marketplace.seed import seed_demo

    with app.app_context():
        seed_demo(UnitOfWork(db_session, app.extensions["marketplace.context"]))
        db_session.flush()
    dataset = db_session.exec(select(Dataset).where(Dataset.slug == "instruction-pairs-starter")).one()
    samples = {s.filename: s for s in db_session.exec(select(SampleFile).where(SampleFile.dataset_id == dataset.id))}
    html = client.get(f"/datasets/{dataset.slug}/samples/{samples['starter-sample.parquet'].id}/data").get_data(
        as_text=True
    )
    assert "200 rows; showing 1 to 50" in html and "en-00000" in html
    version = db_session.exec(select(DatasetVersion).where(DatasetVersion.dataset_id == dataset.id)).one()
    paths = set(db_session.exec(select(DatasetFile.path).where(DatasetFile.version_id == version.id)).all())
    assert {"tables/pairs.parquet", "tables/pairs.csv", "data/en.jsonl"} <= paths


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_media_plays_through_a_view_link_that_dies_with_the_license(app, client, market, db_session) -> None:
    import re

    import licensing
    from tests.functional.test_delivery import transition

    grant = issue(app, db_session, market)
    image = _stored_file(app, market["v1"], "images/cat.png", PNG, "image/png")
    log_in(client, market["purchaser"].email, PASSWORD)
    html = client.get(_file_url(market, image)).get_data(as_text=True)
    link = re.search(r'<img src="([^"]+)"', html)
    assert link is not None, html
    src = link.group(1).replace("&amp;", "&")
    assert client.get(src).get_data() == PNG
    assert [v.what for v in _views(db_session)] == ["media"]
    assert db_session.exec(select(DownloadEvent)).all() == []
    transition(app, db_session, grant, licensing.GrantAction.REVOKE)
    assert client.get(src).status_code == 410


def test_an_image_sample_is_shown_with_its_description(client, market, db_session) -> None:
    sample = _sample(db_session, market["dataset"], "cat.png", PNG, "image/png")
    html = client.get(f"/datasets/speech/samples/{sample.id}/data").get_data(as_text=True)
    assert f'src="/datasets/speech/samples/{sample.id}/cat.png"' in html and 'alt="cat.png"' in html


def test_publishing_a_version_computes_its_tables_statistics(app, client, market, db_session) -> None:
    import io

    from marketplace.catalog import services as catalog
    from marketplace.catalog.models import DatasetFile, DatasetVersion
    from marketplace.catalog.vocab import VersionStatus
    from marketplace.db import UnitOfWork
    from marketplace.delivery import services as delivery
    from tests.factories import DatasetVersionFactory

    draft = DatasetVersionFactory(dataset=market["dataset"], version="3.0.0", status=VersionStatus.DRAFT)
    db_session.flush()
    uow = UnitOfWork(db_session, app.extensions["marketplace.context"])
    upload = delivery.start_upload(uow, market["seller"], market["dataset"], draft, path="t.csv", size=len(CSV),
                                   media_type="text/csv")  # fmt: skip
    app.extensions["marketplace.context"].storage.put(upload.storage_key, io.BytesIO(CSV), content_type="text/csv")
    delivery.complete_upload(uow, upload)
    db_session.flush()
    table = db_session.exec(select(DatasetFile).where(DatasetFile.version_id == draft.id)).one()
    catalog.publish_version(uow, market["seller"], market["dataset"], db_session.get(DatasetVersion, draft.id))
    db_session.flush()
    row = db_session.exec(select(ViewerStatistics).where(ViewerStatistics.file_id == table.id)).one()
    assert row.state is StatisticsState.PENDING
    job = db_session.exec(select(BackgroundJob).where(BackgroundJob.kind == JobKind.VIEWER_STATS)).one()
    assert job.payload == {"file_id": table.id}
    from marketplace.viewer.statistics import compute_job

    compute_job(uow, job.payload)
    compute_job(uow, job.payload)  # idempotent: a second run changes nothing
    assert row.state is StatisticsState.READY and row.statistics["rows"] == 130
