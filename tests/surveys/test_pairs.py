"""The pair (2AFC) design: balanced pairs drawn from the seed, A/B order counterbalanced and
recorded, both excerpts heard before an answer counts, pages alike whichever excerpt is human,
practice and attention pairs, the design fixed on opening, the score and experience question."""

import re
from collections import Counter
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from surveys.assignment import ATTENTION, EXPERIMENTAL, PoolItem, draw_pairs
from surveys.models import Answer, Participant, Stimulus, Study, Trial
from tests.surveys.factories import draft_study, make_stimuli, open_study
from tests.surveys.helpers import (
    PAIR_ANSWER,
    QUESTIONNAIRE,
    agree,
    follow,
    participant_of,
    take_study,
)

POOL = (
    [PoolItem(i, "human", "human") for i in range(10)]
    + [PoolItem(100 + i, "machine", "seq2seq/1") for i in range(6)]
    + [PoolItem(200 + i, "machine", "token_lstm/2") for i in range(6)]
)
KIND = {p.id: p.kind for p in POOL}
SOURCE = {p.id: p.source for p in POOL}
LONG = 10.0  # seconds each excerpt lasts in the listening tests


def test_each_pair_is_one_human_and_one_machine_excerpt_none_twice():
    for seed in range(30):
        slots = draw_pairs(POOL, {}, n_pairs=5, n_attention=1, n_attention_clips=2, seed=seed)
        pairs = [s for s in slots if s.kind == EXPERIMENTAL]
        assert len(pairs) == 5 and slots[0].kind == EXPERIMENTAL
        assert sum(s.kind == ATTENTION for s in slots) == 1
        ids = [i for s in pairs for i in (s.item_id, s.item_b_id)]
        assert len(set(ids)) == 10
        assert all({KIND[s.item_id], KIND[s.item_b_id]} == {"human", "machine"} for s in pairs)


def test_machine_excerpts_spread_over_models_and_batches_and_exposures_even_out():
    slots = draw_pairs(POOL, {}, n_pairs=4, n_attention=0, n_attention_clips=0, seed=3)
    machine = [i for s in slots for i in (s.item_id, s.item_b_id) if KIND[i] == "machine"]
    assert Counter(SOURCE[i] for i in machine) == {"seq2seq/1": 2, "token_lstm/2": 2}
    heard: Counter = Counter()
    for seed in range(40):
        for s in draw_pairs(POOL, heard, 4, 0, 0, seed=seed):
            heard.update([s.item_id, s.item_b_id])
    machine_counts = [heard[p.id] for p in POOL if p.kind == "machine"]
    assert max(machine_counts) - min(machine_counts) <= 1


def test_human_first_in_half_the_pairs_and_order_varies_with_the_seed():
    orders = set()
    for seed in range(20):
        slots = draw_pairs(POOL, {}, n_pairs=6, n_attention=0, n_attention_clips=0, seed=seed)
        first = tuple(KIND[s.item_id] == "human" for s in slots)
        assert sum(first) == 3
        orders.add(first)
    assert len(orders) > 5
    assert draw_pairs(POOL, {}, 5, 1, 2, seed=9) == draw_pairs(POOL, {}, 5, 1, 2, seed=9)


def test_an_odd_number_of_pairs_puts_the_odd_one_either_way():
    firsts = {
        sum(KIND[s.item_id] == "human" for s in draw_pairs(POOL, {}, 5, 0, 0, seed=seed))
        for seed in range(30)
    }
    assert firsts == {2, 3}


def test_too_few_excerpts_is_a_clear_error():
    with pytest.raises(ValueError, match="too few excerpts"):
        draw_pairs(POOL, {}, n_pairs=11, n_attention=0, n_attention_clips=0, seed=1)


def _pair_study(slug="pairs", **fields) -> Study:
    fields.setdefault("machine", {"seq2seq": 3, "token_lstm": 3})
    return open_study(slug, design="pair", trials=4, n_human=6, **fields)


def _start(study: Study) -> tuple[Client, Participant]:
    client = Client()
    agree(client, follow(client, f"/s/{study.slug}/"))
    follow(client, f"/s/{study.slug}/instructions/", {})
    return client, participant_of(client, study.slug)


@pytest.mark.django_db
def test_a_participant_gets_a_practice_pair_then_pairs_with_attention_pairs(settings):
    settings.SURVEY_LISTEN_ALLOWANCE_MS = 2000
    study = _pair_study(attention=2, headphone_trials=0)
    client, participant = _start(study)
    trials = list(participant.trials.select_related("item", "item_b", "attention_clip"))
    kinds = Counter(t.kind for t in trials)
    assert kinds == {"practice": 1, "experimental": 4, "attention": 2}
    assert all(t.is_pair for t in trials)
    experimental = [t for t in trials if t.kind != "attention"]
    heard = [i for t in experimental for i in (t.item_id, t.item_b_id)]
    assert len(set(heard)) == len(heard)  # the practice pair too is heard once
    assert all(
        {t.item.source_kind, t.item_b.source_kind} == {"human", "machine"} for t in experimental
    )
    assert all(t.attention_clip.design == "pair" for t in trials if t.kind == "attention")

    response = follow(client, f"/s/{study.slug}/t/0/")
    while "/t/" in response.request["PATH_INFO"]:
        page = response.content.decode()
        assert "Which one was composed by a person?" in page
        assert "Play excerpt A" in page and "Play excerpt B" in page
        response = follow(client, response.request["PATH_INFO"], PAIR_ANSWER)
    answers = Answer.objects.filter(participant=participant).select_related("trial__item")
    assert {a.choice for a in answers} == {"a"} and all(a.musicality is None for a in answers)
    for answer in answers:
        trial = answer.trial
        if trial.kind == "experimental":
            assert answer.correct == (trial.item.source_kind == "human")
        elif trial.kind == "attention":
            assert answer.correct == (trial.attention_clip.expected_choice == "a")
        else:
            assert answer.correct is None


