"""Web views of the surveys app: the participant flow, audio serving and study management."""
