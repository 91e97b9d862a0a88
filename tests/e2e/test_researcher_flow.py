"""A researcher, in a real browser, runs an experiment end to end on real Celery workers: logs in,
trains a small network, generates from it, renders human and machine excerpts, creates and
opens a study, and downloads its report. Every page is screenshotted into test-artifacts/."""

import json
import uuid

import pytest
import redis
from django.conf import settings
from django.core.cache import cache
from django.test import Client, override_settings
from playwright.sync_api import expect

from dashboard.jobs import RECENT_TASKS_KEY
from generation.models import GenerationBatch, TrainingRun
from generation.models.runs import Status
from surveys.models import Participant, Stimulus, Study
from tests.conftest import make_researcher
from tests.dashboard.helpers import small_corpus_fixture  # noqa: F401 - fixture
from tests.e2e.conftest import csp_refusals
from tests.surveys.helpers import take_study
from tests.worker.processes import start_worker, stop_worker

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-password-1"
JOB_TIMEOUT_MS = 240_000


@pytest.fixture
def worker(live_server):
    """A real worker consuming both queues, on the test database and media folder."""
    redis.Redis.from_url(settings.CELERY_BROKER_URL).ping()
    process = start_worker(
        "gpu,cpu",
        f"e2e-{uuid.uuid4().hex[:8]}@%h",
        concurrency=2,
        MEDIA_ROOT=str(settings.MEDIA_ROOT),
        TORCH_DEVICE="cpu",
    )
    yield process
    stop_worker(process)


