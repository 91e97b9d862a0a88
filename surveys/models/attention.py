"""Attention-check clips: a spoken instruction finished like every excerpt and served alike."""

from django.db import models

from surveys.models.stimuli import new_token


class AttentionClip(models.Model):
    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    text = models.CharField(max_length=300, help_text="what the voice says")
    expected_judged_human = models.BooleanField(help_text='true when it asks for "a person"')
    audio_mp3 = models.FileField(upload_to="stimuli/")
    duration_seconds = models.FloatField()
    loudness_lufs = models.FloatField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return self.text
