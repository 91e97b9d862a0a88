"""The seed project's three generators as torch modules, and their output heads (no Django here).

Constructor defaults are the original sizes; every size is a parameter so tests and demos can
shrink them. Each class also says how it trains by default (`training_defaults`), so one page
describes a network and the training code reads its defaults from here. Models trained at every
step take 16 chunks a batch: a corpus of a few hundred chorales makes only a few hundred chunks,
and 64 a batch left a few updates an epoch. All three expose their
recurrent state so sampling can carry it forward one step at a time instead of re-running a
whole window for every new step, as the original predict.py did.

A network is a recurrent body that turns inputs into hidden states, and a head that turns a
hidden state into the distribution of the next step. The seed's head treats every feature as
independent given the state; the NADE head (after RNN-NADE) lets each key depend on the keys
below it in the same frame, so a chord is one joint choice rather than 88 separate ones.
"""

import inspect
from dataclasses import dataclass

import torch
from torch import nn

ROLL_INPUT_DIM = 176
HEADS = ("independent", "nade")

State = tuple[torch.Tensor, torch.Tensor]


def stacked_lstm(input_size: int, hidden_size: int, num_layers: int, dropout: float) -> nn.LSTM:
    """Batch-first LSTM layers with dropout between them (none for one layer: nothing between)."""
    return nn.LSTM(
        input_size=input_size,
        hidden_size=hidden_size,
        num_layers=num_layers,
        dropout=dropout if num_layers > 1 else 0.0,
        batch_first=True,
    )


class IndependentHead(nn.Sequential):
    """The seed's head: Dense -> (ReLU) -> Dropout -> Dense, one logit per feature or class.

    The Keras token model had no activation between its dense layers; the roll models had ReLU.
    A Sequential, so its parameters keep the names checkpoints of the seed's networks stored.
    """

    def __init__(
        self, hidden_size: int, dense_size: int, dense_dropout: float, out_dim: int, relu: bool
    ):
        layers: list[nn.Module] = [nn.Linear(hidden_size, dense_size)]
        if relu:
            layers.append(nn.ReLU())
        layers += [nn.Dropout(dense_dropout), nn.Linear(dense_size, out_dim)]
        super().__init__(*layers)

    @property
    def output_bias(self) -> torch.Tensor:
        return self[-1].bias

    def forward(self, hidden: torch.Tensor, target: torch.Tensor | None = None) -> torch.Tensor:
        """Logits (..., out_dim); the target is not needed: features do not depend on each other."""
        for layer in self:
            hidden = layer(hidden)
        return hidden

    def sample(self, hidden: torch.Tensor, pick) -> torch.Tensor:
        """The next step for each row of hidden (B, H): pick(logits (B, out_dim))."""
        return pick(self(hidden))


class NADEHead(nn.Module):
    """RNN-NADE's output layer (Boulanger-Lewandowski, Bengio and Vincent, ICML 2012).

    A NADE over the D features of one frame, in key order from the lowest: feature d is on with
    probability sigmoid(b_d + V_d . sigmoid(c + sum_{k<d} v_k W_k)), where the biases b and c come
    from the recurrent state (through dropout, as the seed's head has) and W, V are shared. The
    product of these conditionals is an exact, normalised distribution over all 2^D frames, so
    its negative log-likelihood is the exact NLL.
    Training scores all D conditionals at once from the true frame (a cumulative sum over keys);
    sampling decides the keys one after another, for a whole batch at a time.
    """

    def __init__(self, hidden_size: int, out_dim: int, nade_hidden: int, dropout: float = 0.0):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.visible_bias = nn.Linear(hidden_size, out_dim)
        self.hidden_bias = nn.Linear(hidden_size, nade_hidden)
        self.W = nn.Parameter(torch.randn(out_dim, nade_hidden) * 0.01)
        self.V = nn.Parameter(torch.randn(out_dim, nade_hidden) * 0.01)

    @property
    def output_bias(self) -> torch.Tensor:
        return self.visible_bias.bias

    def forward(self, hidden: torch.Tensor, target: torch.Tensor | None = None) -> torch.Tensor:
        """Logits (..., D) of each feature given the state and the target's features below it."""
        if target is None:
            raise ValueError("the NADE head scores a frame given its lower keys: pass the target")
        hidden = self.dropout(hidden)
        contribution = target.to(self.W.dtype).unsqueeze(-1) * self.W
        below = torch.cumsum(contribution, dim=-2) - contribution
        activation = torch.sigmoid(self.hidden_bias(hidden).unsqueeze(-2) + below)
        return self.visible_bias(hidden) + (activation * self.V).sum(-1)

    def sample(self, hidden: torch.Tensor, pick) -> torch.Tensor:
        """A frame per row of hidden (B, H), key by key: pick(logits (B, 1)) decides each key."""
        hidden = self.dropout(hidden)
        visible = self.visible_bias(hidden)
        activation = self.hidden_bias(hidden)
        keys = []
        for d in range(self.W.shape[0]):
            logit = visible[:, d : d + 1] + torch.sigmoid(activation) @ self.V[d].unsqueeze(1)
            key = pick(logit)
            keys.append(key)
            activation = activation + key * self.W[d]
        return torch.cat(keys, dim=1)


