"""Batched stateful sampling: shapes, seeds, strategies, equality with re-running the network."""

import numpy as np
import pytest
import torch

from generation.networks import RollLSTM, RollSeq2Seq, TokenLSTM
from generation.sampling import SamplingConfig, default_mode, sample, seed_windows

SMALL = dict(hidden_size=12, dense_size=8)


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def roll_net(cls=RollLSTM, dim=10):
    torch.manual_seed(0)
    return cls(input_dim=dim, **SMALL).eval()


def test_shapes_for_every_model_and_output_kind():
    rng = np.random.default_rng(0)
    token_seeds = seed_windows("random", 5, 6, rng, vocab_size=9)
    torch.manual_seed(0)
    tokens = sample(
        TokenLSTM(9, **SMALL), "token_lstm", token_seeds, 7, SamplingConfig("temperature"), True, 0
    )
    assert tokens.shape == (5, 7) and tokens.dtype == np.int64 and tokens.max() < 9
    frames = seed_windows("zeros", 5, 6, rng, feature_dim=10)
    onehot = sample(roll_net(), "roll_lstm", frames, 7, SamplingConfig("temperature"), True, 0)
    assert onehot.shape == (5, 7, 10) and np.all(onehot.sum(axis=2) <= 1)
    seq = sample(
        roll_net(RollSeq2Seq), "seq2seq", frames, 15, SamplingConfig("bernoulli"), False, 0
    )
    assert seq.shape == (5, 15, 10) and set(np.unique(seq)) <= {0.0, 1.0}


@pytest.mark.parametrize("mode", ["temperature", "threshold"])
def test_a_one_class_roll_model_sounds_its_class_and_keeps_class_zero_silent(mode):
    net = roll_net()
    frames = seed_windows("zeros", 2, 3, np.random.default_rng(0), feature_dim=10)
    for winner, expected in [(3, 1.0), (0, 0.0)]:
        with torch.no_grad():
            net.classifier[-1].bias.fill_(-50.0)
            net.classifier[-1].bias[winner] = 50.0
        out = sample(net, "roll_lstm", frames, 4, SamplingConfig(mode), True, 0)
        assert np.all(out[:, :, winner] == expected) and out.sum() == expected * out[..., 0].size


def test_same_seed_same_pieces_and_another_seed_other_pieces():
    frames = seed_windows("zeros", 8, 4, np.random.default_rng(0), feature_dim=10)
    config = SamplingConfig("bernoulli", temperature=1.5)
    a = sample(roll_net(), "roll_lstm", frames, 20, config, False, seed=1)
    b = sample(roll_net(), "roll_lstm", frames, 20, config, False, seed=1)
    c = sample(roll_net(), "roll_lstm", frames, 20, config, False, seed=2)
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_carrying_the_state_equals_rerunning_the_network_over_everything_so_far():
    net = roll_net()
    seeds = seed_windows(
        "random", 3, 5, np.random.default_rng(0), feature_dim=10, random_density=0.4
    )
    out = sample(net, "roll_lstm", seeds, 6, SamplingConfig("threshold", threshold=0.5), False, 0)
    history = torch.as_tensor(seeds)
    with torch.no_grad():
        for t in range(6):
            logits, _ = net(history)
            expected = (torch.sigmoid(logits[:, -1]) > 0.5).float()
            assert torch.equal(expected, torch.as_tensor(out[:, t]))
            history = torch.cat([history, expected[:, None]], dim=1)


def test_seq2seq_decodes_each_window_from_the_encoding_of_the_one_before():
    net = roll_net(RollSeq2Seq)
    seeds = seed_windows(
        "random", 2, 4, np.random.default_rng(1), feature_dim=10, random_density=0.4
    )
    out = sample(net, "seq2seq", seeds, 8, SamplingConfig("threshold"), False, 0)
    with torch.no_grad():
        first_block = torch.as_tensor(out[:, :4])
        rebuilt = net(torch.as_tensor(seeds), first_block, 1.0)
        assert torch.equal((torch.sigmoid(rebuilt) > 0.5).float(), first_block)
        second = net(first_block, torch.as_tensor(out[:, 4:]), 1.0)
        assert torch.equal((torch.sigmoid(second) > 0.5).float(), torch.as_tensor(out[:, 4:]))


def test_seed_strategies():
    rng = np.random.default_rng(0)
    assert not seed_windows("zeros", 2, 3, rng, feature_dim=4).any()
    random = seed_windows("random", 200, 10, rng, feature_dim=8, random_density=0.1)
    assert 0.05 < random.mean() < 0.15
    primers = [np.arange(12).reshape(6, 2), 10 + np.arange(12).reshape(6, 2)]
    primed = seed_windows("primer", 3, 4, rng, feature_dim=2, primers=primers)
    assert np.array_equal(primed[0], primers[0][:4]) and np.array_equal(primed[2], primers[0][:4])
    assert np.array_equal(primed[1], primers[1][:4])
    with pytest.raises(ValueError, match="at least 4 steps"):
        seed_windows("primer", 1, 4, rng, feature_dim=2, primers=[np.zeros((3, 2))])
    with pytest.raises(ValueError, match="seed strategy"):
        seed_windows("noise", 1, 4, rng, feature_dim=2)


def test_sampling_settings_that_do_not_fit_the_model_are_refused():
    frames = np.zeros((1, 3, 10), dtype=np.float32)
    with pytest.raises(ValueError, match="one class per step"):
        sample(roll_net(), "roll_lstm", frames, 2, SamplingConfig("bernoulli"), True, 0)
    with pytest.raises(ValueError, match="each key on its own"):
        sample(roll_net(), "roll_lstm", frames, 2, SamplingConfig("temperature"), False, 0)
    with pytest.raises(ValueError, match="temperature must be positive"):
        SamplingConfig("bernoulli", temperature=0)
    with pytest.raises(ValueError, match="mode must be one of"):
        SamplingConfig("beam")


@pytest.mark.parametrize(
    ("categorical", "loss", "mode"),
    [
        (True, None, "temperature"),
        (True, "ce", "temperature"),
        (False, "bce", "bernoulli"),
        (False, "focal", "threshold"),
    ],
)
def test_the_default_mode_suits_what_the_loss_made_of_the_outputs(categorical, loss, mode):
    assert default_mode(categorical, loss) == mode
