"""Networks that learn from their input, a guard that says when one has not, and the NADE head."""

import itertools

import numpy as np
import pytest
import torch

from generation.baselines import baseline_nll, marginal_logits, previous_step_nll
from generation.datasets import ChunkSet
from generation.metrics import Objective
from generation.networks import NADEHead, RollLSTM
from generation.training import (
    LEGACY,
    TrainConfig,
    TrainingData,
    evaluate_pieces,
    load_checkpoint,
    train,
)
from tests.generation.synthetic import KEYS, SMALL, chord_cycle


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# Each head with settings that learn the synthetic chords in seconds.
HEADS = {"independent": {}, "nade": {"head": "nade", "nade_hidden": 16, "epochs": 12}}


@pytest.mark.parametrize("head", HEADS)
def test_a_small_roll_model_leaves_its_baseline_on_sparse_data(tmp_path, head):
    config = TrainConfig(**SMALL | HEADS[head])
    result = train(config, TrainingData(chord_cycle(1), chord_cycle(2)), tmp_path)
    assert result.best_valid_nll < 0.9 * result.baseline_nll
    assert result.learned


@pytest.mark.parametrize("head", HEADS)
def test_the_learning_guard_fires_on_shuffled_targets(tmp_path, head):
    # A NADE head learns the chords without the music before them: against the marginal
    # baseline alone it passed here as learned. Its baseline knows the chords too.
    rng = np.random.default_rng(3)
    shuffled = [piece[rng.permutation(len(piece))] for piece in chord_cycle(1)]
    valid = [piece[rng.permutation(len(piece))] for piece in chord_cycle(2)]
    config = TrainConfig(**SMALL | HEADS[head])
    result = train(config, TrainingData(shuffled, valid), tmp_path)
    assert not result.learned
    assert len(result.history) == config.epochs, "patience counts only once it has learned"


def test_the_output_starts_at_the_marginal_and_the_baseline_is_its_nll(tmp_path):
    pieces = chord_cycle(1)
    config = TrainConfig(**SMALL | {"epochs": 1, "learning_rate": 0.0}).resolved()
    marginal = marginal_logits(config.objective(), pieces, KEYS)
    frequency = np.concatenate(pieces).mean(axis=0)
    on = frequency > 0
    assert np.allclose(torch.sigmoid(marginal).numpy()[on], frequency[on], atol=0.01)
    result = train(config, TrainingData(pieces, pieces), tmp_path)
    bias = load_checkpoint(result.best_checkpoint).network.classifier.output_bias
    torch.testing.assert_close(bias, marginal)
    expected = baseline_nll(config.objective(), marginal, pieces, tokens=False)
    assert result.baseline_nll == pytest.approx(expected)


def test_the_previous_step_baseline_knows_what_follows_what_and_nothing_more():
    tokens = Objective("ce", token_targets=True)
    cycle = [np.tile(np.arange(4), 25)]
    noise = [np.random.default_rng(0).integers(0, 4, 2000)]
    for pieces, previous_tells in ((cycle, True), (noise, False)):
        marginal = marginal_logits(tokens, pieces, 4)
        marginal_nll = baseline_nll(tokens, marginal, pieces, tokens=True)
        previous = previous_step_nll(tokens, marginal, pieces, pieces, tokens=True)
        if previous_tells:
            assert previous < 0.05 < np.log(4) == pytest.approx(marginal_nll, abs=0.01)
        else:
            assert previous == pytest.approx(marginal_nll, abs=0.01)
    # Keys held for eight frames: the state before says most of what comes next.
    held = [np.repeat(np.eye(KEYS, dtype=np.float32)[[0, 3, 5, 7] * 5], 8, axis=0)]
    keys = Objective("bce")
    marginal = marginal_logits(keys, held, KEYS)
    previous = previous_step_nll(keys, marginal, held, held, tokens=False)
    assert previous < 0.5 * baseline_nll(keys, marginal, held, tokens=False)
    empty = np.zeros((0, KEYS), np.float32)  # a piece whose notes all lay off the keyboard
    assert previous_step_nll(keys, marginal, [*held, empty], [empty, *held], False) == previous


def test_every_epoch_records_the_previous_step_baseline(tmp_path):
    result = train(TrainConfig(**SMALL), TrainingData(chord_cycle(1), chord_cycle(2)), tmp_path)
    assert result.previous_step_nll < result.baseline_nll
    assert {e["previous_step_nll"] for e in result.history} == {result.previous_step_nll}
    # Which chord comes next depends on the whole chord before, not on each key's own state.
    assert result.best_valid_nll < result.previous_step_nll