@pytest.fixture
def desktop(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    refused = csp_refusals(context)
    yield context
    context.close()
    assert not refused, refused


@pytest.fixture
def researcher(db, django_user_model):
    cache.delete(RECENT_TASKS_KEY)  # the job list lives in Redis, shared with other test runs
    return make_researcher("ada", password=PASSWORD, is_staff=True)


def test_a_researcher_runs_an_experiment_from_the_browser(
    live_server, worker, desktop, phone, artifacts, researcher, small_corpus, tmp_path
):
    page = desktop.new_page()
    shots = []

    def shot(name: str) -> None:
        page.screenshot(path=artifacts / f"researcher-{len(shots):02d}-{name}.png", full_page=True)
        shots.append(name)

    def wait_until_done() -> None:
        """progress.js polls and reloads the page when the job ends."""
        expect(page.locator(".job [data-field=state]").first).to_have_text(
            "done", timeout=JOB_TIMEOUT_MS
        )

    page.goto(f"{live_server.url}/dashboard/")
    expect(page.get_by_role("heading", name="Researcher login")).to_be_visible()
    shot("login")
    page.get_by_label("User name").fill("ada")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    for _ in range(90):  # until the home page lists the worker on both queues
        if page.locator("table").first.inner_text().count("e2e-") == 2:
            break
        page.wait_for_timeout(1000)
        page.reload()
    else:
        pytest.fail("the worker did not start within 90 s")
    shot("dashboard")

    page.get_by_role("link", name="Corpora").first.click()
    expect(page.get_by_role("link", name="mini")).to_be_visible()
    shot("corpora")

    # Train: a tiny roll LSTM, on the gpu queue (the worker runs it on CPU).
    page.goto(f"{live_server.url}/dashboard/runs/new/")
    page.get_by_label("Network").select_option("roll_lstm")
    for label, value in {
        "Epochs": "2",
        "Batch size": "8",
        "LSTM hidden size": "8",
        "Dense layer size": "8",
        "Input window (steps)": "8",
        "Window stride (steps)": "4",
        "Training windows per epoch": "16",
        "Piano-roll steps per beat": "2",
    }.items():
        page.get_by_label(label, exact=True).fill(value)
    page.get_by_label("Device").select_option("cpu")
    shot("train-form")
    page.get_by_role("button", name="Start training").click()
    expect(page.get_by_role("heading", name="Run")).to_contain_text("roll_lstm")
    shot("run-queued")
    wait_until_done()
    expect(page.locator("svg.chart")).to_have_count(3)
    shot("run-done")
    run = TrainingRun.objects.get()
    assert run.status == Status.SUCCEEDED and len(run.history) == 2

    # Generate from the run's best checkpoint.
    page.get_by_role("link", name="Generate from this run").click()
    page.get_by_label("Pieces").fill("4")
    page.get_by_label("Length (bars)").fill("4")
    page.get_by_label("Seed strategy").select_option("random")
    shot("generate-form")
    page.get_by_role("button", name="Generate").click()
    wait_until_done()
    expect(page.get_by_role("heading", name="Samples")).to_be_visible()
    shot("batch-done")
    page.get_by_role("link", name="0", exact=True).click()
    expect(page.locator("svg.roll")).to_be_visible()
    shot("piece")
    batch = GenerationBatch.objects.get()
    assert batch.status == Status.SUCCEEDED and batch.samples.count() == 4

    # Render machine and held-out human excerpts, both 2 bars, on the cpu queue.
    page.get_by_role("link", name="Stimuli").first.click()
    page.get_by_label("Generated pieces of batch").select_option(str(batch.pk))
    page.get_by_label("Excerpt length (bars)").fill("2")
    page.get_by_role("button", name="Render").click()
    page.get_by_label("Human pieces of corpus").select_option("mini")
    page.get_by_label("Split").select_option("test")
    page.get_by_label("Excerpt length (bars)").fill("2")
    page.get_by_role("button", name="Render").click()
    for index in range(2):
        expect(page.locator(".job [data-field=state]").nth(index)).to_have_text(
            "done", timeout=JOB_TIMEOUT_MS
        )
    shot("stimuli")
    ready = Stimulus.objects.filter(status=Stimulus.Status.READY)
    assert ready.filter(source_kind=Stimulus.SourceKind.HUMAN).exists()
    assert ready.filter(source_kind=Stimulus.SourceKind.MACHINE).exists()

    # Create and open a study from every finished excerpt.
    page.goto(f"{live_server.url}/dashboard/studies/new/")
    page.get_by_label("Slug").fill("e2e-study")
    page.get_by_label("Title").fill("Who composed it?")
    page.get_by_label("Consent text").fill("A test study. Taking part is voluntary.")
    page.get_by_label("Trials per participant").fill("2")
    page.get_by_label("Attention checks").fill("0")
    for box in page.locator("input[name=pool]").all():
        box.check()
    shot("study-form")
    page.get_by_role("button", name="Create draft").click()
    page.get_by_role("button", name="Open the study").click()
    expect(page.get_by_text("The study is open")).to_be_visible()
    shot("study-open")
    assert Study.objects.get(slug="e2e-study").state == Study.State.OPEN

    # Its report, reached from the dashboard home, and the report downloaded as JSON.
    page.goto(f"{live_server.url}/dashboard/")
    page.get_by_role("link", name="report of Who composed it?").click()
    expect(page.get_by_role("heading", name="Report: Who composed it?")).to_be_visible()
    shot("report")
    with page.expect_download() as download:
        page.get_by_role("link", name="Report (JSON)").click()
    assert download.value.suggested_filename == "e2e-study-report.json"
    saved = tmp_path / "report.json"
    download.value.save_as(saved)
    assert isinstance(json.loads(saved.read_text()), dict)

    # Published for readers without an account, once there is something to read: the copy
    # opens in a fresh phone's browser.
    page.get_by_role("button", name="Publish this report").click()
    expect(page.get_by_text("Nothing was published")).to_be_visible()
    with override_settings(SURVEY_LISTEN_ALLOWANCE_MS=60_000):  # the test client plays nothing
        take_study(Client(), "e2e-study")
    Participant.objects.update(excluded=False, exclusion_reason="")  # whatever checks it drew
    page.get_by_role("button", name="Publish this report").click()
    expect(page.get_by_text("Published. Anyone with this link can read the report")).to_be_visible()
    link = page.locator("ul.published a").first.get_attribute("href")
    reader = phone.new_page()
    reader.goto(f"{live_server.url}{link}")
    expect(reader.get_by_role("heading", name="Report: Who composed it?")).to_be_visible()
    expect(reader.get_by_role("link", name="Every table as JSON")).to_be_visible()
    assert reader.get_by_role("button", name="Recompute").count() == 0
    overflow = reader.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the published report scrolls sideways by {overflow} px on a phone"
    reader.screenshot(path=artifacts / "reader-published-report-phone.png", full_page=True)

    # On a phone, every page fits its width: wide tables scroll inside their own box.
    page.set_viewport_size({"width": 390, "height": 844})
    for path in (
        "/dashboard/",
        f"/dashboard/runs/{run.pk}/",
        f"/dashboard/batches/{batch.pk}/",
        "/dashboard/stimuli/",
        "/dashboard/studies/e2e-study/",
        "/reports/e2e-study/",
    ):
        page.goto(f"{live_server.url}{path}")
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{path} scrolls sideways by {overflow} px at 390 px"
    shot("report-phone")
    page.keyboard.press("Tab")  # the first stop is the skip link, tall enough to tap
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    assert skip.bounding_box()["height"] >= 44
    assert len(shots) == 14
