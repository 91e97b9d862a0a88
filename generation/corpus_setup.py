"""Finding or creating the Corpus row a source imports into."""

from django.utils.text import slugify

from generation.corpora import describe_bundled
from generation.models import Corpus


def bundled_corpus(name: str) -> Corpus:
    corpus, _ = Corpus.objects.get_or_create(
        slug=name, defaults={"title": describe_bundled(name), "source": Corpus.Source.BUNDLED}
    )
    return corpus


def upload_corpus(title: str) -> Corpus:
    slug = slugify(title)
    if not slug:
        raise ValueError(f"corpus name {title!r} has no letters or digits to name it by")
    corpus, _ = Corpus.objects.get_or_create(
        slug=slug, defaults={"title": title, "source": Corpus.Source.UPLOAD}
    )
    return corpus
