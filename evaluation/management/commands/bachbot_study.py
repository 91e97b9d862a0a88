"""The BachBot replication recipe: a pair (2AFC) study of held-out Bach chorales against any
machine source, as Liang et al. (ISMIR 2017) ran it.

    python manage.py bachbot_study bachbot-replication --batch 3 [--batch 4] --open
    python manage.py bachbot_study bachbot-dry-run --batch 3 --simulate 200 --pc 0.6

Each participant answers 5 pairs (one chorale excerpt, one machine excerpt; "which one was
composed by a person?"), may see their score at the end (on by default, as BachBot did; --no-score
turns it off), and is asked their music experience in BachBot's levels, which the report's
"BachBot's table" breaks pc down by. Human excerpts come from the corpus's held-out test split,
machine excerpts from the batches named (the platform's own, or an imported generator's); both
are rendered here, by the one stimulus path and one spec, when they are not already.

--simulate N is a dry run: it opens the study inside a transaction, lets N simulated listeners
walk it through the real assignment and answer code (each pair right with probability --pc),
prints the report the study would get, and rolls everything back.
"""

import random

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from tqdm import tqdm

from audio.pipeline import StimulusSpec
from evaluation import pair_summary
from evaluation.dataset import pair_answer_tables, preregistered_pair_margin
from surveys import flow
from surveys.forms import PairAnswerForm
from surveys.models import Participant, Stimulus, Study, Trial
from surveys.models.attention import make_attention_clips
from surveys.questionnaire import EXPERIENCE_LEVELS, ITEMS
from surveys.tasks.stimuli import pieces_to_render, render_piece
from surveys.views.participant import save_answer

TITLE = "Which one was composed by a person?"
INSTRUCTIONS = (
    "You will hear pairs of short excerpts of music for four voices. In each pair, one was "
    "composed by a person and the other by a computer. Listen to both, then choose the one you "
    "think a person composed, and tell us how sure you are."
)
CONSENT = (
    "This is a short listening study run for research. You will hear pairs of music excerpts "
    "and answer a few questions; it takes about ten minutes. Taking part is voluntary and you may "
    "stop at any time. We store your answers anonymously and use them only for research."
)


class DryRun(Exception):
    """Raised to roll a simulated run back once its report is printed."""


