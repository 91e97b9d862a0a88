"""Survey fixtures: every test counts rate limits afresh in the shared Redis cache."""

import secrets

import pytest


@pytest.fixture(autouse=True)
def _own_cache_namespace(settings):
    settings.CACHES = {
        "default": {**settings.CACHES["default"], "KEY_PREFIX": f"test-{secrets.token_hex(6)}"}
    }
