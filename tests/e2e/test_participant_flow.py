"""A participant takes a study on a 360x740 phone, consent to completion code, in a real browser;
everything the browser receives is recorded and searched for anything naming a source."""

import re
from collections import Counter

import pytest
from playwright.sync_api import expect

from surveys.models import Answer, Participant, Stimulus, Study
from tests.conftest import make_researcher
from tests.surveys.factories import FORBIDDEN_WORDS, draft_study, open_study
from tests.surveys.helpers import without_random_values

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


class Recorder:
    """Passes every request through and keeps each response's URL, headers and body."""

    def __init__(self):
        self.responses: list[tuple[str, dict, bytes]] = []

    def __call__(self, route):
        response = route.fetch(max_redirects=0)
        self.responses.append((route.request.url, response.headers, response.body()))
        route.fulfill(response=response)


def _no_sideways_scroll(page):
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


SMALL_TARGETS = """
() => Array.from(document.querySelectorAll("main button, main a[href], main input, main select"))
  .filter(e => e.type !== "hidden")
  .map(e => [e, e.closest("label") || e])  // a visually hidden radio is tapped through its label
  .map(([e, target]) => [e.name || e.textContent.trim(), target.getBoundingClientRect()])
  .filter(([, box]) => box.width < 44 || box.height < 44)
  .map(([name, box]) => `${name}: ${Math.round(box.width)}x${Math.round(box.height)}`)
"""


def _big_enough_to_tap(page):
    assert page.evaluate(SMALL_TARGETS) == []


def _listen(page):
    """Answers are locked until the whole sound has played; play it with the keyboard."""
    locked = page.locator("fieldset[data-locked] input[type=radio]").first
    expect(locked).to_be_disabled()
    expect(page.get_by_role("button", name="Next")).to_be_disabled()
    play = page.get_by_role("button", name=re.compile("^Play"))
    expect(play).to_be_enabled()
    play.focus()
    page.keyboard.press("Enter")
    expect(locked).to_be_enabled(timeout=15000)
    expect(page.get_by_role("status").first).to_contain_text("Finished")


def test_participant_takes_a_study_on_a_phone(live_server, phone, artifacts, tones_at_4x):
    study = open_study(completion_url="https://app.prolific.com/submissions/complete?cc={code}")
    recorder = Recorder()
    phone.route("**/*", recorder)
    pages = []
    phone.on("response", lambda response: pages.append(response))
    page = phone.new_page()
    shots = []

    def shot(name):
        page.wait_for_load_state()  # measured with the stylesheets applied
        _no_sideways_scroll(page)
        _big_enough_to_tap(page)
        path = artifacts / f"phone-{len(shots):02d}-{name}.png"
        page.screenshot(path=path, full_page=True)
        shots.append(path)

    page.goto(f"{live_server.url}/s/{study.slug}/?PROLIFIC_PID=p1&STUDY_ID=s1&SESSION_ID=x1")
    expect(page.get_by_role("heading", name="Before you start")).to_be_visible()
    assert not Participant.objects.exists()  # following the link stores nothing
    shot("consent")
    page.get_by_label("I have read the information above and agree to take part.").check()
    page.get_by_role("button", name="I agree, continue").click()

    for n in range(study.headphone_trials):
        expect(page.get_by_text(f"Sound check {n + 1} of {study.headphone_trials}")).to_be_visible()
        _listen(page)
        page.get_by_role("radio", name="Tone 1").check()
        shot(f"headphones-{n + 1}")
        page.get_by_role("button", name="Next").click()

    expect(page.get_by_role("heading", name="How it works")).to_be_visible()
    shot("instructions")
    page.get_by_role("button", name="Start").click()

    answered = 0
    while "/t/" in page.url:
        heading = page.get_by_role("heading", level=1)
        expect(heading).to_contain_text("then answer")
        _listen(page)
        page.get_by_role("radio", name="A computer" if answered % 2 else "A person").check()
        page.get_by_role("radio", name="Sureness 4 of 5").check()
        page.get_by_role("radio", name="Musical 3 of 5").check()
        shot(f"trial-{answered}")
        page.get_by_role("button", name="Next").click()
        page.wait_for_load_state()
        answered += 1
        expect(page).not_to_have_url(re.compile(rf"/t/{answered - 1}/$"))

    expect(page.get_by_role("heading", name="A few questions about you")).to_be_visible()
    page.get_by_label("Your age").select_option("25-34")
    page.get_by_label(re.compile("how many years have you had music lessons")).fill("0")
    for select in page.locator("select[name^=mt]").all():
        select.select_option(index=1)
    shot("questions")
    page.get_by_role("button", name="Finish").click()

    expect(page.get_by_role("heading", name="Thank you!")).to_be_visible()
    expect(page.locator("[data-completion-code]")).to_have_text(study.completion_code)
    link = page.get_by_role("link", name="Return and confirm completion")
    expect(link).to_have_attribute("href", re.compile(f"cc={study.completion_code}$"))
    phone.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page.get_by_role("button", name="Copy the code").click()
    expect(page.locator("#copy-status")).to_contain_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == study.completion_code
    shot("done")

    participant = Participant.objects.get(study=study)
    assert participant.completed and participant.prolific_pid == "p1"
    answers = Answer.objects.filter(participant=participant)
    assert answers.count() == answered == participant.trials.count()
    assert all(a.plays == 1 and a.listening_ms > 0 for a in answers)

    secrets = [w.lower() for w in FORBIDDEN_WORDS]
    for stimulus in Stimulus.objects.filter(study_items__study=study).select_related("piece"):
        secrets += [stimulus.token.lower(), stimulus.piece.name.lower()]
        for field in (stimulus.audio_mp3, stimulus.audio_ogg):
            secrets.append(field.name.rsplit("/", 1)[-1].lower())
    assert len(recorder.responses) > 20
    # Each trial page is fetched once: after an answer the browser goes on, it does not fetch
    # the next page to learn where to go and then fetch it again.
    shown = Counter(
        response.url
        for response in pages
        if response.request.method == "GET"
        and response.status == 200
        and re.search(r"/t/\d+/$", response.url)
    )
    assert len(shown) == answered and set(shown.values()) == {1}, shown
    assert any("/a/" in url and "f=ogg" in url for url, _, _ in recorder.responses)
    for url, headers, body in recorder.responses:
        received = " ".join([url, *(f"{k}: {v}" for k, v in headers.items())])
        received = without_random_values(received + body.decode("latin-1")).lower()
        leaks = [s for s in secrets if s in received]
        assert not leaks, f"{url} reveals {leaks}"
        if "/a/" in url:
            assert headers["content-type"] == ("audio/ogg" if "f=ogg" in url else "audio/mpeg")
            assert "content-disposition" not in headers and "last-modified" not in headers


