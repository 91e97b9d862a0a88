"""The training loop: metrics, early stopping, checkpoints, and resume equal to uninterrupted."""

import pickle

import numpy as np
import pytest
import torch

from generation.datasets import WindowSet, epoch_order
from generation.metrics import MetricTotals, Objective, frame_scores
from generation.training import (
    CHECKPOINT_FORMAT,
    LAST,
    TrainConfig,
    TrainingData,
    evaluate_pieces,
    learning_line,
    load_checkpoint,
    train,
)
from tests.generation.synthetic import SMALL as LEARNS
from tests.generation.synthetic import chord_cycle

SMALL = dict(hidden_size=12, dense_size=8, window=4, batch_size=8, max_windows=48)


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def rolls(seed: int = 0, n: int = 4, length: int = 24, dim: int = 10) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [(rng.random((length, dim)) < 0.25).astype(np.float32) for _ in range(n)]


def test_windows_follow_their_piece_and_never_cross_into_the_next():
    a, b = np.arange(10)[:, None], 100 + np.arange(7)[:, None]
    windows = WindowSet([a, b, np.arange(3)[:, None]], window=4, horizon=1)
    assert len(windows) == (10 - 4) + (7 - 4) and windows.pieces_skipped == 1
    x, y = windows.batch(np.arange(len(windows)))
    assert np.all(np.diff(x[..., 0], axis=1) == 1)
    assert np.array_equal(y[:, 0], x[:, -1, 0] + 1)
    seq = WindowSet([a], window=3, horizon=3, stride=3)
    x, y = seq.batch(np.arange(len(seq)))
    assert np.array_equal(y[0, :, 0], [3, 4, 5])
    with pytest.raises(ValueError, match="no piece is long enough"):
        WindowSet([a], window=10)


def test_epoch_order_depends_only_on_seed_and_epoch():
    assert np.array_equal(epoch_order(50, 3, 2, 10), epoch_order(50, 3, 2, 10))
    assert not np.array_equal(epoch_order(50, 3, 2, None), epoch_order(50, 3, 3, None))
    assert len(epoch_order(50, 3, 2, 10)) == 10


def test_frame_metrics_count_hits_misses_and_false_alarms():
    scores = frame_scores(tp=6, fp=2, fn=4)
    assert scores["precision"] == pytest.approx(0.75)
    assert scores["recall"] == pytest.approx(0.6)
    assert scores["frame_accuracy"] == pytest.approx(0.5)
    assert frame_scores(0, 0, 0)["f1"] == 0.0


def test_silence_everywhere_scores_high_on_the_seeds_accuracy_and_zero_on_f1():
    target = torch.zeros(20, 176)
    target[:, 60] = 1  # one note sounding all along
    logits = torch.full((20, 176), -5.0)  # the model predicts nothing at all
    totals = MetricTotals(Objective("bce"))
    totals.update(logits, target, 0.0)
    summary = totals.summary()
    assert summary["accuracy"] > 0.99
    assert summary["recall"] == 0.0 and summary["f1"] == 0.0
    expected_nll = (
        torch.nn.functional.binary_cross_entropy_with_logits(logits, target, reduction="sum") / 20
    )
    assert summary["nll"] == pytest.approx(expected_nll.item(), rel=1e-5)


def test_a_one_class_roll_model_predicting_silence_makes_no_false_alarm():
    target = torch.zeros(4, 176)
    target[2:, 60] = 1  # two silent frames, then a note
    logits = torch.full((4, 176), -5.0)
    logits[:2, 0] = 5.0  # class 0, which the argmax target gives a silent frame
    logits[2:, 60] = 5.0
    totals = MetricTotals(Objective("ce"))
    totals.update(logits, target, 0.0)
    assert totals.counts == {"tp": 2.0, "fp": 0.0, "fn": 0.0}
    assert totals.summary()["accuracy"] == 1.0


def test_focal_loss_matches_the_seeds_formula():
    torch.manual_seed(0)
    logits, target = torch.randn(5, 7), (torch.rand(5, 7) > 0.5).float()
    p = torch.sigmoid(logits)
    p_t = p * target + (1 - p) * (1 - target)
    w = (0.5 * target + 0.5 * (1 - target)) * (1 - p_t) ** 2
    bce = -(target * torch.log(p) + (1 - target) * torch.log(1 - p))
    assert Objective("focal")(logits, target).item() == pytest.approx((w * bce).sum().item() / 5)


