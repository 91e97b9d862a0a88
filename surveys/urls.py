"""Participant pages under /s/<study>/ and every sound under one pattern, /a/<random token>."""

from django.urls import path

from surveys.views import audio, participant

app_name = "surveys"

urlpatterns = [
    path("s/<slug:slug>/", participant.entry, name="entry"),
    path("s/<slug:slug>/r/<str:token>/", participant.resume, name="resume"),
    path("s/<slug:slug>/consent/", participant.consent, name="consent"),
    path("s/<slug:slug>/headphones/", participant.headphones, name="headphones"),
    path("s/<slug:slug>/instructions/", participant.instructions, name="instructions"),
    path("s/<slug:slug>/t/<int:position>/", participant.trial, name="trial"),
    path("s/<slug:slug>/questions/", participant.questions, name="questions"),
    path("s/<slug:slug>/done/", participant.done, name="done"),
    path("a/<str:token>", audio.audio, name="audio"),
]
