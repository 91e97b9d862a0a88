"""python manage.py demo [--port 8000] [--quick] [--no-serve]

The whole experiment on one machine, from nothing to an open listening study: migrate, create a
researcher login, import Bach chorales, train the three seed networks briefly (sizes scaled
down, and said so), generate, render human (held-out test split) and machine excerpts by one
path, open a demo study, then serve the site with a worker for each queue. Ctrl-C stops it all.

Every step reuses what an earlier run of the demo made (same settings), so a second start is
quick. The set-up runs in the foreground, on the same code the workers run.
"""

import os
import secrets
import shutil
import signal
import sys
from dataclasses import asdict

import redis
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from audio.pipeline import StimulusSpec, excerpt_of
from evaluation.music_metrics import set_profiles
from generation.corpora import iter_bundled
from generation.importing import bundled_corpus, import_pieces
from generation.memorisation import MEMORISED_BEATS, MEMORISED_NGRAM_SHARE, is_memorised
from generation.models import Corpus, GenerationBatch, TrainingRun
from generation.models.runs import Status
from generation.tasks.sampling import create_generation_batch, execute_generation_batch
from generation.tasks.training import create_training_run, execute_training_run
from generation.training import NOT_LEARNED, TrainConfig
from surveys.models import Stimulus, Study
from surveys.models.attention import make_attention_clips
from surveys.tasks.stimuli import pieces_to_render, render_piece
from worker.celery_app import CPU_QUEUE, GPU_QUEUE
from worker.supervisor import Child, Supervisor

CORPUS = "bach"
STUDY_SLUG = "demo"
MODELS = ("token_lstm", "roll_lstm", "seq2seq")
STEPS_PER_BEAT = 4
EXCERPT_BARS = 4
GENERATED_BARS = 12
# Three headphone trials keep the demo short; passing needs all three (Woods et al. ask 5 of 6).
HEADPHONE_TRIALS = 3
DEMO_RULES = {"headphone_min_correct": 3}

# The seed networks have 512 LSTM units and train for hours; the demo trains for minutes.
SIZES = {
    "demo": {
        "chorales": 100,
        "human_excerpts": 12,
        "pieces_per_model": 8,
        "trials": 8,
        "config": {
            "hidden_size": 128,
            "dense_size": 128,
            "window": 32,
            "stride": 2,
            "epochs": 4,
            "batch_size": 8,
            "learning_rate": 0.003,
            "max_windows": 1536,
            "patience": None,
        },
    },
    "quick": {
        "chorales": 16,
        "human_excerpts": 3,
        "pieces_per_model": 3,
        "trials": 2,
        "config": {
            "hidden_size": 16,
            "dense_size": 16,
            "window": 8,
            "stride": 4,
            "epochs": 1,
            "batch_size": 16,
            "learning_rate": 0.01,
            "max_windows": 64,
            "patience": None,
        },
    },
}
# seq2seq decodes a whole window at once when every step is teacher-forced: far faster on CPU.
# It learns with BCE rather than the seed's focal loss: focal loss inflates the probability of
# rare keys, so a briefly trained model sampled key by key sounded some twenty notes at every
# step, and thresholded it said nothing at all; BCE's probabilities can be sampled as they are.
# roll_lstm gets the NADE head: the seed's one-class loss plays one note at a time, a quarter of
# a chorale's notes, and independent keys drawn at once do not make chords.
PER_MODEL = {
    "seq2seq": {
        "teacher_forcing_ratio": 1.0,
        "window": 16,
        "stride": 4,
        "batch_size": 16,
        "loss": "bce",
    },
    "roll_lstm": {"head": "nade", "nade_hidden": 64},
}

# Progress bars on a terminal; none in logs and tests, where every redraw would be a line.
BAR = {"file": sys.stdout, "disable": None, "mininterval": 0.5}

CONSENT = (
    "This is a demonstration of a listening study. You will hear short music excerpts and say "
    "whether a person or a computer composed each one. Your answers are stored without your "
    "name and used for nothing but this demonstration."
)


