"""Every researcher page: the dashboard at /dashboard/ (namespace "dashboard"), its studies at
/dashboard/studies/ ("surveys_dashboard") and the reports and downloads at /reports/
("evaluation"). The last two namespaces are the ones those pages had when they lived in the
surveys and evaluation apps, kept so that no link and no reverse() changes; config/urls.py
mounts each list. Every view needs a login; dashboard/access.py says which also need a role.
The one exception is a published report at /results/<token>/ ("results"), public by design.
"""

from django.urls import path

from dashboard.views import (
    batches,
    corpora,
    generators,
    home,
    pieces,
    progress,
    published,
    reports,
    runs,
    stimuli,
    studies,
)

app_name = "dashboard"

urlpatterns = [
    path("", home.home, name="home"),
    path("corpora/", corpora.corpus_list, name="corpora"),
    path("corpora/import/", corpora.import_bundled, name="corpus-import"),
    path("corpora/upload/", corpora.import_upload, name="corpus-upload"),
    path("corpora/<slug:slug>/", corpora.corpus_detail, name="corpus"),
    path("pieces/<int:pk>/", pieces.piece_detail, name="piece"),
    path("pieces/<int:pk>/midi/", pieces.piece_midi, name="piece-midi"),
    path("pieces/<int:pk>/audio/", pieces.piece_audio, name="piece-audio"),
    path("runs/", runs.run_list, name="runs"),
    path("runs/new/", runs.run_new, name="run-new"),
    path("runs/<int:pk>/", runs.run_detail, name="run"),
    path("runs/<int:pk>/stop/", runs.run_stop, name="run-stop"),
    path("runs/<int:pk>/resume/", runs.run_resume, name="run-resume"),
    path("batches/", batches.batch_list, name="batches"),
    path("batches/new/", batches.batch_new, name="batch-new"),
    path("batches/<int:pk>/", batches.batch_detail, name="batch"),
    path("generators/import/", generators.generator_import, name="generator-import"),
    path("stimuli/", stimuli.stimulus_list, name="stimuli"),
    path("stimuli/<int:pk>/audio/", stimuli.stimulus_audio, name="stimulus-audio"),
    path("tasks/<str:task_id>/", corpora.task_detail, name="task"),
    path("progress/run/<int:pk>/", progress.row_progress, {"kind": "run"}, name="run-progress"),
    path(
        "progress/batch/<int:pk>/", progress.row_progress, {"kind": "batch"}, name="batch-progress"
    ),
    path("progress/render/<str:task_id>/", stimuli.render_progress, name="render-progress"),
    path("progress/task/<str:task_id>/", progress.task_progress, name="task-progress"),
]

studies_urls = (
    [
        path("", studies.study_list, name="list"),
        path("new/", studies.study_create, name="create"),
        path("<slug:slug>/", studies.study_detail, name="detail"),
        path("<slug:slug>/edit/", studies.study_edit, name="edit"),
        path("<slug:slug>/open/", studies.study_open, name="open"),
        path("<slug:slug>/close/", studies.study_close, name="close"),
        path("<slug:slug>/preview/", studies.study_preview, name="preview"),
    ],
    "surveys_dashboard",
)

reports_urls = (
    [
        path("<slug:slug>/", reports.report, name="report"),
        path("<slug:slug>/report.json", reports.report_json, name="report_json"),
        path("<slug:slug>/answers.csv", reports.answers_csv, name="answers_csv"),
        path("<slug:slug>/participants.csv", reports.participants_csv, name="participants_csv"),
        path("<slug:slug>/tables/<str:name>.csv", reports.table_csv, name="table_csv"),
        path("<slug:slug>/metrics/", reports.metrics, name="metrics"),
        path("<slug:slug>/publish/", published.publish, name="publish"),
        path("<slug:slug>/published/<int:pk>/withdraw/", published.withdraw, name="withdraw"),
    ],
    "evaluation",
)

# Published reports: public by design, reached only through their unguessable links.
results_urls = (
    [
        path("<str:token>/", published.results, name="report"),
        path("<str:token>/report.json", published.results_json, name="report_json"),
    ],
    "results",
)
