"""The seed project's three generators as torch modules (no Django here).

Defaults are the original sizes; every size is a parameter so tests and demos can shrink them.
All three expose their recurrent state so sampling can carry it forward one step at a time
instead of re-running a whole window for every new step, as the original predict.py did.
"""

from dataclasses import dataclass

import torch
from torch import nn

MODEL_KINDS = ("token_lstm", "roll_lstm", "seq2seq")
ROLL_INPUT_DIM = 176

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


def classifier(hidden_size: int, dense_size: int, dense_dropout: float, out_dim: int, relu: bool):
    """The seed's head: Dense -> (ReLU) -> Dropout -> Dense. The Keras model had no activation."""
    layers: list[nn.Module] = [nn.Linear(hidden_size, dense_size)]
    if relu:
        layers.append(nn.ReLU())
    layers += [nn.Dropout(dense_dropout), nn.Linear(dense_size, out_dim)]
    return nn.Sequential(*layers)


class TokenLSTM(nn.Module):
    """Seq2one over note tokens (the seed's Keras model): predicts the next token's logits.

    With embedding_dim=0 the input is, as in the original, the token index divided by the
    vocabulary size (one float per step); a positive embedding_dim learns an embedding instead.
    """

    def __init__(
        self,
        vocab_size: int,
        hidden_size: int = 512,
        num_layers: int = 3,
        dropout: float = 0.3,
        dense_size: int = 256,
        dense_dropout: float = 0.3,
        embedding_dim: int = 0,
    ):
        super().__init__()
        if vocab_size < 1:
            raise ValueError("vocab_size must be at least 1")
        self.vocab_size = vocab_size
        self.embedding = nn.Embedding(vocab_size, embedding_dim) if embedding_dim else None
        self.rnn = stacked_lstm(embedding_dim or 1, hidden_size, num_layers, dropout)
        self.classifier = classifier(hidden_size, dense_size, dense_dropout, vocab_size, relu=False)

    def embed(self, tokens: torch.Tensor) -> torch.Tensor:
        if self.embedding is not None:
            return self.embedding(tokens)
        return (tokens.float() / self.vocab_size).unsqueeze(-1)

    def forward(self, tokens: torch.Tensor, state: State | None = None):
        """tokens (B, T) long -> logits (B, T, vocab) for every position, and the final state."""
        output, state = self.rnn(self.embed(tokens), state)
        return self.classifier(output), state


class RollLSTM(nn.Module):
    """Seq2one over piano-roll frames (the seed's NextNoteModel): predicts the next frame."""

    def __init__(
        self,
        input_dim: int = ROLL_INPUT_DIM,
        hidden_size: int = 512,
        num_layers: int = 2,
        dropout: float = 0.2,
        dense_size: int = 256,
        dense_dropout: float = 0.5,
    ):
        super().__init__()
        self.input_dim = input_dim
        self.rnn = stacked_lstm(input_dim, hidden_size, num_layers, dropout)
        self.classifier = classifier(hidden_size, dense_size, dense_dropout, input_dim, relu=True)

    def forward(self, frames: torch.Tensor, state: State | None = None):
        """frames (B, T, D) -> logits (B, T, D) for every position, and the final state."""
        output, state = self.rnn(frames, state)
        return self.classifier(output), state


class RollSeq2Seq(nn.Module):
    """Encoder-decoder over piano-roll windows (the seed's third and fourth experiments).

    The encoder reads a window x; the decoder, started from the encoder's state and from x's last
    frame, predicts the following window y one frame per step. With teacher forcing ratio 1.0 the
    decoder's inputs are all known in advance, so it runs as ONE fused LSTM call; with a lower ratio
    each step draws whether to feed the true previous frame or the thresholded prediction, which
    needs a Python loop (as the original did for every ratio).
    """

    def __init__(
        self,
        input_dim: int = ROLL_INPUT_DIM,
        hidden_size: int = 512,
        num_layers: int = 2,
        dropout: float = 0.2,
        dense_size: int = 256,
        dense_dropout: float = 0.5,
        threshold: float = 0.5,
    ):
        super().__init__()
        self.input_dim = input_dim
        self.threshold = threshold
        self.encoder = stacked_lstm(input_dim, hidden_size, num_layers, dropout)
        self.decoder = stacked_lstm(input_dim, hidden_size, num_layers, dropout)
        self.classifier = classifier(hidden_size, dense_size, dense_dropout, input_dim, relu=True)

    def encode(self, x: torch.Tensor) -> State:
        _, state = self.encoder(x)
        return state

    def decode(self, inputs: torch.Tensor, state: State):
        """Decoder inputs (B, T, D) from a state -> logits (B, T, D) and the new state."""
        output, state = self.decoder(inputs, state)
        return self.classifier(output), state

    def forward(
        self, x: torch.Tensor, y: torch.Tensor, teacher_forcing_ratio: float = 1.0
    ) -> torch.Tensor:
        """Logits (B, H, D) for every frame of y given x (B, W, D) and, for forcing, y (B, H, D)."""
        state = self.encode(x)
        previous = torch.cat([x[:, -1:], y[:, :-1]], dim=1)
        if teacher_forcing_ratio >= 1.0:
            logits, _ = self.decode(previous, state)
            return logits
        return self.decode_stepwise(previous, state, teacher_forcing_ratio)

    def decode_stepwise(
        self, previous: torch.Tensor, state: State, teacher_forcing_ratio: float
    ) -> torch.Tensor:
        """One decoder call per step; each step feeds the truth with probability ratio."""
        steps = previous.shape[1]
        forced = torch.rand(steps) < teacher_forcing_ratio
        current = previous[:, :1]
        outputs = []
        for t in range(steps):
            logits, state = self.decode(current, state)
            outputs.append(logits)
            if t + 1 < steps:
                predicted = (torch.sigmoid(logits) > self.threshold).to(previous.dtype)
                current = previous[:, t + 1 : t + 2] if forced[t + 1] else predicted
        return torch.cat(outputs, dim=1)


@dataclass(frozen=True)
class NetworkSpec:
    """What it takes to rebuild a network: its kind and constructor arguments (stored in runs)."""

    kind: str
    kwargs: dict

    def build(self) -> nn.Module:
        if self.kind not in MODEL_KINDS:
            raise ValueError(f"model must be one of {', '.join(MODEL_KINDS)}, not {self.kind!r}")
        cls = {"token_lstm": TokenLSTM, "roll_lstm": RollLSTM, "seq2seq": RollSeq2Seq}[self.kind]
        return cls(**self.kwargs)
