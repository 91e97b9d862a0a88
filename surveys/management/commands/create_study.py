"""Create a study from the command line, fill its pool from finished excerpts, optionally open it.

    python manage.py create_study bach-vs-lstm --title "Listening study" \
        --consent-file consent.txt --trials 20 --target 120 --all-ready --open
"""

import json
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from surveys.exclusion import validate_rules
from surveys.models import Stimulus, Study
from surveys.models.attention import make_attention_clips
from surveys.spec import study_stimulus_spec

DEFAULT_CONSENT = (
    "This is a short listening study run for research. You will hear music excerpts and answer "
    "a few questions; it takes about ten minutes. Taking part is voluntary and you may stop at "
    "any time. We store your answers anonymously and use them only for research."
)


class Command(BaseCommand):
    help = "Create a listening study (a draft unless --open), with its pool of excerpts."

    def add_arguments(self, parser):
        parser.add_argument("slug", help="the study's address: /s/<slug>/")
        parser.add_argument("--title", default="Listening study")
        parser.add_argument("--consent-file", type=Path, help="consent text (default: a short one)")
        parser.add_argument("--instructions-file", type=Path)
        parser.add_argument(
            "--design",
            choices=[d.value for d in Study.Design],
            default=Study.Design.SINGLE.value,
            help="single excerpts, or pairs (2AFC: which of two was composed by a person?)",
        )
        parser.add_argument(
            "--trials",
            type=int,
            default=20,
            help="single: excerpts, even, half of each kind; pair: pairs per participant",
        )
        parser.add_argument("--attention", type=int, default=2, help="attention checks")
        parser.add_argument("--headphone-trials", type=int, default=6)
        parser.add_argument("--no-practice", action="store_true")
        parser.add_argument("--target", type=int, default=100, help="participants to complete")
        parser.add_argument(
            "--overbooking", type=int, default=0, help="places beyond the target held at once"
        )
        parser.add_argument(
            "--time-limit", type=int, default=60, help="minutes a participant's place is held"
        )
        parser.add_argument(
            "--no-screen-out",
            action="store_true",
            help="let a participant who fails the headphone check go on (to be excluded later)",
        )
        parser.add_argument("--completion-url", default="", help="may contain {code}")
        parser.add_argument("--rules", default="{}", help="exclusion rules as JSON")
        parser.add_argument("--stimuli", type=int, nargs="*", default=[], help="stimulus ids")
        parser.add_argument("--all-ready", action="store_true", help="every finished excerpt")
        parser.add_argument("--open", action="store_true", help="open it now (fixes the rules)")

    def handle(self, *args, **options):
        if options["overbooking"] < 0 or options["time_limit"] < 1:
            raise CommandError("--overbooking must be 0 or more and --time-limit at least 1")
        if Study.objects.filter(slug=options["slug"]).exists():
            raise CommandError(f"a study {options['slug']!r} exists already; choose another slug")
        try:
            rules = validate_rules(json.loads(options["rules"]))
        except (json.JSONDecodeError, ValueError) as error:
            raise CommandError(f"--rules: {error}") from error
        stimuli = self._stimuli(options)
        with transaction.atomic():
            study = Study.objects.create(
                slug=options["slug"],
                title=options["title"],
                consent_text=self._text(options["consent_file"], DEFAULT_CONSENT),
                design=options["design"],
                trials_per_participant=options["trials"],
                attention_checks=options["attention"],
                headphone_trials=options["headphone_trials"],
                practice_trial=not options["no_practice"],
                target_participants=options["target"],
                overbooking=options["overbooking"],
                time_limit_minutes=options["time_limit"],
                headphone_screen_out=not options["no_screen_out"],
                completion_url=options["completion_url"],
                exclusion_rules=rules,
            )
            if options["instructions_file"]:
                study.instructions = self._text(options["instructions_file"], "")
                study.save(update_fields=["instructions"])
            study.add_stimuli(stimuli)
        self.stdout.write(f"Created study {study.slug} with {len(stimuli)} excerpts.")
        if options["open"]:
            self._open(study)

    def _open(self, study: Study) -> None:
        try:
            if study.attention_checks and not study.attention_clips.exists():
                self.stdout.write("Making attention-check clips…")
                study.attention_clips.add(
                    *make_attention_clips(study_stimulus_spec(study), study.design)
                )
            study.open()
        except (ValidationError, ValueError, RuntimeError) as error:
            problems = "; ".join(getattr(error, "messages", [str(error)]))
            raise CommandError(f"created as a draft but cannot open: {problems}") from error
        self.stdout.write(self.style.SUCCESS(f"Open at /s/{study.slug}/ (rules fixed)."))

    def _stimuli(self, options) -> list[Stimulus]:
        ready = Stimulus.objects.filter(status=Stimulus.Status.READY)
        if options["all_ready"]:
            return list(ready)
        found = list(ready.filter(id__in=options["stimuli"]))
        missing = sorted(set(options["stimuli"]) - {s.id for s in found})
        if missing:
            raise CommandError(f"no finished excerpt with id(s) {missing}")
        return found

    @staticmethod
    def _text(path: Path | None, default: str) -> str:
        if path is None:
            return default
        try:
            return path.read_text(encoding="utf-8").strip()
        except OSError as error:
            raise CommandError(f"cannot read {path}: {error}") from error
