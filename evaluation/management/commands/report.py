"""`python manage.py report STUDY`: print the study's report, the same one the page shows, for
the design the study used (single excerpts, or pairs)."""

from django.core.management.base import BaseCommand, CommandError

from evaluation import exports, pair_summary
from evaluation.dataset import (
    answer_tables,
    objective_metrics,
    pair_answer_tables,
    preregistered_d_prime_margin,
    preregistered_margin,
    preregistered_pair_margin,
)
from evaluation.equivalence import DEFAULT_ALPHA
from evaluation.summary import build_report
from surveys.models import Study
from surveys.questionnaire import EXPERIENCE_LEVELS


class Command(BaseCommand):
    help = "Print a study's Turing-test report (text, or JSON with --json)."

    def add_arguments(self, parser):
        parser.add_argument("study", help="the study's slug")
        parser.add_argument(
            "--margin",
            type=float,
            help="equivalence margin for 'passes' (pair study: for 'indistinguishable', around "
            "50%%), as a proportion (default: the one fixed when the study opened, 0.10 = 10 "
            "points unless its rules say otherwise)",
        )
        parser.add_argument(
            "--d-prime-margin",
            type=float,
            help="equivalence margin for 'listeners cannot tell', in d' units (default: the one "
            "fixed when the study opened, 0.3 unless its rules say otherwise); single-excerpt "
            "studies only",
        )
        parser.add_argument("--alpha", type=float, default=DEFAULT_ALPHA)
        parser.add_argument("--json", action="store_true", help="print the report as JSON")
        parser.add_argument(
            "--metrics",
            action="store_true",
            help="also compare the pool's pieces with objective metrics (reads every MIDI file)",
        )

    def handle(self, *args, **options):
        try:
            study = Study.objects.get(slug=options["study"])
        except Study.DoesNotExist:
            known = ", ".join(Study.objects.values_list("slug", flat=True)[:20]) or "none yet"
            raise CommandError(f"no study {options['study']!r}; known studies: {known}") from None
        if not 0 < options["alpha"] < 0.5:
            raise CommandError("--alpha must be between 0 and 0.5")
        if study.is_pair:
            self._pair(study, options)
            return
        planned = preregistered_margin(study)
        margin = planned if options["margin"] is None else options["margin"]
        if not 0 < margin < 0.5:
            raise CommandError("--margin must be between 0 and 0.5, e.g. 0.10 for 10 points")
        planned_d_prime = preregistered_d_prime_margin(study)
        d_prime_margin = options["d_prime_margin"]
        d_prime_margin = planned_d_prime if d_prime_margin is None else d_prime_margin
        if not 0 < d_prime_margin < 3:
            raise CommandError("--d-prime-margin must be between 0 and 3, e.g. 0.3")
        frame, funnel = answer_tables(study)
        metrics = objective_metrics(study) if options["metrics"] else None
        report = build_report(
            frame,
            funnel,
            study=study.slug,
            margin=margin,
            d_prime_margin=d_prime_margin,
            alpha=options["alpha"],
            metrics=metrics,
            preregistered_margin=planned,
            preregistered_d_prime_margin=planned_d_prime,
        )
        if options["json"]:
            self.stdout.write(exports.report_json(report))
            return
        self.stdout.write(exports.report_text(report), ending="")
        for name, table in report.metrics.items():
            self.stdout.write(f"\nObjective metrics: {name}\n{table.to_string()}\n")

    def _pair(self, study: Study, options) -> None:
        if options["d_prime_margin"] is not None:
            raise CommandError(f"--d-prime-margin: {pair_summary.PAIR_HAS_NO_D_PRIME}")
        planned = preregistered_pair_margin(study)
        margin = planned if options["margin"] is None else options["margin"]
        if not 0 < margin < 0.5:
            raise CommandError("--margin must be between 0 and 0.5, e.g. 0.10 for 10 points")
        frame, funnel = pair_answer_tables(study)
        report = pair_summary.build_pair_report(
            frame,
            funnel,
            study=study.slug,
            margin=margin,
            alpha=options["alpha"],
            experience_levels=[key for key, _ in EXPERIENCE_LEVELS],
            preregistered_margin=planned,
        )
        if options["json"]:
            self.stdout.write(exports.report_json(report))
        else:
            self.stdout.write(pair_summary.report_text(report), ending="")
