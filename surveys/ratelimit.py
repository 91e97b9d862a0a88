"""Rate limits on anonymous posts, counted in the Django cache (Redis) so every web process shares
them. Generous enough for a lab where many people share one address; a participant's own posts
are limited separately so one script cannot flood the answers. The address is the client's own,
behind the trusted proxies (surveys.client_address), never the proxy's."""

import functools

from django.conf import settings
from django.core.cache import cache
from django.shortcuts import render

from surveys.client_address import client_address


def _over(key: str, limit: int, window: int) -> bool:
    """Counts one post under `key` and says whether the window's limit is passed. The count is
    raised first (one round trip while a window is open) and made when it does not exist."""
    try:
        return cache.incr(key) > limit
    except ValueError:  # no window open for this key yet, or it expired just now
        if not cache.add(key, 1, timeout=window):
            return cache.incr(key) > limit
        return False


def limit_posts(view):
    """Answer 429 with a polite page when an address or a participant posts too often."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.method == "POST":
            window = settings.SURVEY_RATE_WINDOW_SECONDS
            ip_key = f"survey-rate:ip:{client_address(request) or 'unknown'}"
            over = _over(ip_key, settings.SURVEY_RATE_PER_IP, window)
            participant = request.COOKIES.get(f"p_{kwargs.get('slug', '')}", "")
            if participant:
                limit = settings.SURVEY_RATE_PER_PARTICIPANT
                over |= _over(f"survey-rate:p:{participant}", limit, window)
            if over:
                response = render(request, "surveys/too_fast.html", status=429)
                response["Retry-After"] = str(window)
                return response
        return view(request, *args, **kwargs)

    return wrapped