@pytest.mark.parametrize(
    ("model", "extra"),
    [("roll_lstm", {"loss": "bce"}), ("seq2seq", {}), ("token_lstm", {})],
)
def test_resumed_run_ends_exactly_where_an_uninterrupted_one_does(tmp_path, model, extra):
    if model == "token_lstm":
        rng = np.random.default_rng(1)
        data = TrainingData([rng.integers(0, 9, 30) for _ in range(3)], [np.arange(20) % 9], 9)
    else:
        data = TrainingData(rolls(0), rolls(1), None)
    config = TrainConfig(model=model, input_dim=10, epochs=3, **SMALL, **extra)
    whole = train(config, data, tmp_path / "whole")

    def crash_after_second_epoch(metrics):
        if metrics["epoch"] == 2:
            raise KeyboardInterrupt("worker killed")

    with pytest.raises(KeyboardInterrupt):
        train(config, data, tmp_path / "split", on_epoch=crash_after_second_epoch)
    resumed = train(config, data, tmp_path / "split")
    assert resumed.resumed_from_epoch == 2
    assert resumed.history == whole.history
    a = load_checkpoint(whole.last_checkpoint).network.state_dict()
    b = load_checkpoint(resumed.last_checkpoint).network.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_every_epoch_reports_the_seeds_accuracy_and_the_honest_metrics(tmp_path):
    config = TrainConfig(
        model="seq2seq", input_dim=10, epochs=2, teacher_forcing_ratio=1.0, **SMALL
    )
    result = train(config, TrainingData(rolls(0), rolls(1)), tmp_path)
    assert [m["epoch"] for m in result.history] == [1, 2]
    for split in ("train", "valid"):
        for name in ("loss", "accuracy", "precision", "recall", "f1", "frame_accuracy", "nll"):
            assert np.isfinite(result.history[-1][f"{split}_{name}"])
    assert (tmp_path / LAST).exists() and result.best_checkpoint.exists()
    assert result.device == "cpu"


def test_early_stopping_counts_patience_from_the_first_epoch_that_learned(tmp_path):
    config = TrainConfig(**LEARNS | {"epochs": 40, "patience": 2, "lr_patience": 1})
    result = train(config, TrainingData(chord_cycle(1), chord_cycle(2)), tmp_path)
    history = result.history
    assert result.stopped_early and len(history) == result.best_epoch + 2 < 40
    assert history[-1]["lr"] < history[0]["lr"], "the learning rate fell on the plateau"


def test_resuming_with_other_settings_is_refused(tmp_path):
    data = TrainingData(rolls(0), rolls(1))
    train(TrainConfig(model="roll_lstm", input_dim=10, epochs=1, **SMALL), data, tmp_path)
    changed = TrainConfig(model="roll_lstm", input_dim=10, epochs=2, **{**SMALL, "window": 5})
    with pytest.raises(ValueError, match="different settings"):
        train(changed, data, tmp_path)


@pytest.mark.parametrize("model", ["roll_lstm", "seq2seq"])
def test_piece_evaluation_scores_every_frame_once(tmp_path, model):
    config = TrainConfig(model=model, input_dim=10, epochs=1, loss="bce", **SMALL)
    result = train(config, TrainingData(rolls(0), rolls(1)), tmp_path)
    network = load_checkpoint(result.best_checkpoint).network
    test = rolls(2, n=3, length=11)
    scores = evaluate_pieces(network, config, test, torch.device("cpu"))
    assert scores["steps"] == 33
    assert 0 < scores["nll"] < 10 * np.log(2) * 3


def test_the_learning_line_says_which_side_of_the_baseline_a_run_is():
    assert learning_line(3.0, 4.0).endswith("25.0% below it")
    assert learning_line(4.2, 4.0).endswith("5.0% above it")
    assert learning_line(None, 4.0) == "no validation NLL yet"


class RunsCodeWhenUnpickled:
    """What a tampered checkpoint could hold: unpickling it calls a function of its choosing
    (here one that only leaves a file behind)."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (self.marker.touch, ())


def test_a_checkpoint_holding_anything_but_tensors_and_plain_data_is_refused(tmp_path):
    path, marker = tmp_path / "model.pt", tmp_path / "ran"
    torch.save({"format": CHECKPOINT_FORMAT, "metadata": RunsCodeWhenUnpickled(marker)}, path)
    with pytest.raises(pickle.UnpicklingError):
        load_checkpoint(path)
    assert not marker.exists()