def _first_trial(page, live_server, study):
    """Consent and instructions, up to the first trial's page."""
    page.goto(f"{live_server.url}/s/{study.slug}/")
    page.get_by_label("I have read the information above and agree to take part.").check()
    page.get_by_role("button", name="I agree, continue").click()
    page.get_by_role("button", name="Start").click()
    expect(page).to_have_url(re.compile(r"/t/\d+/$"))


def _answer(page, judgment):
    page.get_by_role("radio", name=judgment).check()
    page.get_by_role("radio", name="Sureness 4 of 5").check()
    page.get_by_role("radio", name="Musical 3 of 5").check()


AUDIO = re.compile(r"/a/[^/]+$|/a/[^/]+\?f=ogg$")


def test_a_sound_that_fails_to_load_offers_a_retry_that_works(live_server, phone):
    study = open_study(headphone_trials=0)
    page = phone.new_page()
    _first_trial(page, live_server, study)
    page.route(AUDIO, lambda route: route.abort("internetdisconnected"))
    page.reload()
    play = page.locator("[data-play]")
    if play.inner_text() != "Try again":  # the failure shows on load, or on play when loaded lazily
        play.click()
    status = page.locator("#player-status")
    expect(status).to_contain_text("did not load")
    retry = page.get_by_role("button", name="Try again")
    expect(retry).to_be_enabled()
    expect(page.locator("fieldset[data-locked] input[type=radio]").first).to_be_disabled()

    page.unroute(AUDIO)
    retry.click()
    expect(status).to_contain_text("Finished", timeout=15000)
    _answer(page, "A computer")
    url = page.url
    page.get_by_role("button", name="Next").click()
    expect(page).not_to_have_url(url)
    answer = Answer.objects.get()
    assert answer.plays == 1 and not answer.judged_human


TRIAL_PAGE = re.compile(r"/t/\d+/$")


def _stored():
    return [(a.trial.position, a.judged_human) for a in Answer.objects.select_related("trial")]


