"""The ``/api/v1`` operations, one module per area; importing them registers them on the blueprint."""
