"""The default file storage's settings: a local folder, or an S3-compatible bucket."""

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
            "file_overwrite": False,
            # A file opened through the storage API beyond this size waits on local disk, not
            # in memory (streamed reads use byte ranges instead: generation.stored_files).
            "max_memory_size": 2 * 1024 * 1024,
        },
    }
