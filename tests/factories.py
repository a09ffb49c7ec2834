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
