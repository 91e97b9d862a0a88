"""Django rows of the surveys app."""

from surveys.models.stimuli import Stimulus

__all__ = ["Stimulus"]
