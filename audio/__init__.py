"""Turning a piece (human or machine) into sound, by one path for both.

canonical -> excerpt -> synth -> finishing -> codecs, tied together by pipeline, make a
listening-test stimulus; rollimage draws the excerpt for researchers; previews renders a whole
piece for a researcher to hear. Pure code: plain data in and out, no Django.

A package of its own, not part of an app: surveys (stimuli, attention checks) and the dashboard
(previews) both reach it without importing upward. It may import generation's Django-free music
code (encoding/, midi_files) and nothing of any app's models, tasks or views.
"""
