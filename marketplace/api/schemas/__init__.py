"""marshmallow schemas of every ``/api/v1`` request and response; the OpenAPI document is generated from them.

Request schemas refuse unknown fields (a typo is an error, not silently ignored). Response schemas say exactly
what is sent, nullable fields included, so the document's schemas can be checked against real responses.
"""

from marketplace.api.schemas.access import *  # noqa: F403
from marketplace.api.schemas.analytics import *  # noqa: F403
from marketplace.api.schemas.audit import *  # noqa: F403
from marketplace.api.schemas.buying import *  # noqa: F403
from marketplace.api.schemas.common import *  # noqa: F403
from marketplace.api.schemas.exports import *  # noqa: F403
from marketplace.api.schemas.notifications import *  # noqa: F403
from marketplace.api.schemas.providing import *  # noqa: F403
from marketplace.api.schemas.withdrawals import *  # noqa: F403
