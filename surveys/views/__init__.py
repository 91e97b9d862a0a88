"""Web views of the surveys app: the participant flow and audio serving (a study's researcher
pages are in the dashboard app)."""