def roll_head(
    head: str, hidden_size: int, dense_size: int, dense_dropout: float, out_dim: int, nade_hidden
) -> nn.Module:
    if head == "independent":
        return IndependentHead(hidden_size, dense_size, dense_dropout, out_dim, relu=True)
    if head == "nade":
        return NADEHead(hidden_size, out_dim, nade_hidden, dense_dropout)
    raise ValueError(f"head must be one of {', '.join(HEADS)}, not {head!r}")


class TokenLSTM(nn.Module):
    """Seq2one over note tokens (the seed's Keras model): predicts the next token's logits.

    A positive embedding_dim learns an embedding of the tokens (the default). With 0 the input is,
    as in the original, the token index divided by the vocabulary size: one float per step, which
    makes neighbouring indices (unrelated notes and chords) look alike to the network. It trains
    with Adam: with the seed's RMSprop (lr 1e-3) the 512 x 3 network stayed at the unigram
    frequencies for three epochs of the Bach chorales, where Adam was 10% below them after four.
    """

    training_defaults = {
        "loss": "ce",
        "head": "independent",
        "optimizer": "adam",
        "positions": "all",
        "batch_size": 16,
    }

    def __init__(
        self,
        vocab_size: int,
        hidden_size: int = 512,
        num_layers: int = 3,
        dropout: float = 0.3,
        dense_size: int = 256,
        dense_dropout: float = 0.3,
        embedding_dim: int = 64,
    ):
        super().__init__()
        if vocab_size < 1:
            raise ValueError("vocab_size must be at least 1")
        self.vocab_size = vocab_size
        self.embedding = nn.Embedding(vocab_size, embedding_dim) if embedding_dim else None
        self.rnn = stacked_lstm(embedding_dim or 1, hidden_size, num_layers, dropout)
        self.classifier = IndependentHead(
            hidden_size, dense_size, dense_dropout, vocab_size, relu=False
        )

    def embed(self, tokens: torch.Tensor) -> torch.Tensor:
        if self.embedding is not None:
            return self.embedding(tokens)
        return (tokens.float() / self.vocab_size).unsqueeze(-1)

    def features(self, tokens: torch.Tensor, state: State | None = None):
        """tokens (B, T) long -> hidden states (B, T, H) and the final recurrent state."""
        return self.rnn(self.embed(tokens), state)

    def forward(self, tokens: torch.Tensor, state: State | None = None, target=None):
        """tokens (B, T) long -> logits (B, T, vocab) for every position, and the final state."""
        output, state = self.features(tokens, state)
        return self.classifier(output), state


class RollLSTM(nn.Module):
    """Seq2one over piano-roll frames (the seed's NextNoteModel): predicts the next frame.

    It trains by default with BCE through the NADE head, each key given the keys below it, so
    it plays chords. The seed's cross-entropy takes the argmax of a frame as its one class, and
    keys are ordered from the bottom, so a model trained so plays the bass line alone (every
    frame of the training split: its lowest sounding key); it stays as loss "ce".
    """

    training_defaults = {
        "loss": "bce",
        "head": "nade",
        "optimizer": "adam",
        "positions": "all",
        "batch_size": 16,
    }

    def __init__(
        self,
        input_dim: int = ROLL_INPUT_DIM,
        hidden_size: int = 512,
        num_layers: int = 2,
        dropout: float = 0.2,
        dense_size: int = 256,
        dense_dropout: float = 0.5,
        head: str = "independent",
        nade_hidden: int = 128,
    ):
        super().__init__()
        self.input_dim = input_dim
        self.rnn = stacked_lstm(input_dim, hidden_size, num_layers, dropout)
        self.classifier = roll_head(
            head, hidden_size, dense_size, dense_dropout, input_dim, nade_hidden
        )

    def features(self, frames: torch.Tensor, state: State | None = None):
        """frames (B, T, D) -> hidden states (B, T, H) and the final recurrent state."""
        return self.rnn(frames, state)

    def forward(self, frames: torch.Tensor, state: State | None = None, target=None):
        """frames (B, T, D) -> logits (B, T, D) of each next frame, and the final state.

        The NADE head needs the frames being predicted (target, (B, T, D)) to score each key
        given the keys below it; the seed's head ignores them.
        """
        output, state = self.features(frames, state)
        return self.classifier(output, target), state


