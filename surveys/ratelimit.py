"""Rate limits on anonymous posts, counted in Redis (the cache's server) so every web process
shares them. Generous enough for a lab where many people share one address; a participant's own
posts are limited separately so one script cannot flood the answers. The address is the client's
own, behind the trusted proxies (surveys.client_address), never the proxy's."""

import functools

import redis
from django.conf import settings
from django.core.cache import cache
from django.shortcuts import render

from surveys.client_address import address_block, client_address


@functools.cache
def _server(url: str) -> redis.Redis:
    return redis.Redis.from_url(url)


def _counts(keys: list[str], window: int) -> list[int]:
    """Counts one post under each key and returns each key's count in its window, in one round
    trip: the first post under a key opens its window (EXPIRE NX sets the end only then).

    Django's cache API takes two round trips per count (incr first checks that the key exists):
    four per answer, a tenth of the survey's CPU under load. Keys carry the cache's prefix.
    """
    with _server(settings.CACHES["default"]["LOCATION"]).pipeline(transaction=False) as pipe:
        for key in keys:
            name = cache.make_key(key)
            pipe.incr(name)
            pipe.expire(name, window, nx=True)
        replies = pipe.execute()
    return replies[::2]


def limit_posts(view):
    """Answer 429 with a polite page when an address or a participant posts too often."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.method == "POST":
            window = settings.SURVEY_RATE_WINDOW_SECONDS
            address = address_block(client_address(request))
            limits = {f"survey-rate:ip:{address}": settings.SURVEY_RATE_PER_IP}
            participant = request.COOKIES.get(f"p_{kwargs.get('slug', '')}", "")
            if participant:
                limits[f"survey-rate:p:{participant}"] = settings.SURVEY_RATE_PER_PARTICIPANT
            counts = _counts(list(limits), window)
            if any(n > limit for n, limit in zip(counts, limits.values(), strict=True)):
                response = render(request, "surveys/too_fast.html", status=429)
                response["Retry-After"] = str(window)
                return response
        return view(request, *args, **kwargs)

    return wrapped


def too_many_joins(request) -> bool:
    """Counts one consent from the request's address; True when the address has consented
    more than SURVEY_JOINS_PER_IP times within SURVEY_JOIN_WINDOW_SECONDS. Each consent holds
    one of the study's places for its time limit, so without a cap one script could take every
    place in seconds and turn the real participants away."""
    address = address_block(client_address(request))
    (count,) = _counts([f"survey-join:ip:{address}"], settings.SURVEY_JOIN_WINDOW_SECONDS)
    return count > settings.SURVEY_JOINS_PER_IP
