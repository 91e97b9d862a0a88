"""`python manage.py plan_study`: how many participants a study needs before it opens.

A researcher fixes the margin, alpha and the number of models when the study opens; this answers
the question that comes first: with that design, how many people must take part for the verdicts
to have a fair chance of being reached?
"""

from django.core.management.base import BaseCommand, CommandError

from evaluation.equivalence import DEFAULT_ALPHA, DEFAULT_MARGIN
from evaluation.power import Design, participants_for_difference, participants_for_equivalence


class Command(BaseCommand):
    help = "Participants needed to show a model passes for human, or to tell it apart."

    def add_arguments(self, parser):
        parser.add_argument(
            "--human-rate",
            type=float,
            default=0.6,
            help="how often you expect the human excerpts to be judged human (default 0.6)",
        )
        parser.add_argument(
            "--model-rate",
            type=float,
            help="the rate you expect of a model (default: the humans'); with a different rate "
            "the plan also says how many participants detect the difference",
        )
        parser.add_argument("--margin", type=float, default=DEFAULT_MARGIN)
        parser.add_argument("--alpha", type=float, default=DEFAULT_ALPHA)
        parser.add_argument("--power", type=float, default=0.8)
        parser.add_argument(
            "--models", type=int, default=1, help="models compared with the humans (Holm)"
        )
        parser.add_argument(
            "--trials-per-source",
            type=int,
            default=Design.trials_per_source,
            help="trials each participant answers for each source (humans, each model)",
        )
        parser.add_argument(
            "--icc",
            type=float,
            default=Design.icc,
            help="correlation of one participant's answers (0.05: some people lean one way)",
        )
        parser.add_argument("--items-per-source", type=int, default=Design.items_per_source)
        parser.add_argument(
            "--item-sd",
            type=float,
            default=Design.item_sd,
            help="spread of the excerpts' own rates judged human (0.1 = 10 points)",
        )

    def handle(self, *args, **options):
        try:
            design = Design(
                trials_per_source=options["trials_per_source"],
                icc=options["icc"],
                items_per_source=options["items_per_source"],
                item_sd=options["item_sd"],
            )
            self._print_design(design, options)
            self._print_equivalence(design, options)
            if options["model_rate"] not in (None, options["human_rate"]):
                self._print_difference(design, options)
        except ValueError as error:
            raise CommandError(str(error)) from None

    def _print_design(self, design: Design, options: dict) -> None:
        models, alpha = options["models"], options["alpha"]
        self.stdout.write(
            f"Design: {design.trials_per_source} trials per participant for each source, ICC "
            f"{design.icc:g} (design effect {design.design_effect:.2f}), "
            f"{design.items_per_source} excerpts per source with SD {design.item_sd:g} in their "
            f"own rates."
        )
        if models > 1:
            self.stdout.write(
                f"Each of {models} models is tested at alpha {alpha:g} / {models} = "
                f"{alpha / models:.4f}, Holm's strictest step: the power is a floor for each."
            )

    def _print_equivalence(self, design: Design, options: dict) -> None:
        human = options["human_rate"]
        model = human if options["model_rate"] is None else options["model_rate"]
        margin = options["margin"]
        what = f"true rate {model:.0%} (humans {human:.0%})"
        if not abs(model - human) < margin:
            self.stdout.write(
                f"Passes for human (TOST, margin ±{margin * 100:g} points): a model with {what} "
                "lies outside the margin and should not pass."
            )
            return
        result = participants_for_equivalence(
            human, model, margin, design, options["alpha"], options["power"], options["models"]
        )
        self.stdout.write(
            f"Passes for human (TOST, margin ±{margin * 100:g} points), a model with {what}: "
            f"{result.participants} participants (power {result.power:.2f}, standard error of "
            f"the difference {result.se * 100:.1f} points)."
        )

    def _print_difference(self, design: Design, options: dict) -> None:
        human, model = options["human_rate"], options["model_rate"]
        result = participants_for_difference(
            human, model, design, options["alpha"], options["power"], options["models"]
        )
        self.stdout.write(
            f"Distinguishable from human, a model with true rate {model:.0%} (humans "
            f"{human:.0%}): {result.participants} participants (power {result.power:.2f})."
        )
