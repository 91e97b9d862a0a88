"""python manage.py import_generated --model DeepBach --corpus bach --files out.zip

Imports an external generator's MIDI files (or zips of them) as one generation batch: all or
nothing, every bad file named, each piece screened for memorisation against --corpus.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from generation.corpora import iter_files
from generation.external import GeneratorInfo, ImportRefused, import_generated
from generation.memorisation import is_memorised


class Command(BaseCommand):
    help = (
        "Import MIDI files or zips made by a generator the platform did not train, as a machine "
        "source screened for memorisation against the corpus it imitates."
    )

    def add_arguments(self, parser):
        parser.add_argument("--model", required=True, help="the generator's name, as reports show")
        parser.add_argument("--model-version", default="", help="e.g. 1.0")
        parser.add_argument("--description", default="", help="a short description or a link")
        parser.add_argument(
            "--corpus", required=True, help="slug of the corpus it imitates (screened against)"
        )
        parser.add_argument("--files", nargs="+", type=Path, required=True, help="MIDI or zip")

    def handle(self, *args, **options):
        missing = [str(p) for p in options["files"] if not p.is_file()]
        if missing:
            raise CommandError(f"no such file(s): {', '.join(missing)}")
        info = GeneratorInfo(
            name=options["model"],
            version=options["model_version"],
            description=options["description"],
            corpus=options["corpus"],
        )
        bar: list[tqdm] = []

        def screened(total: int) -> None:
            if not bar:
                bar.append(tqdm(total=total, desc=f"screening against {info.corpus}"))
            bar[0].update()

        try:
            batch = import_generated(info, iter_files(options["files"]), screened)
        except ImportRefused as exc:
            raise CommandError(str(exc)) from exc
        finally:
            if bar:
                bar[0].close()
        samples = list(batch.samples.all())
        flagged = sum(is_memorised(s.longest_verbatim_beats, s.ngram_share) for s in samples)
        self.stdout.write(
            f"batch {batch.pk}: {len(samples)} pieces from {batch.model_label}, "
            f"{flagged} flagged as copies of {options['corpus']} and kept out of studies; "
            f"render with: python manage.py render --batch {batch.pk}"
        )
