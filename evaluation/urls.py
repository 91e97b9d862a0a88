"""Report pages and downloads, mounted at /reports/ (every view needs a login)."""

from django.urls import path

from evaluation import views

app_name = "evaluation"

urlpatterns = [
    path("<slug:slug>/", views.report, name="report"),
    path("<slug:slug>/report.json", views.report_json, name="report_json"),
    path("<slug:slug>/answers.csv", views.answers_csv, name="answers_csv"),
    path("<slug:slug>/tables/<str:name>.csv", views.table_csv, name="table_csv"),
    path("<slug:slug>/metrics/", views.metrics, name="metrics"),
]
