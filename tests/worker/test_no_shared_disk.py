"""Machines that share no disk: the web process (this test), a gpu-queue worker and a cpu-queue
worker, each with its own empty MEDIA_ROOT, share only an S3-compatible server (moto, a real
server process), Redis and PostgreSQL. The demo pipeline runs through them: upload and import,
train, generate, render, open a study, answer as a participant, report. On the way a gpu worker
is killed mid-training, and a second one that has never seen the run resumes it from storage
and ends where an uninterrupted run ends."""

import io
import json
import os
import signal
import time
import uuid
import zipfile
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.test import Client
from django.urls import reverse

from generation.midi_files import read_midi, tune_hash
from generation.models import Corpus, GenerationBatch, TrainingRun
from generation.models.runs import Status
from generation.splits import split_for
from generation.tasks.sampling import create_generation_batch, enqueue_generation_batch
from generation.tasks.training import create_training_run, enqueue_training_run
from generation.training import TrainConfig
from surveys.models import Stimulus, Study
from surveys.tasks.stimuli import pieces_to_render, render_stimuli
from tests.dashboard.helpers import melody, researcher_fixture  # noqa: F401 - fixture
from tests.surveys.helpers import body, participant_of, take_study
from tests.worker.processes import (
    needs_postgres,
    pool_children,
    start_worker,
    stop_worker,
    wait_for,
)
from worker.celery_app import CPU_QUEUE, GPU_QUEUE

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

RUN_CONFIG = {
    "model": "roll_lstm",
    "epochs": 40,
    "batch_size": 8,
    "hidden_size": 8,
    "dense_size": 8,
    "window": 8,
    "stride": 2,
    "max_windows": 64,
    "patience": None,
    "device": "cpu",
}
WANTED_SPLITS = {"train": 8, "valid": 2, "test": 3}


class Machine:
    """A worker process with a media folder and checkpoint cache of its own, empty at start."""

    def __init__(self, home: Path, queue: str, storage_env: dict):
        self.media = home / "media"
        self.media.mkdir(parents=True)
        needs_postgres()
        self.process = start_worker(
            queue,
            f"{home.name}-{uuid.uuid4().hex[:8]}@host",
            MEDIA_ROOT=str(self.media),
            CHECKPOINT_CACHE_DIR=str(home / "cache"),
            TORCH_DEVICE="cpu",
            TORCH_THREADS="1",
            **storage_env,
        )

    def gone(self) -> None:
        """The machine stops at once: the worker and its pool processes are killed."""
        for child in pool_children(self.process.pid):
            os.kill(child, signal.SIGKILL)
        self.process.kill()
        self.process.wait(timeout=30)

    def stop(self) -> None:
        stop_worker(self.process)


def files_under(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]


def finished(model, pk: int):
    row = model.objects.get(pk=pk)
    return row if row.status in (Status.SUCCEEDED, Status.FAILED) else None


def upload_zip() -> bytes:
    """Melodies chosen so that the tune-hash split gives every split some pieces."""
    chosen: dict[str, list[bytes]] = {split: [] for split in WANTED_SPLITS}
    for seed in range(400):
        data = melody(seed)
        split = split_for(tune_hash(read_midi(data)))
        if len(chosen[split]) < WANTED_SPLITS[split]:
            chosen[split].append(data)
        if all(len(chosen[s]) == n for s, n in WANTED_SPLITS.items()):
            break
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for index, data in enumerate(d for pieces in chosen.values() for d in pieces):
            archive.writestr(f"tune-{index}.mid", data)
    return buffer.getvalue()


@pytest.fixture
def machines(s3_storage_env, settings, tmp_path):
    """name -> Machine; the web process's own media folder is tmp_path/web/media."""
    settings.MEDIA_ROOT = tmp_path / "web" / "media"
    settings.MEDIA_ROOT.mkdir(parents=True)
    started: dict[str, Machine] = {}

    def start(name: str, queue: str) -> Machine:
        started[name] = Machine(tmp_path / name, queue, s3_storage_env)
        return started[name]

    yield start
    for machine in started.values():
        machine.stop()


