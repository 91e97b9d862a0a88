"""python manage.py import_corpus bach | import_corpus --name my-set --files a.mid b.zip"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from generation.corpora import bundled_names, iter_bundled, iter_files
from generation.importing import bundled_corpus, import_pieces, upload_corpus


class Command(BaseCommand):
    help = "Import a bundled music21 corpus by name, or MIDI files / zips into a named corpus."

    def add_arguments(self, parser):
        parser.add_argument(
            "corpus", nargs="?", help=f"bundled corpus: {', '.join(bundled_names())}"
        )
        parser.add_argument("--limit", type=int, help="import at most this many pieces")
        parser.add_argument("--files", nargs="+", type=Path, help="MIDI files or zips to import")
        parser.add_argument("--name", help="corpus to import --files into")

    def handle(self, *args, **options):
        corpus_name, files = options["corpus"], options["files"]
        if bool(corpus_name) == bool(files):
            raise CommandError("give either a bundled corpus name or --files (with --name)")
        if options["limit"] is not None and options["limit"] < 1:
            raise CommandError("--limit must be at least 1")
        if files:
            missing = [str(p) for p in files if not p.is_file()]
            if missing:
                raise CommandError(f"no such file(s): {', '.join(missing)}")
            if not options["name"]:
                raise CommandError("--files needs --name, the corpus to import into")
            corpus, sources, total = upload_corpus(options["name"]), iter_files(files), None
        else:
            if corpus_name not in bundled_names():
                raise CommandError(
                    f"unknown corpus {corpus_name!r}; choose one of {', '.join(bundled_names())}"
                )
            corpus = bundled_corpus(corpus_name)
            sources, total = iter_bundled(corpus_name, options["limit"]), options["limit"]
        with tqdm(total=total, desc=f"importing {corpus.slug}", unit="piece") as bar:
            summary = import_pieces(corpus, sources, on_piece=lambda s: bar.update())
        for line in summary.lines():
            self.stdout.write(line)
