"""Celery tasks of the surveys app; Celery's autodiscovery imports this package."""