@pytest.mark.django_db
def test_an_answer_before_both_excerpts_could_be_heard_is_refused_with_choices_kept():
    study = _pair_study(attention=0, headphone_trials=0)
    Stimulus.objects.update(duration_seconds=LONG)
    client, participant = _start(study)
    trial = participant.trials.get(position=0)
    url = f"/s/{study.slug}/t/0/"
    early = client.post(url, {**PAIR_ANSWER, "choice": "b", "confidence": "2"})
    assert early.status_code == 400
    page = early.content.decode()
    assert "listen to both excerpts to the end" in page
    assert 'value="b" required checked' in page
    # Long enough for one excerpt is not enough: both play, one at a time.
    Trial.objects.filter(pk=trial.pk).update(
        first_shown_at=timezone.now() - timedelta(seconds=LONG + 1)
    )
    assert client.post(url, PAIR_ANSWER).status_code == 400
    assert not Answer.objects.exists()
    Trial.objects.filter(pk=trial.pk).update(
        first_shown_at=timezone.now() - timedelta(seconds=2 * LONG)
    )
    assert client.post(url, PAIR_ANSWER).status_code == 302
    assert Answer.objects.get().trial == trial


def _without_addresses(page: str) -> str:
    return re.sub(r"/a/[A-Za-z0-9_-]+", "/a/TOKEN", re.sub(r'value="[^"]{40,}"', "", page))


@pytest.mark.django_db
def test_a_pair_page_is_the_same_whichever_excerpt_a_person_composed(settings):
    settings.SURVEY_LISTEN_ALLOWANCE_MS = 2000
    study = _pair_study(attention=0, headphone_trials=0, practice_trial=False)
    pages = {}
    for _ in range(12):
        client, participant = _start(study)
        trial = participant.trials.select_related("item").get(position=1)
        page = client.get(f"/s/{study.slug}/t/1/").content.decode()
        pages.setdefault(trial.item.source_kind, set()).add(_without_addresses(page))
    assert set(pages) == {"human", "machine"}  # A/B order varies across participants
    assert pages["human"] == pages["machine"] and len(pages["human"]) == 1


@pytest.mark.django_db
def test_every_excerpt_is_heard_equally_often_as_a_or_b():
    study = _pair_study(attention=0, headphone_trials=0, practice_trial=False)
    for _ in range(6):
        _start(study)
    heard = Counter()
    for trial in Trial.objects.filter(participant__study=study):
        heard.update([trial.item_id, trial.item_b_id])
    assert sorted(heard.values()) == [4] * 12  # 6 people x 4 pairs over 6 + 6 excerpts


@pytest.mark.django_db
def test_the_practice_pair_takes_practice_only_excerpts_of_each_kind_it_has():
    study = draft_study(
        "practice", design="pair", trials=2, n_human=2, attention=0, headphone_trials=0
    )
    study.add_stimuli(make_stimuli(1, {}), role="practice")
    study.open()
    _, participant = _start(study)
    practice = participant.trials.select_related("item", "item_b").get(kind="practice")
    by_kind = {it.source_kind: it for it in (practice.item, practice.item_b)}
    assert by_kind["human"].role == "practice"
    assert by_kind["machine"].role == "pool"
    experimental = participant.trials.filter(kind="experimental")
    assert by_kind["machine"].id not in {i for t in experimental for i in (t.item_id, t.item_b_id)}


@pytest.mark.django_db
def test_the_design_is_fixed_once_the_study_opens():
    study = _pair_study()
    study.design = Study.Design.SINGLE
    with pytest.raises(ValidationError, match="design is fixed"):
        study.save()


@pytest.mark.django_db
def test_a_pair_study_needs_matched_lengths_and_pair_attention_clips():
    study = draft_study("mixed", design="pair", trials=2, n_human=2)
    assert study.problems() == []
    Stimulus.objects.filter(source_kind="machine").update(duration_seconds=0.9)
    assert any("must all last the same" in p for p in study.problems())
    Stimulus.objects.update(duration_seconds=0.6)
    Stimulus.objects.filter(source_kind="human").update(spec_hash="four-bars")
    Stimulus.objects.filter(source_kind="machine").update(spec_hash="eight-bars")
    assert any("one set of settings" in p for p in study.problems())
    Stimulus.objects.update(spec_hash="four-bars")
    study.attention_clips.update(design="single")
    problems = " ".join(study.problems())
    assert "no attention clips for the pair design" in problems
    assert "another design" in problems


@pytest.mark.django_db
def test_the_score_and_the_experience_question_when_the_study_asks(settings):
    settings.SURVEY_LISTEN_ALLOWANCE_MS = 2000
    study = _pair_study(show_score=True, ask_experience=True)
    client = Client()
    done = take_study(
        client, study.slug, questionnaire={**QUESTIONNAIRE, "music_experience": "advanced"}
    )
    participant = participant_of(client, study.slug)
    assert participant.music_experience == "advanced"
    right = participant.answers.filter(trial__kind="experimental", correct=True).count()
    assert f"in {right} of 4 pairs" in done.content.decode()
    assert study.completion_code in done.content.decode()
