"""Synthetic studies shared by the evaluation tests (small, so the suite stays fast)."""

import secrets

import pytest

from evaluation.simulate import StudyDesign, simulate_study


@pytest.fixture(scope="module")
def small_study():
    design = StudyDesign(
        model_d_primes={"seq2seq": 0.0, "lstm": 1.2},
        participants=60,
        trials_per_source=8,
        items_per_source=16,
        threshold_sd=0.3,
        item_sd=0.2,
        excluded_share=0.1,
    )
    return simulate_study(design, seed=3)


@pytest.fixture
def survey_walks(settings):
    """What tests that walk participants through a study need: a cache namespace of their own
    (so rate limits and link counts start empty), and no wait for sounds nobody plays."""
    settings.CACHES = {
        "default": {**settings.CACHES["default"], "KEY_PREFIX": f"test-{secrets.token_hex(6)}"}
    }
    settings.SURVEY_LISTEN_ALLOWANCE_MS = 2000
