"""Browser tests: Playwright's sync API driving Debian's chromium against pytest-django's
live_server. Screenshots go to test-artifacts/ (git-ignored)."""

import os
from pathlib import Path

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs a loop

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PHONE = {"width": 360, "height": 740}
# Excerpts play at 4x so a whole study takes seconds; the page still waits for "ended".
FAST_PLAYBACK = """
const play = HTMLMediaElement.prototype.play;
HTMLMediaElement.prototype.play = function () { this.playbackRate = 4; return play.call(this); };
"""


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("browser tests need Debian's chromium at /usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


def csp_refusals(context) -> list[str]:
    """What the browser refuses under the site's Content-Security-Policy, as it reports it on
    the console; a test that ends with any has a page that breaks in a real browser."""
    refused = []
    context.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return refused


@pytest.fixture
def phone(browser):
    """A fresh phone-sized context (no cookies), sounds sped up."""
    context = browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True
    )
    context.add_init_script(FAST_PLAYBACK)
    refused = csp_refusals(context)
    yield context
    context.close()
    assert not refused, refused


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def tones_at_4x(settings):
    """The sound check's 4 s of tones play in 1 s here; the server, which counts from when the
    page was first shown, is allowed the 3 s difference (and excerpts likewise)."""
    settings.SURVEY_LISTEN_ALLOWANCE_MS = 3500
