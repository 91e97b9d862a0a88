"""Participant pages under /s/<study>/ and every sound under one pattern, /a/<random token>."""

from django.urls import path

from surveys.views import audio, joining, participant

app_name = "surveys"

urlpatterns = [
    path("s/<slug:slug>/", joining.entry, name="entry"),
    path("s/<slug:slug>/r/<str:token>/", joining.resume_link, name="resume"),
    path("s/<slug:slug>/consent/", joining.consent, name="consent"),
    path("s/<slug:slug>/headphones/", participant.headphones, name="headphones"),
    path("s/<slug:slug>/instructions/", participant.instructions, name="instructions"),
    path("s/<slug:slug>/t/<int:position>/", participant.trial, name="trial"),
    path("s/<slug:slug>/questions/", participant.questions, name="questions"),
    path("s/<slug:slug>/done/", participant.done, name="done"),
    path("s/<slug:slug>/screened-out/", participant.screened_out, name="screened_out"),
    path("s/<slug:slug>/time-up/", participant.time_up, name="time_up"),
    path("a/<str:token>", audio.audio, name="audio"),
]
