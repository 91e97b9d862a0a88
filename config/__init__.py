"""Project configuration; importing it makes the Celery app available to Django's process."""

from worker.celery_app import app as celery_app

__all__ = ("celery_app",)
