"""python manage.py render --batch 3 | render --corpus bach --split test --n 32 [--enqueue]

Renders stimuli in the foreground with a progress bar (or, with --enqueue, fans them out to the
cpu workers). Re-running is safe: pieces already rendered with the same settings are skipped.
"""

import json
from collections import Counter

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from audio.pipeline import StimulusSpec
from generation.splits import SPLITS
from surveys.tasks.stimuli import pieces_to_render, render_piece, render_stimuli


class Command(BaseCommand):
    help = "Render pieces (a generation batch, or a corpus split) into matched audio stimuli."

    def add_arguments(self, parser):
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--batch", type=int, help="a generation batch id")
        source.add_argument("--corpus", help="a corpus slug, e.g. bach")
        parser.add_argument(
            "--split",
            choices=SPLITS,
            default="test",
            help="the corpus split to render (default test: human excerpts must come from "
            "pieces no model trained on)",
        )
        parser.add_argument("--n", type=int, help="at most this many pieces")
        parser.add_argument(
            "--include-copies",
            action="store_true",
            help="also render generated pieces flagged as copies of their corpus",
        )
        parser.add_argument("--bars", type=int, help="excerpt length in bars (default 8)")
        parser.add_argument("--seconds", type=float, help="excerpt length in seconds instead")
        parser.add_argument(
            "--params",
            default="{}",
            help='full stimulus parameters as JSON, e.g. \'{"finish": '
            '{"target_lufs": -18}}\'; --bars/--seconds override its excerpt length',
        )
        parser.add_argument(
            "--enqueue",
            action="store_true",
            help="send to the cpu workers instead of rendering here",
        )

    def handle(self, *args, **options):
        if options["n"] is not None and options["n"] < 1:
            raise CommandError("--n must be at least 1")
        params = self._params(options)
        try:
            pieces = list(
                pieces_to_render(
                    options["batch"],
                    options["corpus"],
                    options["split"],
                    options["n"],
                    include_copies=options["include_copies"],
                )
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if not pieces:
            raise CommandError("no pieces to render (is the corpus imported, the split right?)")
        if options["enqueue"]:
            sent = render_stimuli.delay([p.pk for p in pieces], params)
            self.stdout.write(f"sent {len(pieces)} pieces to the cpu queue (task {sent.id})")
            return
        outcome = Counter()
        for piece in tqdm(pieces, desc="rendering", unit="piece"):
            stimulus = render_piece(piece.pk, params)
            outcome[stimulus.status] += 1
            if stimulus.error:
                self.stderr.write(f"{piece}: {stimulus.status}: {stimulus.error}")
        self.stdout.write(", ".join(f"{n} {status}" for status, n in sorted(outcome.items())))

    def _params(self, options) -> dict:
        try:
            params = json.loads(options["params"])
        except json.JSONDecodeError as exc:
            raise CommandError(f"--params is not valid JSON: {exc}") from exc
        if not isinstance(params, dict):
            raise CommandError("--params must be a JSON object")
        excerpt = params.setdefault("excerpt", {})
        if options["bars"] is not None:
            excerpt["bars"] = options["bars"]
        if options["seconds"] is not None:
            excerpt["seconds"] = options["seconds"]
        try:
            return StimulusSpec.from_dict(params).as_dict()
        except (TypeError, ValueError) as exc:
            raise CommandError(f"bad stimulus parameters: {exc}") from exc
