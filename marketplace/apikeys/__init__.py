"""API access: API keys (users' and organisations'), idempotency records of API POSTs, and background API jobs."""
