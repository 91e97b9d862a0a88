"""Django rows of the generation app; the networks themselves live in generation/networks.py."""

from generation.models.corpus import Corpus, Piece
from generation.models.runs import (
    ExternalGenerator,
    GeneratedPiece,
    GenerationBatch,
    TrainingRun,
)

__all__ = [
    "Corpus",
    "Piece",
    "TrainingRun",
    "ExternalGenerator",
    "GenerationBatch",
    "GeneratedPiece",
]
