"""Password guessing is slowed (django-axes): after LOGIN_FAILURE_LIMIT failures the login is
refused even with the right password, on the dashboard and the admin alike, until the cool-off
has passed; addresses are the clients' own, behind the trusted proxies."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import User
from django.db.models import F
from django.test import Client

pytestmark = pytest.mark.django_db

PASSWORD = "the-right-passphrase-1"
LOGINS = {"dashboard": "/accounts/login/", "admin": "/admin/login/"}


@pytest.fixture(autouse=True)
def researcher():
    return User.objects.create_user("researcher", password=PASSWORD, is_staff=True)


def _login(client: Client, url: str, password: str, username: str = "researcher") -> int:
    return client.post(url, {"username": username, "password": password}).status_code


def _after_the_cool_off(settings) -> None:
    """Moves the recorded failures back past the cool-off, as waiting it out would."""
    waited = settings.AXES_COOLOFF_TIME + timedelta(seconds=1)
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - waited)


@pytest.mark.parametrize("where", sorted(LOGINS))
def test_the_eleventh_try_is_refused_even_with_the_right_password(settings, where):
    assert settings.AXES_FAILURE_LIMIT == 10
    client, url = Client(), LOGINS[where]
    codes = [_login(client, url, f"guess-{i}") for i in range(10)]
    assert codes[:9] == [200] * 9  # the form again, with its error
    assert codes[9] == 429
    refused = client.post(url, {"username": "researcher", "password": PASSWORD})
    assert refused.status_code == 429
    assert b"Too many failed logins" in refused.content and b"15 minutes" in refused.content
    assert "_auth_user_id" not in client.session

    _after_the_cool_off(settings)
    assert _login(client, url, PASSWORD) == 302
    assert client.session["_auth_user_id"] == str(User.objects.get().pk)


def test_a_lockout_keys_on_the_real_client_behind_the_proxy(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    url = LOGINS["dashboard"]
    guesser = Client(REMOTE_ADDR="172.18.0.3", HTTP_X_FORWARDED_FOR="198.51.100.23")
    colleague = Client(REMOTE_ADDR="172.18.0.3", HTTP_X_FORWARDED_FOR="198.51.100.99")
    for i in range(10):
        _login(guesser, url, f"guess-{i}", username="someone-else")
    assert _login(guesser, url, PASSWORD) == 429  # that address is paused, whatever the name
    assert _login(colleague, url, PASSWORD) == 302  # the same proxy, another person
    attempt = AccessAttempt.objects.get(username="someone-else")
    assert attempt.ip_address == "198.51.100.23" and attempt.failures_since_start == 10


def test_an_ipv6_guesser_cannot_step_past_the_lockout_by_changing_address(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    url = LOGINS["dashboard"]

    def from_address(address: str) -> Client:
        return Client(REMOTE_ADDR="172.18.0.3", HTTP_X_FORWARDED_FOR=address)

    for i in range(10):
        _login(from_address(f"2001:db8:0:7::{i}"), url, f"guess-{i}")
    assert _login(from_address("2001:db8:0:7::abcd"), url, PASSWORD) == 429
    assert _login(from_address("2001:db8:0:8::1"), url, PASSWORD) == 302  # another network


def test_guessing_a_researchers_password_does_not_lock_the_researcher_out():
    guesser, researcher = Client(REMOTE_ADDR="203.0.113.7"), Client(REMOTE_ADDR="198.51.100.8")
    url = LOGINS["dashboard"]
    for i in range(12):
        _login(guesser, url, f"guess-{i}")
    assert _login(guesser, url, PASSWORD) == 429
    assert _login(researcher, url, PASSWORD) == 302