def test_nade_probabilities_sum_to_one_over_every_frame():
    torch.manual_seed(0)
    k = 6
    head = NADEHead(hidden_size=5, out_dim=k, nade_hidden=4)
    with torch.no_grad():
        head.W.normal_(0, 1.0)
        head.V.normal_(0, 1.0)
    hidden = torch.randn(3, 5)
    frames = torch.tensor(list(itertools.product([0.0, 1.0], repeat=k)))
    logits = head(hidden[:, None].expand(3, len(frames), 5), frames.expand(3, -1, -1))
    log_p = -torch.nn.functional.binary_cross_entropy_with_logits(
        logits, frames.expand(3, -1, -1), reduction="none"
    ).sum(-1)
    torch.testing.assert_close(log_p.exp().sum(dim=1), torch.ones(3))


def test_nade_keys_depend_only_on_the_keys_below():
    torch.manual_seed(0)
    head = NADEHead(hidden_size=5, out_dim=8, nade_hidden=4)
    hidden, frame = torch.randn(1, 5), (torch.rand(1, 8) > 0.5).float()
    changed = frame.clone()
    changed[0, 5] = 1 - changed[0, 5]
    a, b = head(hidden, frame), head(hidden, changed)
    torch.testing.assert_close(a[:, :6], b[:, :6])
    assert not torch.allclose(a[:, 6:], b[:, 6:])


def test_a_nade_roll_model_trains_scores_and_samples(tmp_path):
    config = TrainConfig(**SMALL | {"head": "nade", "nade_hidden": 16, "epochs": 2})
    data = TrainingData(chord_cycle(1), chord_cycle(2))
    result = train(config, data, tmp_path)
    loaded = load_checkpoint(result.best_checkpoint)
    assert loaded.spec.head == "nade" and isinstance(loaded.network, RollLSTM)
    scores = evaluate_pieces(loaded.network, config, chord_cycle(3, 2), torch.device("cpu"))
    assert scores["steps"] == 80 and np.isfinite(scores["nll"]) and 0 <= scores["f1"] <= 1


def test_chunks_make_every_step_a_target_once():
    pieces = [np.arange(1, 8)[:, None].astype(np.float32), np.arange(1, 4)[:, None] * 10.0]
    chunks = ChunkSet(pieces, window=3, start=np.zeros(1))
    x, y, mask = chunks.batch(np.arange(len(chunks)))
    assert chunks.steps == 10 and sorted(y[mask][:, 0].tolist()) == [
        1,
        2,
        3,
        4,
        5,
        6,
        7,
        10,
        20,
        30,
    ]
    assert x[0, :, 0].tolist() == [0, 1, 2] and y[0, :, 0].tolist() == [1, 2, 3]
    tokens = ChunkSet([np.arange(5)], window=10)
    x, y, mask = tokens.batch(np.array([0]))
    assert x[0].tolist() == [0, 1, 2, 3] and y[0].tolist() == [1, 2, 3, 4] and mask.all()


def test_piece_and_window_protocols_score_the_same_steps(tmp_path):
    config = TrainConfig(**SMALL | {"epochs": 1})
    result = train(config, TrainingData(chord_cycle(1), chord_cycle(2)), tmp_path)
    network = load_checkpoint(result.best_checkpoint).network
    test = chord_cycle(3, pieces=3, length=21)
    cpu = torch.device("cpu")
    piece = evaluate_pieces(network, config, test, cpu, protocol="piece")
    window = evaluate_pieces(network, config, test, cpu, protocol="window")
    assert piece["steps"] == window["steps"] == 63


def test_a_config_stored_before_the_new_settings_reads_as_the_seed_ran():
    stored = {"model": "roll_lstm", "max_valid_windows": 8, "window": 10}
    config = TrainConfig.from_dict(stored)
    assert {k: getattr(config, k) for k in LEGACY} == LEGACY
    with pytest.raises(ValueError, match="unknown training setting"):
        TrainConfig.from_dict({"model": "roll_lstm", "colour": "red"})


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"model": "token_lstm", "head": "nade"}, "for roll models"),
        ({"model": "roll_lstm", "head": "nade", "loss": "focal"}, "use loss bce"),
        ({"model": "seq2seq", "head": "nade", "teacher_forcing_ratio": 0.5}, "ratio 1.0"),
        ({"model": "seq2seq", "positions": "last"}, "every step"),
        ({"model": "roll_lstm", "lr_decay": 0.0}, "lr_decay"),
    ],
)
def test_settings_that_cannot_work_are_refused(values, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**values)
