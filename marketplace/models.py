"""Imports every model module so that ``SQLModel.metadata`` knows every table (for Alembic and tests)."""

from marketplace.access import models as access_models
from marketplace.accounts import models as accounts_models
from marketplace.aiact import models as aiact_models
from marketplace.analytics import models as analytics_models
from marketplace.apikeys import models as apikeys_models
from marketplace.audit import models as audit_models
from marketplace.catalog import models as catalog_models
from marketplace.catalog.croissant import model as croissant_models
from marketplace.custom import funding_models as custom_funding_models
from marketplace.custom import models as custom_models
from marketplace.delivery import models as delivery_models
from marketplace.exports import models as exports_models
from marketplace.invoices import models as invoices_models
from marketplace.jobs import models as jobs_models
from marketplace.licenses import models as licenses_models
from marketplace.notifications import models as notifications_models
from marketplace.oauth import models as oauth_models
from marketplace.orders import models as orders_models
from marketplace.sharing import models as sharing_models
from marketplace.sso import models as sso_models
from marketplace.viewer import models as viewer_models
from marketplace.webhooks import models as webhooks_models
from marketplace.withdrawals import models as withdrawals_models

__all__ = [
    "access_models",
    "accounts_models",
    "aiact_models",
    "analytics_models",
    "apikeys_models",
    "audit_models",
    "catalog_models",
    "croissant_models",
    "custom_funding_models",
    "custom_models",
    "delivery_models",
    "exports_models",
    "invoices_models",
    "jobs_models",
    "licenses_models",
    "notifications_models",
    "oauth_models",
    "orders_models",
    "sharing_models",
    "sso_models",
    "viewer_models",
    "webhooks_models",
    "withdrawals_models",
]
