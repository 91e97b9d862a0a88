"""Production as people run it: the compose file validates without a container engine, the
Caddy configuration is valid, and through Caddy (run for real in front of the test server)
static files are served, media never is, and Django sees the client's own address. Over HTTPS,
with Caddy in front of gunicorn under production settings, a participant joins: HSTS, Secure
cookies, and a consent post that passes the origin check without a redirect loop."""

import contextlib
import http.client
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import pytest
import yaml
from axes.models import AccessAttempt
from django.conf import settings as django_settings
from django.test import Client

from surveys.models import Participant
from tests.surveys.factories import open_study
from tests.worker.processes import database_url, needs_postgres

ROOT = Path(django_settings.BASE_DIR)
COMPOSE_ENV = {
    "SECRET_KEY": "x" * 50,
    "SITE_ADDRESS": "survey.example.org",
    "STORAGE_SECRET_ACCESS_KEY": "y" * 20,
}
PASSWORDS = {"POSTGRES_PASSWORD": "pg4Secret", "REDIS_PASSWORD": "rd4Secret"}


def _tool(name: str) -> str:
    path = shutil.which(name)
    assert path, f"{name} is missing: bash scripts/setup test installs it"
    return path


def _compose(env: dict, *more_files: str) -> subprocess.CompletedProcess:
    files = [arg for name in ("docker-compose.yml", *more_files) for arg in ("-f", name)]
    return subprocess.run(
        [_tool("docker-compose"), *files, "config"],
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_compose_file_validates_and_publishes_only_the_proxy():
    result = _compose(COMPOSE_ENV)
    assert result.returncode == 0, result.stderr
    published = re.findall(r"^  (\S+):\n(?:(?!^  \S).*\n)*?    ports:", result.stdout, re.M)
    assert published == ["caddy"]
    assert "TRUSTED_PROXY_COUNT: '1'" in result.stdout
    assert "SITE_SCHEME: https" in result.stdout


APP_SERVICES = ("web", "worker-gpu", "worker-cpu")


def test_every_app_service_keeps_its_files_in_minio_and_shares_no_disk():
    result = _compose(COMPOSE_ENV)
    assert result.returncode == 0, result.stderr
    services = yaml.safe_load(result.stdout)["services"]
    assert services["minio"]["healthcheck"]["test"]
    bucket = services["minio-bucket"]
    assert bucket["depends_on"]["minio"]["condition"] == "service_healthy"
    assert "mc mb --ignore-existing" in " ".join(bucket["entrypoint"])
    for name in APP_SERVICES:
        service = services[name]
        assert service["environment"]["STORAGE_ENDPOINT_URL"] == "http://minio:9000"
        assert service["environment"]["STORAGE_BUCKET"] == bucket["environment"]["STORAGE_BUCKET"]
        condition = service["depends_on"]["minio-bucket"]["condition"]
        assert condition == "service_completed_successfully"
        mounted = [v.split(":")[0] for v in service.get("volumes", [])]
        assert mounted in ([], ["static"]), f"{name} mounts {mounted}"


def test_a_second_machine_joins_with_six_variables():
    """The README's second machine: the same file, `up --no-deps worker-gpu`, and six variables,
    the services' passwords among them."""
    env = {**COMPOSE_ENV, **PASSWORDS, "SERVICES_HOST": "10.0.0.5"}
    result = _compose(env)
    assert result.returncode == 0, result.stderr
    worker = yaml.safe_load(result.stdout)["services"]["worker-gpu"]["environment"]
    assert worker["DATABASE_URL"] == "postgres://turing:pg4Secret@10.0.0.5:5432/turing"
    assert worker["CELERY_BROKER_URL"] == "redis://:rd4Secret@10.0.0.5:6379/0"
    assert worker["CACHE_URL"] == "redis://:rd4Secret@10.0.0.5:6379/1"
    assert worker["STORAGE_ENDPOINT_URL"] == "http://10.0.0.5:9000"
    assert worker["STORAGE_SECRET_ACCESS_KEY"] == COMPOSE_ENV["STORAGE_SECRET_ACCESS_KEY"]


def test_the_first_machine_publishes_its_services_only_on_the_private_address():
    env = {**COMPOSE_ENV, **PASSWORDS, "PRIVATE_ADDRESS": "10.0.0.5"}
    result = _compose(env, "docker-compose.services.yml")
    assert result.returncode == 0, result.stderr
    services = yaml.safe_load(result.stdout)["services"]
    assert services["redis"]["command"][-2:] == ["--requirepass", "rd4Secret"]
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD"] == "pg4Secret"
    for name, port in {"postgres": 5432, "redis": 6379, "minio": 9000}.items():
        [published] = services[name]["ports"]
        if isinstance(published, dict):  # Compose v2 writes the long form
            published = f"{published['host_ip']}:{published['published']}:{published['target']}"
        assert published.removesuffix("/tcp") == f"10.0.0.5:{port}:{port}"
    assert _compose(COMPOSE_ENV, "docker-compose.services.yml").returncode != 0
    for password in PASSWORDS:  # published, a service never keeps the one-host default
        without = {k: v for k, v in env.items() if k != password}
        refused = _compose(without, "docker-compose.services.yml")
        assert refused.returncode != 0 and f"set {password}" in refused.stderr


@pytest.mark.parametrize("missing", sorted(COMPOSE_ENV))
def test_the_compose_file_names_what_must_be_set(missing):
    result = _compose({k: v for k, v in COMPOSE_ENV.items() if k != missing})
    assert result.returncode != 0 and f"set {missing}" in result.stderr


def test_the_caddy_configuration_is_valid():
    for scheme in ("https", "http"):
        result = subprocess.run(
            [_tool("caddy"), "validate", "--config", "Caddyfile", "--adapter", "caddyfile"],
            cwd=ROOT,
            env={**os.environ, "SITE_ADDRESS": "survey.example.org", "SITE_SCHEME": scheme},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0 and "Valid configuration" in result.stdout + result.stderr


def _settings_under(env: dict) -> subprocess.CompletedProcess:
    code = (
        "from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, "
        "s.SECURE_HSTS_SECONDS > 0)"
    )
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def _default_storage_under(env: dict) -> list[str]:
    code = (
        "import django; django.setup(); from django.core.files.storage import storages; "
        "s = storages['default']; "
        "print(type(s).__name__, getattr(s, 'bucket_name', ''), getattr(s, 'endpoint_url', ''))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return (
        result.stdout.strip().splitlines()[-1].split()
    )  # pyfluidsynth prints a line when CI is set


def test_the_storage_is_the_media_folder_unless_a_bucket_is_set():
    assert _default_storage_under({"STORAGE_BUCKET": ""}) == ["FileSystemStorage"]
    bucket = {"STORAGE_BUCKET": "files", "STORAGE_ENDPOINT_URL": "http://minio:9000"}
    assert _default_storage_under(bucket) == ["S3Storage", "files", "http://minio:9000"]


@pytest.mark.parametrize(
    ("scheme", "secure"), [(None, "True True True True"), ("http", "False False False False")]
)
def test_cookie_security_follows_the_scheme_said_explicitly(scheme, secure):
    env = {"DEBUG": "0", "SECRET_KEY": "x" * 50}
    if scheme:
        env["SITE_SCHEME"] = scheme
    result = _settings_under(env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == secure


def test_a_short_secret_key_is_refused_in_production():
    result = _settings_under({"DEBUG": "0", "SECRET_KEY": "x"})
    assert result.returncode != 0 and "SECRET_KEY is too short" in result.stderr


def test_the_public_development_key_never_serves_a_host_others_reach():
    refused = _settings_under({"ALLOWED_HOSTS": "survey.example.org,localhost"})
    assert refused.returncode != 0 and "survey.example.org" in refused.stderr
    assert "public development key" in refused.stderr
    assert _settings_under({"ALLOWED_HOSTS": "localhost,127.0.0.1"}).returncode == 0
    own_key = {"ALLOWED_HOSTS": "192.168.1.5", "SECRET_KEY": "k" * 50}  # a phone on the LAN
    assert _settings_under(own_key).returncode == 0


def test_a_scheme_that_is_neither_is_refused():
    result = _settings_under({"SITE_SCHEME": "htps"})
    assert result.returncode != 0 and "must be https or http" in result.stderr


@pytest.mark.django_db
def test_media_has_no_url_under_production_settings(settings):
    settings.DEBUG = False
    stored = Path(settings.MEDIA_ROOT) / "checkpoints" / "run-1" / "best.pt"
    stored.parent.mkdir(parents=True)
    stored.write_bytes(b"weights")
    for path in ("/media/checkpoints/run-1/best.pt", "/media/", "/media/stimuli/x.mp3"):
        assert Client().get(path).status_code == 404


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def _caddy(upstream: str, tmp_path: Path, scheme: str, static: Path):
    """Caddy run with the project's site block in front of `upstream`, serving `static`; yields
    its port.

    Over https it serves a certificate from its own local authority (as it does for an address
    that is no public name): the test's copy of the Caddyfile only adds, to the global options,
    that Caddy must not add that authority to the machine's trust store, nor listen on port 80.
    """
    config = (ROOT / "Caddyfile").read_text()
    if scheme == "https":
        config = config.replace(
            "admin off", "admin off\n\tskip_install_trust\n\tauto_https disable_redirects"
        )
    (tmp_path / "Caddyfile").write_text(config)
    port = _free_port()
    env = {
        **os.environ,
        "SITE_SCHEME": scheme,
        "SITE_ADDRESS": f"127.0.0.1:{port}",
        "UPSTREAM": upstream,
        "STATIC_ROOT": str(static),
        "HOME": str(tmp_path),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
    }
    process = subprocess.Popen(
        [_tool("caddy"), "run", "--config", str(tmp_path / "Caddyfile"), "--adapter", "caddyfile"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.1)
    try:
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture
def caddy(live_server, tmp_path):
    """Caddy in front of the test server over plain http, as SITE_SCHEME=http serves."""
    static = tmp_path / "static"
    (static / "css").mkdir(parents=True)
    (static / "css" / "site.abc123.css").write_text("body { color: black }")
    with _caddy(live_server.url.removeprefix("http://"), tmp_path, "http", static) as port:
        yield port


def _get(port: int, path: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", path, headers=headers or {})
    response = connection.getresponse()
    return response.status, dict(response.getheaders()), response.read()


@pytest.mark.django_db(transaction=True)
def test_through_caddy_static_is_served_media_never_and_the_client_is_known(caddy, settings):
    settings.TRUSTED_PROXY_COUNT = 1  # as docker-compose.yml sets it
    media = Path(settings.MEDIA_ROOT) / "stimuli"
    media.mkdir(parents=True)
    (media / "x.mp3").write_bytes(b"ID3 secret")

    status, headers, body = _get(caddy, "/static/css/site.abc123.css")
    assert status == 200 and body == b"body { color: black }"
    assert "immutable" in headers["Cache-Control"]
    assert _get(caddy, "/media/stimuli/x.mp3")[0] == 404
    status, _, body = _get(caddy, "/healthz")
    assert (status, body) == (200, b"ok")

    # A client claims another address; Caddy replaces the header with the one it saw.
    connection = http.client.HTTPConnection("127.0.0.1", caddy, timeout=30)
    connection.request("GET", "/accounts/login/")
    page = connection.getresponse()
    cookie = page.getheader("Set-Cookie").split(";", 1)[0]
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.read())[1].decode()
    form = f"csrfmiddlewaretoken={token}&username=someone&password=wrong"
    connection.request(
        "POST",
        "/accounts/login/",
        body=form,
        headers={
            "Cookie": cookie,
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Forwarded-For": "203.0.113.66",
        },
    )
    assert connection.getresponse().status == 200
    assert AccessAttempt.objects.get().ip_address == "127.0.0.1"


class _HttpsBrowser:
    """A browser's part over HTTPS: verifies Caddy's certificate, keeps cookies by name, and
    sends Origin on posts, as browsers do."""

    def __init__(self, port: int, authority: Path):
        self.origin = f"https://127.0.0.1:{port}"
        self.port = port
        self.tls = ssl.create_default_context(cafile=str(authority))
        self.cookies: dict[str, str] = {}
        self.set_cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None):
        connection = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.tls)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers |= {"Content-Type": "application/x-www-form-urlencoded", "Origin": self.origin}
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        for header in response.headers.get_all("Set-Cookie") or []:
            name, value = header.split(";", 1)[0].split("=", 1)
            self.cookies[name] = value
            self.set_cookies[name] = header
        return response.status, response.headers, response.read().decode()


def _caddy_authority(tmp_path: Path) -> Path:
    root = tmp_path / "data" / "caddy" / "pki" / "authorities" / "local" / "root.crt"
    deadline = time.monotonic() + 30
    while not root.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    return root


def _answers(port: int, path: str) -> bool:
    try:
        return _get(port, path)[0] == 200
    except OSError:
        return False


@contextlib.contextmanager
def _production_server(tmp_path: Path):
    """gunicorn as docker-compose.yml runs it (DEBUG=0, SITE_SCHEME=https, one trusted proxy),
    on the test database, with its static files collected; yields its address."""
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": database_url(),
        "CACHE_URL": django_settings.CACHES["default"]["LOCATION"],
        "DEBUG": "0",
        "SECRET_KEY": "s" * 50,
        "SITE_SCHEME": "https",
        "ALLOWED_HOSTS": "127.0.0.1",
        "TRUSTED_PROXY_COUNT": "1",
        "STATIC_ROOT": str(tmp_path / "static"),
        "MEDIA_ROOT": str(django_settings.MEDIA_ROOT),
        # gunicorn trusts forwarding headers from its own machine by itself; in the compose
        # file Caddy is another container, and only Django's own setting takes the scheme.
        "FORWARDED_ALLOW_IPS": "192.0.2.1",
    }
    manage = [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"]
    subprocess.run(manage, cwd=ROOT, env=env, check=True, timeout=120)
    argv = [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--workers", "1"]
    server = subprocess.Popen([*argv, "--bind", f"127.0.0.1:{port}"], cwd=ROOT, env=env)
    try:
        deadline = time.monotonic() + 60
        while not _answers(port, "/healthz"):  # exempt from the redirect to https
            assert time.monotonic() < deadline, "gunicorn did not answer /healthz in a minute"
            time.sleep(0.2)
        yield f"127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.django_db(transaction=True)
def test_a_participant_joins_over_https_through_caddy_and_gunicorn(tmp_path):
    needs_postgres()
    open_study("secure")
    with (
        _production_server(tmp_path) as upstream,
        _caddy(upstream, tmp_path, "https", tmp_path / "static") as port,
    ):
        browser = _HttpsBrowser(port, _caddy_authority(tmp_path))
        status, headers, _ = browser.request("GET", "/s/secure/")
        assert (status, headers["Location"]) == (302, "/s/secure/consent/")
        assert "max-age=31536000" in headers["Strict-Transport-Security"]

        status, _, page = browser.request("GET", "/s/secure/consent/")
        assert status == 200 and "Secure" in browser.set_cookies["csrftoken"]
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]
        start = re.search(r'name="start" value="([^"]*)"', page)[1]
        stylesheet = re.search(r'href="(/static/[^"]+\.css)"', page)[1]
        assert browser.request("GET", stylesheet)[0] == 200  # collected, served by Caddy

        # Django takes the request for HTTPS from Caddy's X-Forwarded-Proto: the origin check
        # passes, and no redirect to https loops.
        form = {"csrfmiddlewaretoken": token, "agree": "on", "start": start}
        status, headers, _ = browser.request("POST", "/s/secure/consent/", form)
        assert (status, headers["Location"]) == (302, "/s/secure/headphones/")
        participant = browser.set_cookies["p_secure"]
        assert "Secure" in participant and "HttpOnly" in participant

        status, _, page = browser.request("GET", "/s/secure/headphones/")
        assert status == 200 and "csrfmiddlewaretoken" in page
    assert Participant.objects.get(study__slug="secure").consented


def test_the_image_leaves_secrets_and_local_data_out():
    # The Dockerfile ends with `COPY . .`: without these, the .env beside the compose file
    # (SECRET_KEY, storage keys), a demo database and its media would be in the image's layers.
    ignored = (ROOT / ".dockerignore").read_text().split()
    for kept_out in (".env", "db.sqlite3", "media", ".venv", ".git"):
        assert kept_out in ignored
