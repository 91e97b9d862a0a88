"""Attention-check clips: a spoken instruction finished like every excerpt and served alike."""

from django.core.files.base import ContentFile
from django.db import models

from surveys.attention import INSTRUCTIONS, PAIR_INSTRUCTIONS, attention_audio
from surveys.models.stimuli import new_token


class AttentionClip(models.Model):
    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    text = models.CharField(max_length=300, help_text="what the voice says")
    design = models.CharField(
        max_length=8, default="single", help_text='the study design it is for: "single" or "pair"'
    )
    expected_judged_human = models.BooleanField(
        null=True, help_text='single design: true when it asks for "a person"'
    )
    expected_choice = models.CharField(
        max_length=1, blank=True, help_text='pair design: the excerpt it asks for, "a" or "b"'
    )
    audio_mp3 = models.FileField(upload_to="stimuli/")
    audio_ogg = models.FileField(upload_to="stimuli/", blank=True)
    duration_seconds = models.FloatField()
    loudness_lufs = models.FloatField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return self.text


def make_attention_clips(spec, design: str = "single") -> list[AttentionClip]:
    """One clip per standard instruction of the design, at the length and loudness of excerpts
    made with spec. A pair study plays its clip in both players and asks for one of them."""
    if design == "pair":
        wanted = [(text, {"expected_choice": choice}) for text, choice in PAIR_INSTRUCTIONS]
    else:
        wanted = [(text, {"expected_judged_human": human}) for text, human in INSTRUCTIONS]
    clips = []
    for text, expected in wanted:
        audio = attention_audio(text, spec)
        clip = AttentionClip(
            text=text,
            design=design,
            **expected,
            duration_seconds=audio.duration_seconds,
            loudness_lufs=audio.loudness_lufs,
        )
        name = new_token()
        clip.audio_mp3.save(f"{name}.mp3", ContentFile(audio.mp3), save=False)
        clip.audio_ogg.save(f"{name}.ogg", ContentFile(audio.ogg), save=False)
        clip.save()
        clips.append(clip)
    return clips