def test_an_answer_survives_a_dropped_connection_and_cannot_change_on_its_way(live_server, phone):
    study = open_study(headphone_trials=0)
    page = phone.new_page()
    _first_trial(page, live_server, study)
    network = {"up": False, "dropped": 0}

    def drop_posts_while_down(route):
        if route.request.method == "POST" and not network["up"]:
            network["dropped"] += 1
            route.abort("internetdisconnected")
        else:
            route.continue_()

    page.route(TRIAL_PAGE, drop_posts_while_down)
    _listen(page)
    _answer(page, "A computer")
    url = page.url
    page.get_by_role("button", name="Next").click()
    expect(page.locator("[data-save-status]")).to_contain_text("trying again")
    expect(page).to_have_url(url)
    expect(page.get_by_role("radio", name="A person")).to_be_disabled()  # locked while saving
    expect(page.get_by_role("radio", name="A computer")).to_be_checked()
    network["up"] = True
    expect(page).not_to_have_url(url, timeout=20000)
    assert network["dropped"] >= 1 and _stored() == [(0, False)]


def test_when_retries_run_out_the_choices_stay_and_can_be_sent_again(live_server, phone):
    study = open_study(headphone_trials=0)
    page = phone.new_page()
    _first_trial(page, live_server, study)
    page.route(
        TRIAL_PAGE,
        lambda route: (
            route.abort("internetdisconnected")
            if route.request.method == "POST"
            else route.continue_()
        ),
    )
    _listen(page)
    _answer(page, "A computer")
    page.clock.install()  # the back-off waits run on a fake clock
    page.get_by_role("button", name="Next").click()
    save_status = page.locator("[data-save-status]")
    for _ in range(12):
        page.clock.run_for(10_000)
    expect(save_status).to_contain_text("has not been sent yet")
    for name in ("A computer", "Sureness 4 of 5", "Musical 3 of 5"):
        expect(page.get_by_role("radio", name=name)).to_be_checked()
    assert Answer.objects.count() == 0

    page.unroute(TRIAL_PAGE)
    url = page.url
    page.get_by_role("button", name="Next").click()
    expect(page).not_to_have_url(url)
    assert _stored() == [(0, False)]


def test_a_reply_lost_after_the_answer_was_stored_neither_duplicates_nor_changes_it(
    live_server, phone
):
    study = open_study(headphone_trials=0)
    page = phone.new_page()
    _first_trial(page, live_server, study)
    lost = []

    def store_then_drop_reply(route):
        if route.request.method == "POST" and not lost:
            lost.append(route.fetch(max_redirects=0).status)  # the server stores the answer
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route(TRIAL_PAGE, store_then_drop_reply)
    _listen(page)
    _answer(page, "A computer")
    url = page.url
    page.get_by_role("button", name="Next").click()
    expect(page).not_to_have_url(url, timeout=20000)
    assert lost == [302] and _stored() == [(0, False)]


def test_back_and_reload_after_answering_lead_on_and_keep_the_first_answer(live_server, phone):
    study = open_study(headphone_trials=0)
    page = phone.new_page()
    _first_trial(page, live_server, study)
    first = page.url
    _listen(page)
    _answer(page, "A person")
    page.get_by_role("button", name="Next").click()
    expect(page).not_to_have_url(first)
    second = page.url

    page.go_back()
    expect(page).to_have_url(second)  # the server sends them on to the next excerpt
    page.reload()
    expect(page).to_have_url(second)
    expect(page.locator("fieldset[data-locked] input[type=radio]").first).to_be_disabled()
    assert _stored() == [(0, True)]


def test_a_researcher_previews_a_draft_on_a_phone(live_server, phone, artifacts):
    """The dashboard's button starts a preview of a draft: the participant's pages, each with
    the preview banner, ending on the code page without the Prolific link; the draft stays one."""
    make_researcher("ada", password="pw-long-enough-1")
    study = draft_study(
        headphone_trials=0,
        completion_url="https://app.prolific.com/submissions/complete?cc={code}",
    )
    page = phone.new_page()
    page.goto(f"{live_server.url}/dashboard/studies/{study.slug}/")
    page.get_by_label("User name").fill("ada")
    page.get_by_label("Password").fill("pw-long-enough-1")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("button", name="Try it as a participant").click()
    banner = page.locator("[data-preview-banner]")

    expect(page.get_by_role("heading", name="Before you start")).to_be_visible()
    expect(banner).to_be_visible()
    _no_sideways_scroll(page)
    page.screenshot(path=artifacts / "preview-consent.png", full_page=True)
    page.get_by_label("I have read the information above and agree to take part.").check()
    page.get_by_role("button", name="I agree, continue").click()
    expect(page.get_by_role("heading", name="How it works")).to_be_visible()
    expect(banner).to_be_visible()
    page.get_by_role("button", name="Start").click()
    expect(page).to_have_url(re.compile(r"/t/\d+/$"))
    answered = 0
    while "/t/" in page.url:
        expect(banner).to_be_visible()
        _listen(page)
        _answer(page, "A person")
        page.get_by_role("button", name="Next").click()
        answered += 1
        expect(page).not_to_have_url(re.compile(rf"/t/{answered - 1}/$"))
    expect(page.get_by_role("heading", name="A few questions about you")).to_be_visible()
    expect(banner).to_be_visible()
    page.get_by_label("Your age").select_option("25-34")
    page.get_by_label(re.compile("how many years have you had music lessons")).fill("0")
    for select in page.locator("select[name^=mt]").all():
        select.select_option(index=1)
    page.get_by_role("button", name="Finish").click()

    expect(page.get_by_role("heading", name="Thank you!")).to_be_visible()
    expect(banner).to_be_visible()
    expect(page.get_by_role("link", name="Return and confirm completion")).to_have_count(0)
    page.wait_for_load_state()
    _no_sideways_scroll(page)
    page.screenshot(path=artifacts / "preview-done.png", full_page=True)
    preview = Participant.objects.get(study=study)
    assert preview.preview and preview.completed
    assert Answer.objects.filter(participant=preview).count() == answered
    study.refresh_from_db()
    assert study.state == Study.State.DRAFT and study.frozen_rules is None


