"""The survey under load: simulated participants through the whole flow against gunicorn,
PostgreSQL and Redis on this machine, against a bare Django view served by the same server.

N participants (each with its own cookies and client address, as behind the reverse proxy)
open the link, consent, take the sound check, read the instructions, fetch every sound and
answer every trial, fill in the questionnaire and read the code, CONCURRENCY of them at a time,
driven by an asyncio client (aiohttp). The baseline is the same number of concurrent clients
asking the bare /healthz view for as long. Then the database is checked: every accepted answer
stored once, none lost, no participant row without consent, and each source's excerpts heard
equally often (give or take one), though participants drew them at the same moments.

    python bench/bench_survey.py [--participants 256] [--concurrency 64] [--workers 5]
                                 [--listen SECONDS] [--decide SECONDS]

By default participants answer the moment a page arrives, so the server runs at its limit and
the request rate compares with the bare view's. With --listen (excerpts that long, which the
server then enforces) and --decide (a random answering time) they behave like people, and the
answer-POST latency is what 64 people at once would see.

It makes (and afterwards drops) its own PostgreSQL database, BENCH_DATABASE_URL (default
postgres://postgres@127.0.0.1:5432/turing_music_bench), and uses the Redis database
BENCH_REDIS_URL (default redis://127.0.0.1:6379/13) for the cache, flushing it first.

Wants, at 64 concurrent participants on the 2-core development machine: no lost or duplicated
answer, answer-POST p99 under 300 ms, and survey requests at least 0.5x the bare view's rate.
"""

import argparse
import asyncio
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import psycopg  # noqa: E402
import redis  # noqa: E402

from bench.survey_participant import Participant, Tally  # noqa: E402

SLUG = "bench"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--participants", type=int, default=256)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1)
    parser.add_argument("--trials", type=int, default=8, help="excerpts per participant")
    parser.add_argument(
        "--listen",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="excerpts last this long (the server then refuses earlier answers) and each "
        "participant listens that long before answering, as people do; by default they answer "
        "at once, so the server runs at its limit",
    )
    parser.add_argument(
        "--decide",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="after listening, each participant takes a random time up to this to answer",
    )
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    return parser.parse_args()


def environment(static_root: Path, media_root: Path, listen_seconds: float) -> dict[str, str]:
    """What the server and this process share: the bench database, cache, media and settings
    of a production server behind one reverse proxy (over http, as on this machine). Where the
    participants answer at once, the server's listening checks allow for it: the sound check's
    tones last 4 s, the excerpts less than a second."""
    database = os.environ.get(
        "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/turing_music_bench"
    )
    cache = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
    return {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": database,
        "CACHE_URL": cache,
        "CELERY_BROKER_URL": cache,
        "DEBUG": "0",
        "SITE_SCHEME": "http",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "TRUSTED_PROXY_COUNT": "1",
        "STATIC_ROOT": str(static_root),
        "MEDIA_ROOT": str(media_root),
        "LOG_LEVEL": "WARNING",
        "SURVEY_LISTEN_ALLOWANCE_MS": "1000" if listen_seconds else "5000",
    }


def fresh_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')


def drop_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def set_up(n_participants: int, trials: int, listen_seconds: float) -> None:
    """Migrates, collects static files and opens a study over short real MP3 and Ogg/Opus tones
    (the test suite's), declared `listen_seconds` long when that is given."""
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    from tests.surveys.factories import open_study

    study = open_study(
        SLUG,
        trials=trials,
        attention=0,
        headphone_trials=3,
        n_human=trials,
        machine={"seq2seq": trials // 2, "token_lstm": trials // 2},
        target_participants=n_participants,
        completion_url="",
    )
    if listen_seconds:
        study.stimuli.update(duration_seconds=listen_seconds)
    from django.db import connections

    connections.close_all()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(env: dict[str, str], port: int, workers: int) -> subprocess.Popen:
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "config.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--backlog",
        "2048",
        "--log-level",
        "warning",
    ]
    server = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise RuntimeError("gunicorn did not answer /healthz within a minute")


async def bare_view(base: str, concurrency: int, seconds: float) -> float:
    """Requests per second of the bare /healthz view with `concurrency` clients for `seconds`."""
    done = 0
    stop = time.perf_counter() + seconds

    async def client() -> None:
        nonlocal done
        async with aiohttp.ClientSession() as session:
            while time.perf_counter() < stop:
                async with session.get(f"{base}/healthz") as response:
                    await response.read()
                    done += response.status == 200

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    return done / (time.perf_counter() - started)


