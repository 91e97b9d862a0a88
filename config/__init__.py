"""Wiring only: settings from the environment, the URL map, WSGI; importing it makes the Celery
app available to Django's process. It sits above every app and may import any of them."""

from worker.celery_app import app as celery_app

__all__ = ("celery_app",)
