"""Who may do what on the researchers' pages.

Every page needs a login. Reading (the dashboard, runs, batches, stimuli, studies and their
reports) is open to every account, so a lab can give collaborators and reviewers the results
without the means to change them. Acting (importing, training, generating, rendering, creating,
changing, opening and closing studies, trying one as a participant, and seeing a study's
completion code, which a preview ends on) needs RUN_EXPERIMENTS, and participants'
Prolific ids, which are personal data, need VIEW_PARTICIPANTS. The Researchers group holds both
(surveys/migrations/0012_researcher_role.py made it and put every account of the time in it);
superusers have every permission.
"""

import functools

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

RESEARCHERS = "Researchers"
RUN_EXPERIMENTS = "surveys.run_experiments"
VIEW_PARTICIPANTS = "surveys.view_participants"
READ_ONLY = (
    "Your account can read the dashboard and the reports but not change anything. Starting "
    "jobs, changing studies and seeing participants' Prolific ids need the Researchers group: "
    "whoever runs this site can add you to it in the admin."
)


def _check(request: HttpRequest, permission: str) -> None:
    if not request.user.has_perm(permission):
        raise PermissionDenied(READ_ONLY)


def _guarded(permission: str, posts_only: bool):
    def decorate(view):
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs):
            if request.method == "POST" or not posts_only:
                _check(request, permission)
            return view(request, *args, **kwargs)

        return login_required(wrapped)

    return decorate


def needs(permission: str):
    """The view needs a login with ``permission``; any other account gets a 403 page."""
    return _guarded(permission, posts_only=False)


def posting_needs(permission: str):
    """The view needs a login; reading it is open to any account, posting to it needs
    ``permission``."""
    return _guarded(permission, posts_only=True)