def test_the_demo_pipeline_runs_on_machines_that_share_no_disk(
    machines, client, researcher, settings
):
    cpu = machines("cpu-box", CPU_QUEUE)
    first_gpu = machines("gpu-box-1", GPU_QUEUE)

    # Import: the upload goes to the bucket, the cpu worker reads it from there.
    upload = io.BytesIO(upload_zip())
    upload.name = "tunes.zip"
    response = client.post(
        reverse("dashboard:corpus-upload"), {"title": "tunes", "files": [upload]}
    )
    assert response.status_code == 302
    corpus = wait_for(
        lambda: Corpus.objects.filter(pieces__isnull=False).distinct().first(), "the import"
    )
    wait_for(lambda: corpus.pieces.count() == sum(WANTED_SPLITS.values()), "every piece")

    # Train, and lose the first gpu machine mid-run.
    config = TrainConfig(**RUN_CONFIG)
    cut = create_training_run(corpus, config, steps_per_beat=2)
    enqueue_training_run(cut)
    wait_for(
        lambda: TrainingRun.objects.get(pk=cut.pk).checkpoints.get("last", {}).get("epoch", 0) >= 2,
        "two epochs on the first gpu machine",
    )
    first_gpu.gone()
    lost = TrainingRun.objects.get(pk=cut.pk)
    assert lost.status == Status.RUNNING and len(lost.history) < config.epochs

    # A second gpu machine that never saw the run resumes it from storage, as the dashboard's
    # "Restart from last checkpoint" does once the run counts as orphaned.
    second_gpu = machines("gpu-box-2", GPU_QUEUE)
    settings.JOB_ORPHAN_GRACE_SECONDS = 1
    time.sleep(1.5)  # no progress for longer than the grace: the run's worker is gone
    client.post(reverse("dashboard:run-resume", args=[cut.pk]))
    assert TrainingRun.objects.get(pk=cut.pk).task_id != lost.task_id, "not restarted"
    resumed = wait_for(lambda: finished(TrainingRun, cut.pk), "the resumed run")
    assert resumed.status == Status.SUCCEEDED, resumed.error
    whole = create_training_run(corpus, config, steps_per_beat=2)
    enqueue_training_run(whole)
    whole = wait_for(lambda: finished(TrainingRun, whole.pk), "the uninterrupted run")
    assert whole.status == Status.SUCCEEDED, whole.error
    assert resumed.history == whole.history and len(whole.history) == config.epochs
    assert resumed.test_metrics == whole.test_metrics

    # Generate on the gpu machine, render on the cpu machine.
    batch = create_generation_batch(
        resumed, n_pieces=4, bars=4, seed_strategy="random", random_seed=1
    )
    enqueue_generation_batch(batch)
    batch = wait_for(lambda: finished(GenerationBatch, batch.pk), "the generation batch")
    assert batch.status == Status.SUCCEEDED, batch.error
    human = list(pieces_to_render(corpus=corpus.slug, split="test"))
    machine = list(batch.study_pieces())
    assert human and machine
    params = {"excerpt": {"bars": 2}}
    render_stimuli.delay([p.pk for p in human + machine], params)
    wait_for(
        lambda: (
            Stimulus.objects.exclude(status=Stimulus.Status.PENDING).count()
            == len(human) + len(machine)
            and Stimulus.objects.filter(status=Stimulus.Status.READY)
        ),
        "the renders",
    )
    ready = list(Stimulus.objects.filter(status=Stimulus.Status.READY))
    kinds = {s.source_kind for s in ready}
    assert kinds == {Stimulus.SourceKind.HUMAN, Stimulus.SourceKind.MACHINE}

    # Open a study and take it as a participant; every sound comes from the bucket.
    study = Study.objects.create(
        slug="no-shared-disk",
        title="Who composed it?",
        consent_text="A test study.",
        trials_per_participant=2,
        attention_checks=0,
        headphone_trials=1,
        exclusion_rules={"headphone_min_correct": 0},
    )
    study.add_stimuli(ready)
    study.open()
    settings.SURVEY_LISTEN_ALLOWANCE_MS = 60_000  # answer without waiting out each excerpt
    participant = Client()
    take_study(participant, study.slug)
    trials = participant_of(participant, study.slug).trials.select_related("item__stimulus")
    assert trials.filter(kind="experimental", answer__isnull=False).count() == 2
    for trial in trials:
        sound = participant.get(f"/a/{trial.audio_token}")
        stored = trial.item.stimulus.audio_mp3
        assert sound.status_code == 200 and body(sound) == stored.open("rb").read()

    # The report and a researcher's download, from the web process.
    assert client.get(reverse("evaluation:report", args=[study.slug])).status_code == 200
    report = json.loads(client.get(reverse("evaluation:report_json", args=[study.slug])).content)
    assert isinstance(report, dict)
    midi = client.get(reverse("dashboard:piece-midi", args=[machine[0].pk]))
    assert body(midi) == default_storage.open(machine[0].midi.name).read()

    for name, folder in {
        "web": Path(settings.MEDIA_ROOT),
        "cpu": cpu.media,
        "gpu 1": first_gpu.media,
        "gpu 2": second_gpu.media,
    }.items():
        assert not files_under(folder), f"the {name} process wrote to its own media folder"
