"""Researcher study management, mounted at /dashboard/studies/ (every view needs a login)."""

from django.urls import path

from surveys.views import dashboard

app_name = "surveys_dashboard"

urlpatterns = [
    path("", dashboard.study_list, name="list"),
    path("new/", dashboard.study_create, name="create"),
    path("<slug:slug>/", dashboard.study_detail, name="detail"),
    path("<slug:slug>/open/", dashboard.study_open, name="open"),
    path("<slug:slug>/close/", dashboard.study_close, name="close"),
    path("<slug:slug>/preview/", dashboard.study_preview, name="preview"),
]
