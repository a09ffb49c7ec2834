"""Fixtures for the licensing engine tests; helpers live in ``licensing_testkit`` beside this file."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from licensing_testkit import T0

from licensing import KeyRing


@pytest.fixture
def t0() -> datetime:
    return T0


@pytest.fixture
def keyring() -> KeyRing:
    return KeyRing.generate(T0)