class Command(BaseCommand):
    help = "Set up a demo listening study end to end and serve it with workers (Ctrl-C stops)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--quick", action="store_true", help="tiny sizes (for tests)")
        parser.add_argument("--no-serve", action="store_true", help="set up, then exit")
        parser.add_argument("--username", default="researcher")
        parser.add_argument("--password", help="default: a new random one each start")
        parser.add_argument("--chorales", type=int, help="chorales to import (default 100)")
        parser.add_argument("--epochs", type=int, help="epochs per network (default 4)")

    def handle(self, *args, **options):
        sizes = SIZES["quick" if options["quick"] else "demo"]
        chorales = options["chorales"] or sizes["chorales"]
        if chorales < 8:
            raise CommandError("--chorales must be at least 8 (train, valid and test need some)")
        epochs = options["epochs"] or sizes["config"]["epochs"]
        if epochs < 1:
            raise CommandError("--epochs must be at least 1")
        self.check_services()
        self.step("Database")
        call_command("migrate", interactive=False, verbosity=0)
        self.say(f"migrated ({settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]})")
        password = options["password"] or secrets.token_urlsafe(9)
        self.researcher(options["username"], password)
        corpus = self.import_chorales(chorales)
        runs = self.train_models(corpus, dict(sizes["config"], epochs=epochs))
        batches = [self.generate(run, sizes["pieces_per_model"]) for run in runs]
        spec = StimulusSpec.from_dict({"excerpt": {"bars": EXCERPT_BARS}})
        stimuli = self.render(corpus, batches, spec, sizes["human_excerpts"])
        self.compare(stimuli, spec)
        study = self.open_study(stimuli, spec, sizes["trials"])
        base = f"http://{options['host']}:{options['port']}"
        self.summary(base, study, options["username"], password)
        if not options["no_serve"]:
            self.serve(options["host"], options["port"])

    # --- set-up steps -------------------------------------------------------------------------

    def check_services(self) -> None:
        try:
            redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=2).ping()
        except (redis.RedisError, OSError) as exc:
            raise CommandError(
                f"Redis at {settings.CELERY_BROKER_URL} is not reachable ({exc}). "
                "Start it with `bash scripts/setup` (or `redis-server --daemonize yes`)."
            ) from exc
        if not settings.SOUNDFONT.is_file():
            raise CommandError(
                f"no soundfont at {settings.SOUNDFONT}: install Debian's fluid-soundfont-gm "
                "(bash scripts/setup does) or set SOUNDFONT"
            )

    def researcher(self, username: str, password: str) -> None:
        self.step("Researcher login")
        user, created = get_user_model().objects.get_or_create(username=username)
        user.is_staff = user.is_superuser = True
        user.set_password(password)
        user.save()
        self.say(f"{'created' if created else 'updated'} user {username!r} (staff, admin)")

    def import_chorales(self, wanted: int) -> Corpus:
        self.step(f"Import {wanted} Bach chorales (music21's bundled corpus)")
        corpus = bundled_corpus(CORPUS)
        have = corpus.pieces.count()
        if have >= wanted:
            self.say(f"{have} already imported")
        else:
            with tqdm(total=wanted, desc="importing", unit="chorale", **BAR) as bar:
                summary = import_pieces(
                    corpus, iter_bundled(CORPUS, wanted), on_piece=lambda s: bar.update()
                )
            for line in summary.lines():
                self.say(line)
        counts = corpus.split_counts()
        missing = [split for split, n in counts.items() if n == 0]
        if missing:
            raise CommandError(
                f"the {', '.join(missing)} split is empty with {wanted} chorales; "
                "import more with --chorales"
            )
        self.say("split: " + ", ".join(f"{s} {n}" for s, n in counts.items()))
        return corpus

    def train_models(self, corpus: Corpus, sizes: dict) -> list[TrainingRun]:
        shown = ", ".join(f"{k} {v}" for k, v in sizes.items() if v is not None)
        self.step("Train the three seed networks, scaled down")
        self.say(
            f"SCALED DOWN for a demo on CPU: {shown} (the seed: 512 LSTM units, window 100, "
            "up to 100 epochs on every window). Expect music that only starts to sound like Bach."
        )
        runs = []
        for model in MODELS:
            config = TrainConfig(model=model, **(sizes | PER_MODEL.get(model, {}))).resolved()
            runs.append(self.train_one(corpus, config))
        return runs

    def train_one(self, corpus: Corpus, config: TrainConfig) -> TrainingRun:
        wanted = asdict(config)
        same = [
            run
            for run in TrainingRun.objects.filter(corpus=corpus, model_kind=config.model)
            if {**run.config, "device": wanted["device"]} == wanted
        ]
        done = next((run for run in same if run.status == Status.SUCCEEDED), None)
        if done:
            self.say(
                f"{config.model}: run {done.pk} already trained "
                f"({done.learning_line()}); reusing it"
            )
            return done
        run = same[0] if same else create_training_run(corpus, config, STEPS_PER_BEAT)
        bar = tqdm(desc=f"{config.model} (run {run.pk})", unit="batch", **BAR)

        def on_batch(epoch: int, batch: int, batches: int) -> None:
            bar.total = config.epochs * batches
            bar.n = epoch * batches + batch
            bar.set_postfix_str(f"epoch {epoch + 1}/{config.epochs}", refresh=False)
            bar.refresh()

        try:
            run = execute_training_run(run, on_batch=on_batch)
        except Exception as exc:
            raise CommandError(f"training run {run.pk} failed: {exc}") from exc
        finally:
            bar.close()
        best = run.history[run.best_epoch - 1]
        self.say(
            f"{config.model}: run {run.pk} on {run.device}, "
            f"{run.learning_line()}"
            + (f", valid F1 {best['valid_f1']:.3f}" if "valid_f1" in best else "")
        )
        if run.not_learned:
            self.say(self.style.WARNING(NOT_LEARNED))
        return run

    def generate(self, run: TrainingRun, n_pieces: int) -> GenerationBatch:
        settings_wanted = {"n_pieces": n_pieces, "bars": GENERATED_BARS, "seed_strategy": "primer"}
        done = run.batches.filter(status=Status.SUCCEEDED, **settings_wanted).first()
        if done:
            self.say(f"{run.model_kind}: batch {done.pk} already generated; reusing it")
            return done
        self.step(f"Generate {n_pieces} pieces of {GENERATED_BARS} bars with {run.model_kind}")
        batch = run.batches.filter(**settings_wanted).first() or create_generation_batch(
            run, random_seed=run.pk, **settings_wanted
        )
        bar = tqdm(desc=f"batch {batch.pk}", unit="step", **BAR)

        def on_step(done_steps: int, total: int) -> None:
            bar.total, bar.n = total, done_steps
            bar.refresh()

        try:
            batch = execute_generation_batch(batch, on_step=on_step)
        except Exception as exc:
            raise CommandError(f"generation batch {batch.pk} failed: {exc}") from exc
        finally:
            bar.close()
        samples = list(batch.samples.all())
        silent = sum(s.piece_id is None for s in samples)
        flagged = sum(is_memorised(s.longest_verbatim_beats, s.ngram_share) for s in samples)
        self.say(
            f"batch {batch.pk}: {len(samples)} samples, {silent} silent, {flagged} copying the "
            f"corpus ({MEMORISED_BEATS:g}+ beats verbatim or "
            f"{MEMORISED_NGRAM_SHARE:.0%}+ of n-grams; kept out of the study)"
        )
        return batch

    def render(self, corpus, batches, spec: StimulusSpec, n_human: int) -> list[Stimulus]:
        self.step(f"Render {EXCERPT_BARS}-bar excerpts, human and machine alike")
        human = list(pieces_to_render(corpus=corpus.slug, split="test", n=n_human))
        if len(human) < 2:
            self.say(
                f"only {len(human)} held-out chorale(s) in the test split: the report needs two "
                "or more excerpts a source for any interval; import more chorales (--chorales) "
                "for a study worth reading"
            )
        machine = [p for b in batches for p in b.study_pieces().order_by("id")]
        stimuli = []
        params = spec.as_dict()
        for piece in tqdm(human + machine, desc="rendering", unit="excerpt", **BAR):
            stimuli.append(render_piece(piece.pk, params))
        for stimulus in stimuli:
            if stimulus.status != Stimulus.Status.READY:
                self.say(f"  {stimulus.piece}: {stimulus.status}: {stimulus.error}")
        ready = [s for s in stimuli if s.status == Stimulus.Status.READY]
        for kind in Stimulus.SourceKind:
            n = sum(s.source_kind == kind for s in ready)
            self.say(f"{n} {'excerpt' if n == 1 else 'excerpts'} {kind.label} ready")
        return ready

    def compare(self, stimuli: list[Stimulus], spec: StimulusSpec) -> None:
        """Each model's excerpts beside the human ones, in numbers a listener would hear."""
        self.step("What the excerpts hold (objective metrics, human first)")
        sets: dict[str, list] = {}
        for stimulus in stimuli:
            notes = excerpt_of(stimulus.piece.load_midi(), spec).to_midi()
            sets.setdefault(stimulus.source_label, []).append(notes)
        human = sets.pop("human", [])
        if not human:
            self.say("no human excerpt to compare with")
            return
        self.say(
            f"{'source':<12} {'excerpts':>8} {'notes/bar':>10} {'polyphony':>10} "
            f"{'range':>6} {'pitch-class distance':>21}"
        )
        for p in set_profiles(human, sets, spec.excerpt.bars):
            self.say(
                f"{p.label:<12} {p.excerpts:>8} {p.notes_per_bar:>10.1f} {p.polyphony:>10.2f} "
                f"{p.pitch_range:>6.1f} {p.pitch_class_distance:>21.2f}"
            )
        self.say(
            "pitch-class distance: share of notes in other pitch classes than the human "
            "excerpts' (0: the same keys, 1: none shared)"
        )

    def open_study(self, stimuli: list[Stimulus], spec: StimulusSpec, trials: int) -> Study:
        self.step("Open the demo study")
        study = Study.objects.filter(slug=STUDY_SLUG).first()
        if study and study.state != Study.State.DRAFT:
            self.say(f"study {study.slug} is {study.state} already; reusing it")
            return study
        n_human = sum(s.source_kind == Stimulus.SourceKind.HUMAN for s in stimuli)
        n_machine = len(stimuli) - n_human
        per_kind = min(trials // 2, n_human, n_machine)
        if per_kind < 1:
            raise CommandError(
                f"cannot open a study with {n_human} human and {n_machine} machine excerpts; "
                "train longer (--epochs) or import more chorales (--chorales)"
            )
        speech = shutil.which("espeak-ng") is not None
        if study is None:
            study = Study.objects.create(
                slug=STUDY_SLUG,
                title="Who composed it?",
                consent_text=CONSENT,
                trials_per_participant=2 * per_kind,
                attention_checks=1 if speech else 0,
                headphone_trials=HEADPHONE_TRIALS,
                target_participants=20,
            )
        # A draft left by an earlier demo may carry rules its three trials could never meet.
        study.exclusion_rules = {**study.exclusion_rules, **DEMO_RULES}
        study.save(update_fields=["exclusion_rules"])
        study.add_stimuli(stimuli)
        if not speech:
            self.say("espeak-ng is missing: the demo study has no spoken attention check")
        elif not study.attention_clips.exists():
            study.attention_clips.add(*make_attention_clips(spec))
        try:
            study.open()
        except ValidationError as exc:
            raise CommandError("the demo study cannot open: " + "; ".join(exc.messages)) from exc
        self.say(
            f"study {study.slug}: {study.trials_per_participant} excerpts per participant "
            f"(half human, half machine) from {study.items.count()}, and "
            f"{study.attention_checks} attention check(s) among them; open"
        )
        return study

    def summary(self, base: str, study: Study, username: str, password: str) -> None:
        self.step("Ready")
        self.stdout.write(self.style.SUCCESS(f"Participant link: {base}/s/{study.slug}/"))
        self.stdout.write(self.style.SUCCESS(f"Dashboard:        {base}/dashboard/"))
        self.stdout.write(self.style.SUCCESS(f"Login:            {username} / {password}"))
        self.stdout.write(f"Report:           {base}/reports/{study.slug}/ (once answers arrive)")

    # --- serving ------------------------------------------------------------------------------

    def serve(self, host: str, port: int) -> None:
        self.step(f"Serving on http://{host}:{port}/ with a gpu and a cpu worker (Ctrl-C stops)")
        python = sys.executable
        celery = [python, "-m", "celery", "-A", "worker.celery_app", "worker", "-l", "WARNING"]
        web = [python, "manage.py", "runserver", f"{host}:{port}", "--noreload"]
        if not settings.DEBUG:
            call_command("collectstatic", interactive=False, verbosity=0)
            web = [python, "-m", "gunicorn", "config.wsgi:application", "-b", f"{host}:{port}"]
        children = [
            Child(
                "gpu worker",
                celery + ["-Q", GPU_QUEUE, "-c", "1", "-n", "demo-gpu@%h"],
                stop_signal=signal.SIGQUIT,
            ),
            Child(
                "cpu worker",
                celery + ["-Q", CPU_QUEUE, "-c", "2", "-n", "demo-cpu@%h"],
                stop_signal=signal.SIGQUIT,
            ),
            Child("web server", web),
        ]
        supervisor = Supervisor(children, env=_child_env(), cwd=settings.BASE_DIR)
        supervisor.start()
        try:
            reason = supervisor.run_until_stopped()
        finally:
            self.say("")
            supervisor.stop(say=self.say)
        self.say(f"stopped ({reason}); queued jobs wait in Redis for the next start")

    # --- output -------------------------------------------------------------------------------

    def step(self, title: str) -> None:
        self.stdout.write(self.style.MIGRATE_HEADING(f"\n== {title}"))

    def say(self, text: str) -> None:
        self.stdout.write(f"   {text}" if text else "")


def _child_env() -> dict:
    """The children read the same environment, hence the same database, broker and media."""
    return dict(os.environ, PYTHONUNBUFFERED="1") | {
        "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings")
    }
