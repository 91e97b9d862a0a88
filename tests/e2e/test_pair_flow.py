"""A participant takes a pair (2AFC) study on a 360x740 phone, consent to completion code, in a
real browser: the answers stay locked until both excerpts have played to their end, the A/B
order varies, and nothing the browser receives names a source."""

import re

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from playwright.sync_api import expect

from surveys.models import Answer, Participant, Stimulus
from tests.e2e.test_participant_flow import Recorder, _big_enough_to_tap, _no_sideways_scroll
from tests.surveys.factories import FORBIDDEN_WORDS, open_study, tone_mp3, tone_ogg
from tests.surveys.helpers import agree, follow, without_random_values

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
LISTEN_TO_BOTH = re.compile("[Ll]isten to both")


def _locked(page):
    expect(page.get_by_role("radio", name="Excerpt A")).to_be_disabled()
    expect(page.get_by_role("radio", name="Excerpt B")).to_be_disabled()
    expect(page.get_by_role("button", name="Next")).to_be_disabled()


def _listen_to_both(page, first: str):
    """Play one excerpt to its end (still locked), then the other (unlocked)."""
    second = "B" if first == "A" else "A"
    _locked(page)
    page.get_by_role("button", name=f"Play excerpt {first}").click()
    expect(page.locator(f"#player-status-{first}")).to_contain_text(
        "listen to the other excerpt", timeout=15000
    )
    _locked(page)
    page.get_by_role("button", name=f"Play excerpt {second}").click()
    expect(page.get_by_role("radio", name="Excerpt A")).to_be_enabled(timeout=15000)
    expect(page.locator(f"#player-status-{second}")).to_contain_text("You can answer now")


def _orders(study) -> list[tuple[str, ...]]:
    """Each participant's A/B order: which excerpt was the person's, pair by pair."""
    return [
        tuple(t.human_choice() for t in p.trials.filter(kind="experimental").select_related("item"))
        for p in Participant.objects.filter(study=study).order_by("id")
    ]


