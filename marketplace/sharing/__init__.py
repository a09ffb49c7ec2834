"""Delta Sharing: licensed tabular versions read from code with the open Delta Sharing protocol.

:mod:`~marketplace.sharing.models` holds the recipients (a bearer token per profile, stored as a hash) and the
Parquet tables of each version; :mod:`~marketplace.sharing.schema` turns an Arrow schema into the protocol's
Spark schema; :mod:`~marketplace.sharing.conversion` is the background job that converts CSV and JSON Lines files
to Parquet; :mod:`~marketplace.sharing.recipients` mints, checks and revokes profiles; :mod:`~marketplace.sharing
.protocol` answers the protocol's requests and :mod:`~marketplace.sharing.views` routes them under
``/delta-sharing``.
"""
