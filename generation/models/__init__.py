"""Django rows of the generation app; the networks themselves live in generation/networks.py."""

from generation.models.corpus import Corpus, Piece

__all__ = ["Corpus", "Piece"]
