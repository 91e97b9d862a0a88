"""The equivalence margins are fixed when a study opens, with every default written out."""

import importlib

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError

from surveys.exclusion import DEFAULT_RULES
from surveys.models import Study
from tests.surveys.factories import open_study

pytestmark = pytest.mark.django_db

pinning = importlib.import_module("surveys.migrations.0006_frozen_d_prime_margin")


def test_opening_writes_out_every_rule_with_the_d_prime_margin():
    study = open_study(exclusion_rules={"headphone_min_correct": 0})
    assert set(study.frozen_rules) == set(DEFAULT_RULES)
    assert study.frozen_rules["equivalence_margin_d_prime"] == 0.3
    assert study.rules["equivalence_margin_d_prime"] == 0.3


def test_a_chosen_d_prime_margin_is_frozen_and_cannot_change():
    study = open_study(
        slug="tight",
        exclusion_rules={"headphone_min_correct": 0, "equivalence_margin_d_prime": 0.2},
    )
    assert study.frozen_rules["equivalence_margin_d_prime"] == 0.2
    study.exclusion_rules = {**study.exclusion_rules, "equivalence_margin_d_prime": 0.5}
    with pytest.raises(ValidationError, match="fixed"):
        study.save()
    assert Study.objects.get(pk=study.pk).rules["equivalence_margin_d_prime"] == 0.2


def test_a_study_that_opened_before_the_d_prime_margin_gets_it_pinned():
    old = open_study(slug="older")
    without = {k: v for k, v in old.frozen_rules.items() if k != "equivalence_margin_d_prime"}
    Study.objects.filter(pk=old.pk).update(frozen_rules=without)
    chosen = open_study(
        slug="chosen",
        exclusion_rules={"headphone_min_correct": 0, "equivalence_margin_d_prime": 0.5},
    )
    draft = Study.objects.create(slug="draft", title="Draft", consent_text="ok")
    pinning.pin_margin(apps, None)
    assert Study.objects.get(pk=old.pk).frozen_rules == {
        **without,
        "equivalence_margin_d_prime": 0.3,
    }
    assert Study.objects.get(pk=chosen.pk).frozen_rules["equivalence_margin_d_prime"] == 0.5
    assert Study.objects.get(pk=draft.pk).frozen_rules is None