def test_participant_takes_a_pair_study_on_a_phone(live_server, phone, artifacts, tones_at_4x):
    study = open_study(
        "pairs",
        design="pair",
        trials=4,
        n_human=6,
        machine={"seq2seq": 3, "token_lstm": 3},
        attention=1,
        headphone_trials=1,
        show_score=True,
        ask_experience=True,
        completion_url="https://app.prolific.com/submissions/complete?cc={code}",
    )
    recorder = Recorder()
    phone.route("**/*", recorder)
    page = phone.new_page()
    shots = []

    def shot(name):
        page.wait_for_load_state()
        _no_sideways_scroll(page)
        _big_enough_to_tap(page)
        path = artifacts / f"pair-{len(shots):02d}-{name}.png"
        page.screenshot(path=path, full_page=True)
        shots.append(path)

    page.goto(f"{live_server.url}/s/{study.slug}/?PROLIFIC_PID=p1")
    shot("consent")
    page.get_by_label("I have read the information above and agree to take part.").check()
    page.get_by_role("button", name="I agree, continue").click()
    page.get_by_role("button", name=re.compile("^Play")).click()
    expect(page.get_by_role("radio", name="Tone 1")).to_be_enabled(timeout=15000)
    page.get_by_role("radio", name="Tone 1").check()
    page.get_by_role("button", name="Next").click()

    expect(page.get_by_role("heading", name="How it works")).to_be_visible()
    expect(page.get_by_text("Each question plays two excerpts, A and B")).to_be_visible()
    shot("instructions")
    page.get_by_role("button", name="Start").click()

    answered = 0
    while "/t/" in page.url:
        expect(page.get_by_role("heading", level=1)).to_contain_text(LISTEN_TO_BOTH)
        expect(page.get_by_role("heading", name="Excerpt A")).to_be_visible()
        expect(page.get_by_role("heading", name="Excerpt B")).to_be_visible()
        _listen_to_both(page, "A" if answered % 2 else "B")
        page.get_by_role("radio", name="Excerpt A" if answered % 2 else "Excerpt B").check()
        page.get_by_role("radio", name="Sureness 4 of 5").check()
        shot(f"pair-{answered}")
        page.get_by_role("button", name="Next").click()
        answered += 1
        expect(page).not_to_have_url(re.compile(rf"/t/{answered - 1}/$"))

    expect(page.get_by_role("heading", name="A few questions about you")).to_be_visible()
    page.get_by_label("Your age").select_option("25-34")
    page.get_by_label(re.compile("how many years have you had music lessons")).fill("0")
    page.get_by_label("How would you describe your experience with music?").select_option("novice")
    for select in page.locator("select[name^=mt]").all():
        select.select_option(index=1)
    page.get_by_role("button", name="Finish").click()

    expect(page.get_by_role("heading", name="Thank you!")).to_be_visible()
    expect(page.locator("[data-completion-code]")).to_have_text(study.completion_code)
    expect(page.locator("[data-score]")).to_contain_text(re.compile(r"in \d of 4 pairs"))
    shot("done")

    participant = Participant.objects.get(study=study)
    assert participant.completed and participant.music_experience == "novice"
    answers = Answer.objects.filter(participant=participant)
    assert answers.count() == answered == 1 + 4 + 1  # practice, pairs, attention check
    assert all(a.plays == 2 and a.listening_ms > 0 and a.choice in "ab" for a in answers)

    # A/B order: within this participant both orders occur; across participants it varies.
    for _ in range(5):
        client = Client()
        agree(client, follow(client, f"/s/{study.slug}/"))
        follow(client, f"/s/{study.slug}/instructions/", {})
    orders = _orders(study)
    assert set(orders[0]) == {"a", "b"}
    assert len(set(orders)) > 1

    secrets = [w.lower() for w in FORBIDDEN_WORDS]
    for stimulus in Stimulus.objects.filter(study_items__study=study).select_related("piece"):
        secrets += [stimulus.token.lower(), stimulus.piece.name.lower()]
        for field in (stimulus.audio_mp3, stimulus.audio_ogg):
            secrets.append(field.name.rsplit("/", 1)[-1].lower())
    for url, headers, body in recorder.responses:
        received = " ".join([url, *(f"{k}: {v}" for k, v in headers.items())])
        received = without_random_values(received + body.decode("latin-1")).lower()
        leaks = [s for s in secrets if s in received]
        assert not leaks, f"{url} reveals {leaks}"


def test_one_excerpt_plays_at_a_time_and_an_interrupted_one_must_be_heard_again(
    live_server, phone, settings
):
    settings.SURVEY_LISTEN_ALLOWANCE_MS = 60_000  # this test is about the page, not the server
    study = open_study(
        "one-at-a-time", design="pair", trials=2, attention=0, headphone_trials=0,
        practice_trial=False,
    )  # fmt: skip
    for stimulus in Stimulus.objects.all():  # 4 s sounds (1 s at the test's 4x) to interrupt
        stimulus.audio_mp3.save("x.mp3", ContentFile(tone_mp3(seconds=4.0)), save=False)
        stimulus.audio_ogg.save("x.ogg", ContentFile(tone_ogg(seconds=4.0)), save=True)
    page = phone.new_page()
    page.goto(f"{live_server.url}/s/{study.slug}/")
    page.get_by_label("I have read the information above and agree to take part.").check()
    page.get_by_role("button", name="I agree, continue").click()
    page.get_by_role("button", name="Start").click()
    a, b = page.locator("audio").nth(0), page.locator("audio").nth(1)
    page.get_by_role("button", name="Play excerpt A").click()
    expect(page.locator("#player-status-A")).to_have_text("Playing…")
    page.get_by_role("button", name="Play excerpt B").click()
    expect(page.locator("#player-status-B")).to_have_text("Playing…")
    assert a.evaluate("a => a.paused && !a.ended && a.currentTime > 0")
    expect(page.locator("#player-status-A")).to_contain_text("Paused")
    expect(page.locator("#player-status-B")).to_contain_text("listen to the other", timeout=15000)
    _locked(page)  # A was cut short: it has not been heard to its end
    assert b.evaluate("b => b.ended")
    page.get_by_role("button", name="Play excerpt A").click()
    expect(page.get_by_role("radio", name="Excerpt A")).to_be_enabled(timeout=15000)
