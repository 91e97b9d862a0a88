"""Celery tasks of the surveys app; Celery's autodiscovery imports this package."""

from surveys.tasks.stimuli import render_stimuli, render_stimulus

__all__ = ["render_stimulus", "render_stimuli"]