class RollSeq2Seq(nn.Module):
    """Encoder-decoder over piano-roll windows (the seed's third and fourth experiments).

    The encoder reads a window x; the decoder, started from the encoder's state and from x's last
    frame, predicts the following window y one frame per step. With teacher forcing ratio 1.0 the
    decoder's inputs are all known in advance, so it runs as ONE fused LSTM call; with a lower ratio
    each step draws whether to feed the true previous frame or the thresholded prediction, which
    needs a Python loop (as the original did for every ratio).
    """

    # BCE: the seed's focal loss (still loss "focal") inflates rare keys' probabilities, so its
    # NLL cannot be held against the marginal baseline, and a briefly trained model sampled key
    # by key sounded some twenty keys a step, thresholded none.
    training_defaults = {
        "loss": "bce",
        "head": "independent",
        "optimizer": "adam",
        "positions": "all",
        "batch_size": 64,
    }

    def __init__(
        self,
        input_dim: int = ROLL_INPUT_DIM,
        hidden_size: int = 512,
        num_layers: int = 2,
        dropout: float = 0.2,
        dense_size: int = 256,
        dense_dropout: float = 0.5,
        threshold: float = 0.5,
        head: str = "independent",
        nade_hidden: int = 128,
    ):
        super().__init__()
        self.input_dim = input_dim
        self.threshold = threshold
        self.encoder = stacked_lstm(input_dim, hidden_size, num_layers, dropout)
        self.decoder = stacked_lstm(input_dim, hidden_size, num_layers, dropout)
        self.classifier = roll_head(
            head, hidden_size, dense_size, dense_dropout, input_dim, nade_hidden
        )

    def encode(self, x: torch.Tensor) -> State:
        _, state = self.encoder(x)
        return state

    def decode(self, inputs: torch.Tensor, state: State, target: torch.Tensor | None = None):
        """Decoder inputs (B, T, D) from a state -> logits (B, T, D) and the new state."""
        output, state = self.decoder(inputs, state)
        return self.classifier(output, target), state

    def features(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Decoder hidden states (B, H, hidden) for every frame of y, fed the true frames before."""
        output, _ = self.decoder(_previous_frames(x, y), self.encode(x))
        return output

    def forward(
        self, x: torch.Tensor, y: torch.Tensor, teacher_forcing_ratio: float = 1.0
    ) -> torch.Tensor:
        """Logits (B, H, D) for every frame of y given x (B, W, D) and, for forcing, y (B, H, D)."""
        if teacher_forcing_ratio >= 1.0:
            return self.classifier(self.features(x, y), y)
        previous = _previous_frames(x, y)
        return self.decode_stepwise(previous, self.encode(x), teacher_forcing_ratio, y)

    def decode_stepwise(
        self,
        previous: torch.Tensor,
        state: State,
        teacher_forcing_ratio: float,
        target: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """One decoder call per step; each step feeds the truth with probability ratio."""
        steps = previous.shape[1]
        forced = torch.rand(steps) < teacher_forcing_ratio
        current = previous[:, :1]
        outputs = []
        for t in range(steps):
            step_target = None if target is None else target[:, t : t + 1]
            logits, state = self.decode(current, state, step_target)
            outputs.append(logits)
            if t + 1 < steps:
                predicted = (torch.sigmoid(logits) > self.threshold).to(previous.dtype)
                current = previous[:, t + 1 : t + 2] if forced[t + 1] else predicted
        return torch.cat(outputs, dim=1)


def _previous_frames(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The decoder's inputs under teacher forcing: x's last frame, then y but its last."""
    return torch.cat([x[:, -1:], y[:, :-1]], dim=1)


NETWORKS: dict[str, type[nn.Module]] = {
    "token_lstm": TokenLSTM,
    "roll_lstm": RollLSTM,
    "seq2seq": RollSeq2Seq,
}
MODEL_KINDS = tuple(NETWORKS)


def network_class(kind: str) -> type[nn.Module]:
    if kind not in NETWORKS:
        raise ValueError(f"model must be one of {', '.join(MODEL_KINDS)}, not {kind!r}")
    return NETWORKS[kind]


def constructor_defaults(kind: str) -> dict:
    """A network's constructor defaults by name: the one place each size is written."""
    parameters = inspect.signature(network_class(kind)).parameters.values()
    return {p.name: p.default for p in parameters if p.default is not inspect.Parameter.empty}


@dataclass(frozen=True)
class NetworkSpec:
    """What it takes to rebuild a network: its kind and constructor arguments (stored in runs)."""

    kind: str
    kwargs: dict

    @property
    def head(self) -> str:
        return self.kwargs.get("head", "independent")

    def build(self) -> nn.Module:
        return network_class(self.kind)(**self.kwargs)
