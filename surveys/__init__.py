"""Listening studies: studies, stimuli, participants, trials and answers (models/); the
participant flow from consent to completion code, and every sound served blind under /a/;
stimulus rendering on the cpu queue; the `render` and `create_study` commands.

Pure core, no Django: assignment, exclusion, headphone, attention, questionnaire. The
researcher's pages for studies are in the dashboard app.

May import: audio, generation (pieces and batches, read only), worker. Never evaluation or the
dashboard.
"""
