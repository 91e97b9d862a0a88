"""A real S3-compatible server for tests: moto in server mode, its own process on a free port.

Production uses MinIO or a cloud bucket; moto speaks the same protocol and installs from PyPI.
"""

import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import boto3
import pytest

from config.storage import s3_storage

CREDENTIALS = {"access_key": "testing", "secret_key": "testing", "region": "us-east-1"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def moto_server() -> Iterator[str]:
    """Runs a moto S3 server on a free port for the duration; yields its URL."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the moto S3 server did not start") from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(scope="session")
def s3_endpoint():
    """The URL of a moto server that runs for the whole test session."""
    with moto_server() as endpoint:
        yield endpoint


def new_bucket(endpoint: str) -> str:
    name = f"test-{uuid.uuid4().hex[:12]}"
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=CREDENTIALS["access_key"],
        aws_secret_access_key=CREDENTIALS["secret_key"],
        region_name=CREDENTIALS["region"],
    )
    client.create_bucket(Bucket=name)
    return name


def storage_env(endpoint: str, bucket: str) -> dict[str, str]:
    """The environment that points another process (a worker) at the same bucket."""
    return {
        "STORAGE_BUCKET": bucket,
        "STORAGE_ENDPOINT_URL": endpoint,
        "STORAGE_ACCESS_KEY_ID": CREDENTIALS["access_key"],
        "STORAGE_SECRET_ACCESS_KEY": CREDENTIALS["secret_key"],
        "STORAGE_REGION": CREDENTIALS["region"],
    }


@pytest.fixture
def s3_storage_env(settings, s3_endpoint) -> dict[str, str]:
    """This process's default storage becomes a fresh bucket on the moto server; returns the
    environment that gives a worker process the same storage."""
    bucket = new_bucket(s3_endpoint)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": s3_storage(bucket, s3_endpoint, **CREDENTIALS),
    }
    return storage_env(s3_endpoint, bucket)


@pytest.fixture(params=["folder", "bucket"])
def storage_kind(request) -> str:
    """Runs a test twice: on the media folder, and on a private bucket of the moto server."""
    if request.param == "bucket":
        request.getfixturevalue("s3_storage_env")
    return request.param
