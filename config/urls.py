"""Top-level URL map: participant pages, researcher dashboard, reports, published reports, admin.

Media files (checkpoints, MIDI, audio, figures) have no URL of their own, in the demo as in
production: participants hear sounds only through /a/<token>, researchers reach files only
through views that check their login.
"""

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import include, path

from dashboard.urls import reports_urls, results_urls, studies_urls


def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness for container health checks; says nothing about the studies."""
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("healthz", healthz),
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("dashboard/studies/", include(studies_urls)),
    path("reports/", include(reports_urls)),
    path("results/", include(results_urls)),
    path("", include("surveys.urls")),
    path("dashboard/", include("dashboard.urls")),
]
