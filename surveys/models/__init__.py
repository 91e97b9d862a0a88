"""Django rows of the surveys app."""

from surveys.models.attention import AttentionClip
from surveys.models.participants import Participant
from surveys.models.published import PublishedReport
from surveys.models.stimuli import Stimulus
from surveys.models.study import Study, StudyStimulus
from surveys.models.trials import Answer, HeadphoneTrial, Trial

__all__ = [
    "Stimulus",
    "Study",
    "StudyStimulus",
    "Participant",
    "AttentionClip",
    "Trial",
    "Answer",
    "HeadphoneTrial",
    "PublishedReport",
]
