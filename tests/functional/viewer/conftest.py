"""The delivery tests' market (a provider, a buyer, a rival, a dataset with two published versions) for the viewer."""

from tests.functional.test_delivery import market  # noqa: F401
