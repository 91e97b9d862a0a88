"""Every named URL a participant or researcher has, with its address: links, bookmarks and
templates' {% url %} tags rely on both, so a restructure must leave this list as it is."""

from django.urls import URLPattern, URLResolver, get_resolver, resolve

NAMED_URLS = {
    "login": "accounts/login/",
    "logout": "accounts/logout/",
    "password_change": "accounts/password_change/",
    "password_change_done": "accounts/password_change/done/",
    "password_reset": "accounts/password_reset/",
    "password_reset_done": "accounts/password_reset/done/",
    "password_reset_confirm": "accounts/reset/<uidb64>/<token>/",
    "password_reset_complete": "accounts/reset/done/",
    "surveys:entry": "s/<slug:slug>/",
    "surveys:resume": "s/<slug:slug>/r/<str:token>/",
    "surveys:consent": "s/<slug:slug>/consent/",
    "surveys:headphones": "s/<slug:slug>/headphones/",
    "surveys:instructions": "s/<slug:slug>/instructions/",
    "surveys:trial": "s/<slug:slug>/t/<int:position>/",
    "surveys:questions": "s/<slug:slug>/questions/",
    "surveys:done": "s/<slug:slug>/done/",
    "surveys:screened_out": "s/<slug:slug>/screened-out/",
    "surveys:time_up": "s/<slug:slug>/time-up/",
    "surveys:audio": "a/<str:token>",
    "dashboard:home": "dashboard/",
    "dashboard:corpora": "dashboard/corpora/",
    "dashboard:corpus-import": "dashboard/corpora/import/",
    "dashboard:corpus-upload": "dashboard/corpora/upload/",
    "dashboard:corpus": "dashboard/corpora/<slug:slug>/",
    "dashboard:piece": "dashboard/pieces/<int:pk>/",
    "dashboard:piece-midi": "dashboard/pieces/<int:pk>/midi/",
    "dashboard:piece-audio": "dashboard/pieces/<int:pk>/audio/",
    "dashboard:runs": "dashboard/runs/",
    "dashboard:run-new": "dashboard/runs/new/",
    "dashboard:run": "dashboard/runs/<int:pk>/",
    "dashboard:run-stop": "dashboard/runs/<int:pk>/stop/",
    "dashboard:run-resume": "dashboard/runs/<int:pk>/resume/",
    "dashboard:batches": "dashboard/batches/",
    "dashboard:batch-new": "dashboard/batches/new/",
    "dashboard:batch": "dashboard/batches/<int:pk>/",
    "dashboard:generator-import": "dashboard/generators/import/",
    "dashboard:stimuli": "dashboard/stimuli/",
    "dashboard:stimulus-audio": "dashboard/stimuli/<int:pk>/audio/",
    "dashboard:task": "dashboard/tasks/<str:task_id>/",
    "dashboard:run-progress": "dashboard/progress/run/<int:pk>/",
    "dashboard:batch-progress": "dashboard/progress/batch/<int:pk>/",
    "dashboard:render-progress": "dashboard/progress/render/<str:task_id>/",
    "dashboard:task-progress": "dashboard/progress/task/<str:task_id>/",
    "surveys_dashboard:list": "dashboard/studies/",
    "surveys_dashboard:create": "dashboard/studies/new/",
    "surveys_dashboard:detail": "dashboard/studies/<slug:slug>/",
    "surveys_dashboard:edit": "dashboard/studies/<slug:slug>/edit/",
    "surveys_dashboard:open": "dashboard/studies/<slug:slug>/open/",
    "surveys_dashboard:close": "dashboard/studies/<slug:slug>/close/",
    "surveys_dashboard:preview": "dashboard/studies/<slug:slug>/preview/",
    "evaluation:report": "reports/<slug:slug>/",
    "evaluation:report_json": "reports/<slug:slug>/report.json",
    "evaluation:answers_csv": "reports/<slug:slug>/answers.csv",
    "evaluation:participants_csv": "reports/<slug:slug>/participants.csv",
    "evaluation:table_csv": "reports/<slug:slug>/tables/<str:name>.csv",
    "evaluation:metrics": "reports/<slug:slug>/metrics/",
    "evaluation:publish": "reports/<slug:slug>/publish/",
    "evaluation:withdraw": "reports/<slug:slug>/published/<int:pk>/withdraw/",
    "results:report": "results/<str:token>/",
    "results:report_json": "results/<str:token>/report.json",
}


def named_urls(patterns, prefix: str = "", namespace: str = "") -> dict[str, str]:
    """Qualified name -> route of every named pattern, leaving out Django's admin."""
    found = {}
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver) and pattern.namespace != "admin":
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            found |= named_urls(pattern.url_patterns, route, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            found[namespace + pattern.name] = route
    return found


def test_every_named_url_keeps_its_name_and_address():
    assert named_urls(get_resolver().url_patterns) == NAMED_URLS


def test_health_check_and_admin_stay_where_they_were():
    assert resolve("/healthz").route == "healthz"
    assert resolve("/admin/").app_name == "admin"
