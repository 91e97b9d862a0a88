"""A study's report frozen for readers who have no account: a reviewer, a paper's readers.

Publishing renders the report as it stands, at the margins and alpha the study fixed when it
opened, and keeps the rendered page and its JSON. Readers reach it through an unguessable link;
answers that arrive later, or a change to the analysis code, never alter what was published.
Withdrawing a snapshot makes its link answer 404; publishing again makes a new link. A snapshot
holds only what the report shows: rates, tests and per-excerpt tables, never who took part.
"""

import secrets

from django.conf import settings
from django.db import models
from django.urls import reverse

from surveys.models.study import Study


def new_results_token() -> str:
    return secrets.token_urlsafe(24)


class PublishedReport(models.Model):
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="published_reports")
    token = models.CharField(max_length=40, unique=True, default=new_results_token, editable=False)
    published_at = models.DateTimeField(auto_now_add=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    participants = models.PositiveIntegerField(help_text="participants analysed when published")
    body = models.TextField(help_text="the report's sections as rendered when published")
    report_json = models.TextField()
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-published_at"]

    def __str__(self) -> str:
        return f"{self.study.slug} report published {self.published_at:%Y-%m-%d %H:%M}"

    def get_absolute_url(self) -> str:
        return reverse("results:report", args=[self.token])
