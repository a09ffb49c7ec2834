"""factory-boy factories for the models; :func:`bind` points them at the current test's session."""

from __future__ import annotations

import factory
from factory.alchemy import SQLAlchemyModelFactory
from sqlmodel import Session

from marketplace.accounts.models import Membership, Organisation, OrgKind, Role, User
from marketplace.accounts.passwords import hasher_for
from marketplace.db import utcnow

PASSWORD = "correct horse battery"
_HASH = hasher_for("CHEAPEST").hash(PASSWORD)

_FACTORIES: list[type[SQLAlchemyModelFactory]] = []


def bind(session: Session) -> None:
    for factory_class in _FACTORIES:
        factory_class._meta.sqlalchemy_session = session  # type: ignore[attr-defined]


def _register(cls: type[SQLAlchemyModelFactory]) -> type[SQLAlchemyModelFactory]:
    _FACTORIES.append(cls)
    return cls


class _Base(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_persistence = "flush"


@_register
class UserFactory(_Base):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.org")
    display_name = factory.Faker("name")
    password_hash = _HASH
    email_verified_at = factory.LazyFunction(utcnow)
    is_platform_admin = False
    session_version = 1
    created_at = factory.LazyFunction(utcnow)


@_register
class OrganisationFactory(_Base):
    class Meta:
        model = Organisation

    slug = factory.Sequence(lambda n: f"org-{n}")
    name = factory.Sequence(lambda n: f"Organisation {n}")
    kind = OrgKind.PROVIDER
    description = ""
    website = ""
    created_at = factory.LazyFunction(utcnow)


@_register
class MembershipFactory(_Base):
    class Meta:
        model = Membership

    organisation_id = factory.LazyAttribute(lambda o: o.organisation.id)
    user_id = factory.LazyAttribute(lambda o: o.user.id)
    role = Role.MEMBER
    created_at = factory.LazyFunction(utcnow)

    class Params:
        organisation = factory.SubFactory(OrganisationFactory)
        user = factory.SubFactory(UserFactory)


def member(org: Organisation, role: Role = Role.MEMBER, **user_fields: object) -> User:
    """A new user who is a member of ``org`` with ``role``."""
    user = UserFactory(**user_fields)
    MembershipFactory(organisation=org, user=user, role=role)
    return user


# --- catalog rows for delivery tests (uploads, downloads) ------------------------------------------------------------


def _catalog_models():  # type: ignore[no-untyped-def]
    from marketplace.catalog import models

    return models


def _vocab():  # type: ignore[no-untyped-def]
    from marketplace.catalog import vocab

    return vocab


@_register
class DatasetFactory(_Base):
    class Meta:
        model = _catalog_models().Dataset

    slug = factory.Sequence(lambda n: f"dataset-{n}")
    organisation_id = factory.LazyAttribute(lambda o: o.organisation.id)
    title = factory.Sequence(lambda n: f"Dataset {n}")
    summary = "A dataset"
    status = factory.LazyFunction(lambda: _vocab().DatasetStatus.PUBLISHED)
    published_at = factory.LazyFunction(utcnow)
    created_at = factory.LazyFunction(utcnow)
    updated_at = factory.LazyFunction(utcnow)

    class Params:
        organisation = factory.SubFactory(OrganisationFactory)


@_register
class DatasetVersionFactory(_Base):
    class Meta:
        model = _catalog_models().DatasetVersion

    dataset_id = factory.LazyAttribute(lambda o: o.dataset.id)
    version = "1.0.0"
    status = factory.LazyFunction(lambda: _vocab().VersionStatus.DRAFT)
    created_at = factory.LazyFunction(utcnow)

    class Params:
        dataset = factory.SubFactory(DatasetFactory)


@_register
class DatasetFileFactory(_Base):
    class Meta:
        model = _catalog_models().DatasetFile

    version_id = factory.LazyAttribute(lambda o: o.version.id)
    path = factory.Sequence(lambda n: f"data/part-{n}.csv")
    size_bytes = 10
    sha256 = "0" * 64
    media_type = "text/csv"
    storage_key = None

    class Params:
        version = factory.SubFactory(DatasetVersionFactory)
