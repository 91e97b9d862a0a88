"""Balanced trial sets: equal human and machine excerpts, sources spread evenly, the least-heard
excerpts first, in an order drawn from the participant's stored seed.

The pair design draws the same way: n human and n machine excerpts (machine ones spread over
models and batches, each excerpt at most once), matched into n pairs, with the human excerpt
first in half of them (the odd one out by the seed) in random order, so A/B order is
counterbalanced within and across participants.

Pure: it sees pool items as plain records and the number of times each has been assigned so far,
so the balance can be tested without a database and replayed from the seed.
"""

import random
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

HUMAN = "human"
MACHINE = "machine"
EXPERIMENTAL = "experimental"
ATTENTION = "attention"


@dataclass(frozen=True)
class PoolItem:
    id: int
    kind: str  # HUMAN or MACHINE
    source: str  # what to spread evenly: "human", or model label and batch


@dataclass(frozen=True)
class Slot:
    kind: str  # EXPERIMENTAL or ATTENTION
    item_id: int | None = None  # the excerpt; in a pair, excerpt A
    attention_index: int | None = None
    item_b_id: int | None = None  # pair design: excerpt B


def _quotas(sources: Sequence[str], total: int, load: Mapping[str, int], rng) -> dict[str, int]:
    """Split `total` over sources as evenly as possible; the remainder goes to the sources heard
    least so far (ties broken by the seed), so across participants every source catches up."""
    base, extra = divmod(total, len(sources))
    order = sorted(sources, key=lambda s: (load.get(s, 0), rng.random()))
    return {s: base + (1 if i < extra else 0) for i, s in enumerate(order)}


def _pick_kind(
    items: Sequence[PoolItem], n: int, exposures: Mapping[int, int], rng: random.Random
) -> list[int]:
    """n items of one kind: quotas per source, least-exposed items within a source."""
    by_source: dict[str, list[PoolItem]] = defaultdict(list)
    for item in items:
        by_source[item.source].append(item)
    for group in by_source.values():
        group.sort(key=lambda it: (exposures.get(it.id, 0), rng.random()))
    load = {s: sum(exposures.get(it.id, 0) for it in g) for s, g in by_source.items()}
    chosen: list[int] = []
    remaining = n
    open_sources = sorted(by_source)
    while remaining:
        quotas = _quotas(open_sources, remaining, load, rng)
        for source, quota in quotas.items():
            group = by_source[source]
            take, by_source[source] = group[:quota], group[quota:]
            chosen.extend(it.id for it in take)
            remaining -= len(take)
        open_sources = [s for s in open_sources if by_source[s]]
        if remaining and not open_sources:
            raise ValueError(f"the pool has too few excerpts: {remaining} more needed")
    return chosen


def _with_attention(
    slots: list[Slot], n_attention: int, n_attention_clips: int, rng: random.Random
) -> list[Slot]:
    """The experimental slots with n_attention attention checks placed at random, never first."""
    n_trials = len(slots)
    clips = rng.sample(range(n_attention_clips), k=min(n_attention, n_attention_clips))
    while len(clips) < n_attention:
        clips.append(rng.randrange(n_attention_clips))
    places = sorted(rng.sample(range(1, n_trials + 1), k=min(n_attention, n_trials)))
    for offset, (place, clip) in enumerate(zip(places, clips, strict=False)):
        slots.insert(place + offset, Slot(ATTENTION, attention_index=clip))
    return slots


def draw_trials(
    pool: Sequence[PoolItem],
    exposures: Mapping[int, int],
    n_trials: int,
    n_attention: int,
    n_attention_clips: int,
    seed: int,
) -> list[Slot]:
    """One participant's sequence: n_trials experimental slots (half of each kind) in random
    order, with n_attention attention checks placed at random, never first."""
    if n_trials < 2 or n_trials % 2:
        raise ValueError(f"trials per participant must be even and at least 2, got {n_trials}")
    if n_attention and not n_attention_clips:
        raise ValueError("attention checks were asked for but there are no attention clips")
    rng = random.Random(seed)
    half = n_trials // 2
    slots = [
        Slot(EXPERIMENTAL, item_id=item_id)
        for kind in (HUMAN, MACHINE)
        for item_id in _pick_kind([p for p in pool if p.kind == kind], half, exposures, rng)
    ]
    rng.shuffle(slots)
    return _with_attention(slots, n_attention, n_attention_clips, rng)


def draw_pairs(
    pool: Sequence[PoolItem],
    exposures: Mapping[int, int],
    n_pairs: int,
    n_attention: int,
    n_attention_clips: int,
    seed: int,
) -> list[Slot]:
    """One participant's pair sequence: n_pairs (human, machine) pairs of distinct excerpts,
    machine excerpts balanced over models and batches, the human excerpt first in half of them,
    with attention checks placed at random, never first."""
    if n_pairs < 1:
        raise ValueError(f"pairs per participant must be at least 1, got {n_pairs}")
    if n_attention and not n_attention_clips:
        raise ValueError("attention checks were asked for but there are no attention clips")
    rng = random.Random(seed)
    humans = _pick_kind([p for p in pool if p.kind == HUMAN], n_pairs, exposures, rng)
    machines = _pick_kind([p for p in pool if p.kind == MACHINE], n_pairs, exposures, rng)
    rng.shuffle(humans)
    human_first = [i < n_pairs // 2 for i in range(n_pairs)]
    if n_pairs % 2:
        human_first[-1] = rng.random() < 0.5
    rng.shuffle(human_first)
    slots = [
        Slot(EXPERIMENTAL, item_id=h, item_b_id=m) if first else Slot(EXPERIMENTAL, m, None, h)
        for h, m, first in zip(humans, machines, human_first, strict=True)
    ]
    rng.shuffle(slots)
    return _with_attention(slots, n_attention, n_attention_clips, rng)


def choose_practice(
    candidates: Sequence[int], assigned: set[int], exposures: Mapping[int, int], seed: int
) -> int | None:
    """The practice excerpt: one the participant will not hear again, least used, from the seed."""
    free = [c for c in candidates if c not in assigned]
    if not free:
        return None
    rng = random.Random(seed ^ 0x5EED)
    return min(free, key=lambda c: (exposures.get(c, 0), rng.random()))