class Command(BaseCommand):
    help = "Create a BachBot-style pair study: Bach chorales against a machine source."

    def add_arguments(self, parser):
        parser.add_argument("slug", help="the study's address: /s/<slug>/")
        parser.add_argument(
            "--batch",
            type=int,
            action="append",
            required=True,
            help="a generation batch of the machine source (repeat for several)",
        )
        parser.add_argument("--corpus", default="bach", help="the human corpus (default bach)")
        parser.add_argument("--pairs", type=int, default=5, help="pairs per participant")
        parser.add_argument(
            "--excerpts", type=int, default=40, help="held-out chorales to draw excerpts from"
        )
        parser.add_argument("--bars", type=int, default=4, help="excerpt length in bars")
        parser.add_argument("--no-score", action="store_true", help="show no score at the end")
        parser.add_argument("--attention", type=int, default=1, help="attention-check pairs")
        parser.add_argument("--headphone-trials", type=int, default=6)
        parser.add_argument("--target", type=int, default=100, help="participants to complete")
        parser.add_argument("--completion-url", default="", help="may contain {code}")
        parser.add_argument("--open", action="store_true", help="open it now (fixes the rules)")
        parser.add_argument(
            "--simulate", type=int, metavar="N", help="dry run with N simulated listeners"
        )
        parser.add_argument(
            "--pc", type=float, default=0.6, help="simulated listeners' chance of a right answer"
        )
        parser.add_argument("--seed", type=int, default=0, help="for the simulated answers")

    def handle(self, *args, **options):
        self._check(options)
        spec = StimulusSpec.from_dict({"excerpt": {"bars": options["bars"]}})
        human, machine = self._excerpts(options, spec)
        if options["simulate"]:
            self._dry_run(options, spec, human + machine)
            return
        with transaction.atomic():
            study = self._create(options, human + machine)
        self.stdout.write(
            f"Created pair study {study.slug}: {len(human)} human and {len(machine)} machine "
            f"excerpts, {study.trials_per_participant} pairs per participant."
        )
        if options["open"]:
            self._open(study, spec)
            self.stdout.write(self.style.SUCCESS(f"Open at /s/{study.slug}/ (rules fixed)."))

    def _check(self, options) -> None:
        if Study.objects.filter(slug=options["slug"]).exists():
            raise CommandError(f"a study {options['slug']!r} exists already; choose another slug")
        if options["pairs"] < 2:
            raise CommandError("--pairs must be at least 2")
        if not 0 <= options["pc"] <= 1:
            raise CommandError("--pc must be a probability, between 0 and 1")
        if options["simulate"] is not None and options["simulate"] < 2:
            raise CommandError("--simulate needs at least 2 listeners")

    def _excerpts(self, options, spec: StimulusSpec) -> tuple[list[Stimulus], list[Stimulus]]:
        """Held-out chorales and the batches' pieces, rendered by one path with one spec."""
        try:
            human = list(pieces_to_render(corpus=options["corpus"], split="test"))
            human = human[: options["excerpts"]]
            machine = [p for b in options["batch"] for p in pieces_to_render(batch_id=b)]
        except ValueError as error:
            raise CommandError(str(error)) from error
        params = spec.as_dict()
        ready = {"human": [], "machine": []}
        for piece in tqdm(human + machine, desc="excerpts", unit="piece"):
            stimulus = render_piece(piece.pk, params)
            if stimulus.status == Stimulus.Status.READY:
                ready[stimulus.source_kind].append(stimulus)
            else:
                self.stderr.write(f"{piece}: {stimulus.status}: {stimulus.error}")
        for kind, found in ready.items():
            if len(found) < options["pairs"]:
                raise CommandError(
                    f"{len(found)} {kind} excerpts are ready; {options['pairs']} pairs per "
                    f"participant need {options['pairs']}: import more chorales, generate more "
                    "pieces, or ask for fewer pairs"
                )
        return ready["human"], ready["machine"]

    def _create(self, options, stimuli: list[Stimulus]) -> Study:
        study = Study.objects.create(
            slug=options["slug"],
            title=TITLE,
            instructions=INSTRUCTIONS,
            consent_text=CONSENT,
            design=Study.Design.PAIR,
            trials_per_participant=options["pairs"],
            show_score=not options["no_score"],
            ask_experience=True,
            attention_checks=options["attention"],
            headphone_trials=options["headphone_trials"],
            target_participants=options["target"],
            completion_url=options["completion_url"],
            exclusion_rules={"headphone_min_correct": min(5, options["headphone_trials"])},
        )
        study.add_stimuli(stimuli)
        return study

    def _open(self, study: Study, spec: StimulusSpec) -> None:
        try:
            if study.attention_checks and not study.attention_clips.exists():
                study.attention_clips.add(*make_attention_clips(spec, study.design))
            study.open()
        except (ValidationError, ValueError, RuntimeError) as error:
            problems = "; ".join(getattr(error, "messages", [str(error)]))
            raise CommandError(f"the study cannot open: {problems}") from error

    def _dry_run(self, options, spec: StimulusSpec, stimuli: list[Stimulus]) -> None:
        rng = random.Random(options["seed"])
        options = {**options, "target": max(options["target"], options["simulate"])}
        try:
            with transaction.atomic():
                study = self._create(options, stimuli)
                self._open(study, spec)
                for _ in tqdm(range(options["simulate"]), desc="listeners", unit="listener"):
                    _simulated_listener(study, options["pc"], rng)
                frame, funnel = pair_answer_tables(study)
                report = pair_summary.build_pair_report(
                    frame,
                    funnel,
                    study=study.slug,
                    margin=preregistered_pair_margin(study),
                    experience_levels=[key for key, _ in EXPERIENCE_LEVELS],
                )
                self.stdout.write(pair_summary.report_text(report), ending="")
                raise DryRun
        except DryRun:
            self.stdout.write(f"Dry run: {study.slug} and its simulated listeners rolled back.")


def _simulated_listener(study: Study, pc: float, rng: random.Random) -> None:
    """One listener through the real flow: consent, headphones right, the drawn pairs answered
    right with probability pc (attention checks always right), the questionnaire, completion."""
    participant = flow.join(study, {})
    for trial in participant.headphone_trials.order_by("position"):
        flow.answer_headphone(trial, trial.quiet_position)
    participant.refresh_from_db()
    flow.assign_trials(participant)
    trials = participant.trials.select_related("item", "attention_clip").order_by("position")
    for trial in trials:
        right = trial.human_choice()
        if trial.kind == Trial.Kind.EXPERIMENTAL and rng.random() >= pc:
            right = "b" if right == "a" else "a"
        form = PairAnswerForm({"choice": right, "confidence": rng.randint(1, 5)})
        form.is_valid()
        save_answer(trial, form)
    years = rng.choice([0, 0, 1, 3, 8])
    Participant.objects.filter(pk=participant.pk).update(
        age_band="25-34",
        musical_training_years=years,
        gold_msi_answers={item.key: 3 for item in ITEMS},
        music_experience=rng.choice(EXPERIENCE_LEVELS)[0],
    )
    flow.complete(participant)
