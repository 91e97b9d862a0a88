"""The default file storage's settings: a local folder, or an S3-compatible bucket."""

from boto3.s3.transfer import TransferConfig
from botocore.config import Config

FILE_SYSTEM = {"BACKEND": "django.core.files.storage.FileSystemStorage"}


def s3_storage(
    bucket: str,
    endpoint_url: str = "",
    access_key: str = "",
    secret_key: str = "",
    region: str = "",
    prefix: str = "",
) -> dict:
    """An S3-compatible bucket (MinIO, a cloud bucket), private: objects get no public ACL and
    any URL made for one is signed, though the site never hands such URLs out."""
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": endpoint_url or None,
            "access_key": access_key or None,
            "secret_key": secret_key or None,
            "region_name": region or None,
            "location": prefix,
            "default_acl": None,
            "querystring_auth": True,
            # Every stored name is random or derived from its content, so a save need not ask
            # the bucket first whether the name is taken (one round trip per file saved).
            "file_overwrite": True,
            # A file opened through the storage API beyond this size waits on local disk, not
            # in memory (streamed reads use byte ranges instead: generation.stored_files).
            "max_memory_size": 2 * 1024 * 1024,
            # Files here are small (an excerpt, a MIDI file, a checkpoint of some megabytes):
            # uploading each from the calling thread, not through a pool of transfer threads
            # started per file, halves an upload's round trip.
            "transfer_config": TransferConfig(use_threads=False),
            # Checksums only where S3 requires them: botocore's newer default adds its own to
            # every request, which costs time and which not every S3-compatible store accepts.
            # A server of one's own (MinIO) is addressed by path: bucket names need no DNS.
            "client_config": Config(
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
                s3={"addressing_style": "path"} if endpoint_url else None,
            ),
        },
    }
