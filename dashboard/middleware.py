"""Researchers' pages and downloads (answers, reports, pieces) are never kept by a shared cache:
a proxy or a browser cache on a lab machine must not serve one researcher's study data to the
next visitor. Only requests that carry a login session are looked at, so a participant's
request costs nothing here."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control


class ResearcherResponsesArePrivate:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if settings.SESSION_COOKIE_NAME in request.COOKIES and request.user.is_authenticated:
            patch_cache_control(response, private=True, no_store=True)
        return response
