"""The three seed networks: shapes, the fused seq2seq decoder, learning, save and load."""

import numpy as np
import pytest
import torch

from generation.metrics import Objective
from generation.networks import NetworkSpec, RollLSTM, RollSeq2Seq, TokenLSTM
from generation.training import TrainConfig, TrainingData, load_checkpoint, train

SMALL = dict(hidden_size=16, num_layers=2, dense_size=8)


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Tiny networks run fastest on one thread, and do not fight other processes for cores."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_default_sizes_are_the_seeds():
    token = TokenLSTM(vocab_size=50)
    assert (token.rnn.hidden_size, token.rnn.num_layers, token.rnn.dropout) == (512, 3, 0.3)
    assert token.classifier[0].out_features == 256 and token.classifier[-1].out_features == 50
    roll = RollLSTM()
    assert (roll.rnn.input_size, roll.rnn.hidden_size, roll.rnn.num_layers) == (176, 512, 2)
    assert roll.rnn.dropout == 0.2 and roll.classifier[2].p == 0.5
    seq = RollSeq2Seq()
    assert seq.encoder.hidden_size == seq.decoder.hidden_size == 512
    assert seq.classifier[-1].out_features == 176


def test_output_shapes_and_carried_state():
    tokens = torch.randint(0, 12, (3, 7))
    logits, (h, c) = TokenLSTM(12, **SMALL)(tokens)
    assert logits.shape == (3, 7, 12) and h.shape == (2, 3, 16)
    embedded, _ = TokenLSTM(12, embedding_dim=4, **SMALL)(tokens)
    assert embedded.shape == (3, 7, 12)
    frames = torch.rand(3, 7, 88)
    roll_logits, _ = RollLSTM(input_dim=88, **SMALL)(frames)
    assert roll_logits.shape == (3, 7, 88)
    seq = RollSeq2Seq(input_dim=88, **SMALL)
    assert seq(frames, torch.rand(3, 5, 88), 1.0).shape == (3, 5, 88)
    assert seq(frames, torch.rand(3, 5, 88), 0.5).shape == (3, 5, 88)


def test_fused_decoder_equals_the_step_by_step_loop_under_full_teacher_forcing():
    torch.manual_seed(0)
    seq = RollSeq2Seq(input_dim=20, **SMALL).eval()
    x, y = (torch.rand(4, 6, 20) > 0.7).float(), (torch.rand(4, 6, 20) > 0.7).float()
    fused = seq(x, y, teacher_forcing_ratio=1.0)
    previous = torch.cat([x[:, -1:], y[:, :-1]], dim=1)
    looped = seq.decode_stepwise(previous, seq.encode(x), teacher_forcing_ratio=1.0)
    torch.testing.assert_close(fused, looped)


def test_without_teacher_forcing_the_decoder_feeds_back_its_own_thresholded_output():
    torch.manual_seed(0)
    seq = RollSeq2Seq(input_dim=10, **SMALL).eval()
    x = torch.rand(2, 4, 10)
    y_a, y_b = torch.zeros(2, 5, 10), torch.ones(2, 5, 10)
    # with ratio 0 only y's length matters, never its values (beyond the first step's x frame)
    torch.testing.assert_close(seq(x, y_a, 0.0), seq(x, y_b, 0.0))
    assert not torch.allclose(seq(x, y_a, 1.0), seq(x, y_b, 1.0))


@pytest.mark.parametrize(
    ("network", "objective", "x", "y"),
    [
        (
            lambda: TokenLSTM(6, embedding_dim=8, **SMALL),
            Objective("ce", token_targets=True),
            (torch.arange(8) + torch.arange(4)[:, None]) % 6,
            (torch.arange(4) + 8) % 6,
        ),
        (lambda: RollLSTM(input_dim=12, **SMALL), Objective("bce"), None, None),
        (lambda: RollLSTM(input_dim=12, **SMALL), Objective("ce"), None, None),
        (lambda: RollSeq2Seq(input_dim=12, **SMALL), Objective("focal"), None, None),
    ],
    ids=["token", "roll-bce", "roll-ce", "seq2seq-focal"],
)
def test_each_network_overfits_a_tiny_batch(network, objective, x, y):
    torch.manual_seed(0)
    network = network()
    if x is None:
        x = (torch.rand(4, 8, 12) > 0.6).float()
        y = torch.eye(12)[[1, 5, 7, 9]] if isinstance(network, RollLSTM) else x.flip(1)
    optimiser = torch.optim.Adam(network.parameters(), lr=0.03)
    network.eval()  # no dropout: the loss must fall on a fixed batch

    def loss_now():
        if isinstance(network, RollSeq2Seq):
            logits = network(x, y, 1.0)
            return objective(logits.reshape(-1, 12), y.reshape(-1, 12))
        logits, _ = network(x)
        return objective(logits[:, -1], y)

    first = loss_now().item()
    for _ in range(60):
        optimiser.zero_grad()
        loss = loss_now()
        loss.backward()
        optimiser.step()
    assert loss_now().item() < 0.5 * first


def test_a_checkpoint_rebuilds_the_same_network(tmp_path):
    rng = np.random.default_rng(0)
    rolls = [(rng.random((30, 10)) < 0.2).astype(np.float32) for _ in range(3)]
    config = TrainConfig(model="seq2seq", input_dim=10, window=4, epochs=1, **SMALL)
    result = train(config, TrainingData(rolls, rolls), tmp_path, metadata={"grid": 4})
    loaded = load_checkpoint(result.best_checkpoint)
    assert loaded.spec.kind == "seq2seq" and loaded.metadata == {"grid": 4}
    assert loaded.config == config.resolved()
    again = load_checkpoint(result.best_checkpoint)
    x, y = torch.rand(2, 4, 10), torch.rand(2, 4, 10)
    torch.testing.assert_close(loaded.network(x, y), again.network(x, y))
    assert not loaded.network.training


def test_unknown_model_kind_is_refused():
    with pytest.raises(ValueError, match="model must be one of"):
        NetworkSpec("transformer", {}).build()
    with pytest.raises(ValueError, match="model must be one of"):
        TrainConfig(model="gru")
