"""Balanced trial sets: half of each kind, sources spread, exposures evened out, replayable."""

from collections import Counter

import pytest

from surveys.assignment import ATTENTION, EXPERIMENTAL, PoolItem, choose_practice, draw_trials

POOL = (
    [PoolItem(i, "human", "human") for i in range(8)]
    + [PoolItem(100 + i, "machine", "seq2seq/1") for i in range(6)]
    + [PoolItem(200 + i, "machine", "token_lstm/2") for i in range(2)]
)
KIND = {p.id: p.kind for p in POOL}
SOURCE = {p.id: p.source for p in POOL}


def test_half_of_each_kind_and_sources_spread():
    slots = draw_trials(POOL, {}, n_trials=8, n_attention=0, n_attention_clips=0, seed=1)
    ids = [s.item_id for s in slots]
    assert len(set(ids)) == 8
    assert Counter(KIND[i] for i in ids) == {"human": 4, "machine": 4}
    machine_sources = Counter(SOURCE[i] for i in ids if KIND[i] == "machine")
    assert machine_sources == {"seq2seq/1": 2, "token_lstm/2": 2}


def test_same_seed_same_sequence_and_different_seeds_differ():
    a = draw_trials(POOL, {}, 8, 2, 2, seed=7)
    assert a == draw_trials(POOL, {}, 8, 2, 2, seed=7)
    assert any(draw_trials(POOL, {}, 8, 2, 2, seed=s) != a for s in range(8, 12))


def test_attention_checks_are_mixed_in_but_never_first():
    for seed in range(50):
        slots = draw_trials(POOL, {}, 8, 2, 2, seed=seed)
        assert len(slots) == 10
        assert slots[0].kind == EXPERIMENTAL
        assert sum(s.kind == ATTENTION for s in slots) == 2


def test_every_excerpt_is_heard_about_equally_often_over_many_participants():
    exposures: Counter = Counter()
    for seed in range(120):
        for slot in draw_trials(POOL, exposures, 4, 0, 0, seed=seed):
            exposures[slot.item_id] += 1
    by_kind_source: dict[str, list[int]] = {}
    for item in POOL:
        by_kind_source.setdefault(item.source, []).append(exposures[item.id])
    for counts in by_kind_source.values():
        assert max(counts) - min(counts) <= 1
    source_totals = Counter()
    for item in POOL:
        if item.kind == "machine":
            source_totals[item.source] += exposures[item.id]
    assert abs(source_totals["seq2seq/1"] - source_totals["token_lstm/2"]) <= 1


def test_small_sources_give_way_to_larger_ones():
    slots = draw_trials(POOL, {}, 12, 0, 0, seed=3)
    machine = Counter(SOURCE[s.item_id] for s in slots if KIND[s.item_id] == "machine")
    assert machine == {"seq2seq/1": 4, "token_lstm/2": 2}


@pytest.mark.parametrize(
    ("n_trials", "n_attention", "clips", "message"),
    [(3, 0, 0, "even"), (0, 0, 0, "even"), (20, 0, 0, "too few"), (4, 1, 0, "no attention")],
)
def test_bad_requests_are_refused_clearly(n_trials, n_attention, clips, message):
    with pytest.raises(ValueError, match=message):
        draw_trials(POOL, {}, n_trials, n_attention, clips, seed=0)


def test_practice_is_an_excerpt_the_participant_will_not_hear_again():
    assert choose_practice([1, 2, 3], {1, 2}, {}, seed=5) == 3
    assert choose_practice([1, 2], {1, 2}, {}, seed=5) is None
    assert choose_practice([1, 2, 3], set(), {1: 3, 2: 0, 3: 2}, seed=5) == 2
