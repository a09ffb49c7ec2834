"""Imports every model module so that ``SQLModel.metadata`` knows every table (for Alembic and tests)."""

from marketplace.accounts import models as accounts_models

__all__ = ["accounts_models"]