async def survey(
    base: str, n: int, concurrency: int, listen_seconds: float, decide_seconds: float
) -> tuple:
    tally = Tally()
    gate = asyncio.Semaphore(concurrency)

    async def one(number: int) -> None:
        async with gate:
            await Participant(base, SLUG, number, tally, listen_seconds, decide_seconds).run()

    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(n)))
    return tally, time.perf_counter() - started


def check_balance() -> list[str]:
    """Participants who started together still heard each source's excerpts equally often,
    give or take one hearing."""
    from surveys.models import Study
    from tests.surveys.helpers import hearings_by_source

    by_source = hearings_by_source(Study.objects.get(slug=SLUG))
    return [
        f"{source} excerpts heard {min(counts)} to {max(counts)} times"
        for source, counts in by_source.items()
        if max(counts) - min(counts) > 1
    ]


def check_database(tally: Tally) -> list[str]:
    """Every answer the server accepted is stored once; no participant row lacks consent."""
    from django.db.models import Count

    from surveys.models import Answer, Participant, Trial

    problems = []
    stored = Answer.objects.filter(participant__study__slug=SLUG)
    if stored.count() != tally.answers_accepted:
        problems.append(f"{stored.count()} answers stored, {tally.answers_accepted} accepted")
    doubled = stored.values("trial").annotate(n=Count("id")).filter(n__gt=1).count()
    if doubled:
        problems.append(f"{doubled} trials answered more than once")
    done = Participant.objects.filter(study__slug=SLUG, completed_at__isnull=False)
    lost = Trial.objects.filter(participant__in=done, answer__isnull=True).count()
    if lost:
        problems.append(f"{lost} trials of completed participants have no answer")
    unconsented = Participant.objects.filter(consented_at__isnull=True).count()
    if unconsented:
        problems.append(f"{unconsented} participant rows without consent")
    if done.count() != tally.completed:
        problems.append(f"{done.count()} completed in the database, {tally.completed} seen")
    return problems


def percentile(values: list[float], share: float) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=1000, method="inclusive")[round(share * 1000) - 1]


def main() -> int:
    args = parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-survey-"))
    env = environment(work / "static", work / "media", args.listen)
    os.environ.update(env)
    fresh_database(env["DATABASE_URL"])
    redis.Redis.from_url(env["CACHE_URL"]).flushdb()
    set_up(args.participants, args.trials, args.listen)
    port = free_port()
    server = start_server(env, port, args.workers)
    base = f"http://127.0.0.1:{port}"
    try:
        asyncio.run(bare_view(base, args.concurrency, 2.0))  # warm every worker up
        tally, elapsed = asyncio.run(
            survey(base, args.participants, args.concurrency, args.listen, args.decide)
        )
        bare = asyncio.run(bare_view(base, args.concurrency, max(elapsed, 5.0)))
    finally:
        server.terminate()
        server.wait(timeout=60)
    problems = check_database(tally) + check_balance()
    from django.db import connections

    connections.close_all()
    if not args.keep:
        drop_database(env["DATABASE_URL"])

    rate = tally.requests / elapsed
    answers_ms = [1000 * s for s in tally.answer_seconds]
    print(
        f"survey: {args.participants} participants, {args.concurrency} at a time, "
        f"{args.trials} excerpts each, listening {args.listen:g} s and deciding up to "
        f"{args.decide:g} s; gunicorn with {args.workers} workers"
    )
    print(
        f"  completed participants/s  {tally.completed / elapsed:8.2f}  "
        f"({tally.completed} in {elapsed:.1f} s, {len(tally.failures)} failed)"
    )
    print(
        f"  answer POST p50 / p99     {percentile(answers_ms, 0.5):8.1f} / "
        f"{percentile(answers_ms, 0.99):.1f} ms  ({len(answers_ms)} answers)"
    )
    print(f"  survey requests/s         {rate:8.1f}  ({tally.requests} requests)")
    print(f"  bare view requests/s      {bare:8.1f}  (/healthz, same server and clients)")
    print(f"  ratio survey / bare       {rate / bare:8.2f}x")
    for failure in tally.failures[:5]:
        print(f"  failed: {failure}")
    print(
        "database: "
        + (
            "; ".join(problems)
            if problems
            else f"{tally.answers_accepted} answers stored once each, none lost, "
            "no participant row without consent, every excerpt heard within one hearing of "
            "the others from its source"
        )
    )
    return 1 if problems or tally.failures else 0


if __name__ == "__main__":
    sys.exit(main())
