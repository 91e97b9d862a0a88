"""Query helpers for the participant pages, the survey's hottest path."""

from django.db.models import Model, QuerySet


def unique_or_none(queryset: QuerySet) -> Model | tuple | None:
    """The row (or values) a lookup on a unique key finds, or None, asked without an ORDER BY.

    QuerySet.first() orders by the model's ordering or its key. On a unique key that order is
    moot, and building it cost about a fifth of a survey request's CPU under load (Django
    hashes each ordering expression through inspect.signature).
    """
    return next(iter(queryset.order_by()[:1]), None)