def test_an_answer_sooner_than_the_excerpt_is_refused_politely_with_the_choices_kept(
    live_server, phone, artifacts
):
    """The page plays at 4x here, so the browser unlocks the answers long before the excerpt's
    real length: the server refuses, says why, keeps the choices, and takes the answer once
    the excerpt has had its time."""
    study = open_study(headphone_trials=0, attention=0)
    Stimulus.objects.update(duration_seconds=2.5)  # the allowance is 1 s: 1.5 s must pass
    page = phone.new_page()
    _first_trial(page, live_server, study)
    url = page.url
    _listen(page)
    _answer(page, "A computer")
    page.get_by_role("button", name="Next").click()
    refusal = page.locator("[data-refusal]")
    expect(refusal).to_contain_text("Please listen to the whole excerpt")
    expect(page).to_have_url(url)
    for name in ("A computer", "Sureness 4 of 5", "Musical 3 of 5"):
        expect(page.get_by_role("radio", name=name)).to_be_checked()
    page.screenshot(path=artifacts / "phone-too-early.png", full_page=True)
    assert Answer.objects.count() == 0
    page.wait_for_timeout(1600)
    _listen(page)
    expect(refusal).to_be_hidden()  # heard to the end now: the request to listen is done
    page.get_by_role("button", name="Next").click()
    expect(page).not_to_have_url(url)
    assert _stored() == [(0, False)]


def test_a_different_answer_from_a_second_tab_is_dropped_with_a_word(live_server, phone):
    """The first answer to a trial stands. The same trial answered otherwise in another tab of
    the same phone is dropped, and that tab says so on the page it moves on to."""
    study = open_study(headphone_trials=0, attention=0)
    first = phone.new_page()
    _first_trial(first, live_server, study)
    url = first.url
    second = phone.new_page()
    second.goto(url)
    for page, judgment in ((second, "A person"), (first, "A computer")):
        _listen(page)
        _answer(page, judgment)
        page.get_by_role("button", name="Next").click()
        expect(page).not_to_have_url(url)
    expect(first.locator("ul.messages")).to_contain_text("already answered that excerpt")
    expect(second.locator("ul.messages")).to_have_count(0)
    assert [judged_human for _, judged_human in _stored()] == [True]


def test_a_failed_sound_check_ends_the_study_on_a_phone(live_server, phone, artifacts, tones_at_4x):
    study = open_study(
        headphone_trials=2,
        exclusion_rules={"headphone_min_correct": 2},
        screen_out_url="https://app.prolific.com/submissions/complete?cc={code}",
    )
    page = phone.new_page()
    page.goto(f"{live_server.url}/s/{study.slug}/?PROLIFIC_PID=p2")
    page.get_by_label("I have read the information above and agree to take part.").check()
    page.get_by_role("button", name="I agree, continue").click()
    participant = Participant.objects.get()
    for trial in participant.headphone_trials.order_by("position"):
        _listen(page)
        page.get_by_role("radio", name=f"Tone {trial.antiphase_position}").check()
        page.get_by_role("button", name="Next").click()
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    expect(page.locator("[data-screen-out-code]")).to_have_text(study.screen_out_code)
    link = page.get_by_role("link", name="Return and confirm")
    expect(link).to_have_attribute("href", re.compile(f"cc={study.screen_out_code}$"))
    _no_sideways_scroll(page)
    page.screenshot(path=artifacts / "phone-screened-out.png", full_page=True)
    participant.refresh_from_db()
    assert participant.screened_out_at and not participant.trials.exists()
