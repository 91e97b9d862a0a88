"""How often a study's link was opened, counted without storing anything about anyone.

Following the link changes nothing in the database: link scanners, chat-app previews and e-mail
security scanners follow links too. So the funnel's first step is a counter in the cache
(Redis), raised each time a browser that is not taking part yet opens the link. Scanners count
too, and a reload counts again: it bounds the number of people from above, it does not count
them. Participants are recorded from their consent on.
"""

import logging

from django.core.cache import cache
from redis import RedisError

from surveys.models import Study

log = logging.getLogger(__name__)


def _key(study: Study) -> str:
    return f"survey-link-opened:{study.pk}"


def count_opening(study: Study) -> None:
    """One more opening; a cache that cannot be reached costs the count, never the page."""
    try:
        cache.add(_key(study), 0, timeout=None)
        cache.incr(_key(study))
    except (RedisError, OSError, ValueError) as error:
        log.warning("study %s: link opening not counted (%s)", study.slug, error)


def openings(study: Study) -> int | None:
    """How often the link was opened; None when the cache cannot be reached."""
    try:
        return int(cache.get(_key(study), 0))
    except (RedisError, OSError) as error:
        log.warning("study %s: link openings unknown (%s)", study.slug, error)
        return None
