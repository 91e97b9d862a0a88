"""The client's real address behind 0, 1 and 2 trusted proxies, and a header forged by a
client; the survey's rate limits key on that address."""

import secrets

import pytest
from django.test import Client, RequestFactory

from surveys.client_address import address_block, client_address
from tests.surveys.factories import open_study

PROXY = "172.18.0.3"  # the proxy next to the web process: REMOTE_ADDR
OUTER_PROXY = "10.0.0.7"
CLIENT = "198.51.100.23"
FORGED = "203.0.113.66"


def _address(settings, proxies: int, forwarded: str | None, header: str = "X-Forwarded-For"):
    settings.TRUSTED_PROXY_COUNT = proxies
    settings.CLIENT_IP_HEADER = header
    meta = {"REMOTE_ADDR": PROXY}
    if forwarded is not None:
        meta["HTTP_" + header.upper().replace("-", "_")] = forwarded
    return client_address(RequestFactory().get("/", **meta))


def test_with_no_proxy_the_socket_address_counts_and_the_header_is_ignored(settings):
    assert _address(settings, 0, None) == PROXY
    assert _address(settings, 0, FORGED) == PROXY


def test_behind_one_proxy_the_address_it_appended_counts(settings):
    assert _address(settings, 1, CLIENT) == CLIENT


def test_behind_two_proxies_the_second_from_the_right_counts(settings):
    assert _address(settings, 2, f"{CLIENT}, {OUTER_PROXY}") == CLIENT


@pytest.mark.parametrize("proxies", [1, 2])
def test_a_forged_header_from_the_client_is_not_believed(settings, proxies):
    # The client sent "X-Forwarded-For: FORGED"; each trusted proxy appended what it saw.
    chain = [FORGED, CLIENT, OUTER_PROXY][: proxies + 1]
    assert _address(settings, proxies, ", ".join(chain)) == CLIENT


def test_a_request_that_bypassed_the_proxies_falls_back_to_the_socket(settings):
    assert _address(settings, 2, CLIENT) == PROXY
    assert _address(settings, 1, None) == PROXY
    assert _address(settings, 1, "not an address") == PROXY


def test_a_single_address_header_can_be_named_instead(settings):
    assert _address(settings, 1, CLIENT, header="CF-Connecting-IP") == CLIENT
    assert _address(settings, 1, CLIENT, header="X-Real-IP") == CLIENT


def test_ipv6_clients(settings):
    assert _address(settings, 1, "2001:db8::5") == "2001:db8::5"


@pytest.mark.parametrize(
    ("address", "block"),
    [
        ("198.51.100.23", "198.51.100.23"),
        ("2001:db8:0:7:a:b:c:d", "2001:db8:0:7::"),
        ("2001:db8:0:7::ffff", "2001:db8:0:7::"),
        ("::ffff:198.51.100.23", "198.51.100.23"),
        (None, "unknown"),
    ],
)
def test_limits_count_an_ipv6_client_by_its_network(address, block):
    assert address_block(address) == block


@pytest.mark.django_db
def test_rate_limits_count_each_client_behind_the_proxy_apart(settings):
    settings.CACHES = {
        "default": {**settings.CACHES["default"], "KEY_PREFIX": f"test-{secrets.token_hex(6)}"}
    }
    settings.SURVEY_RATE_PER_IP = 2
    settings.TRUSTED_PROXY_COUNT = 1
    study = open_study()

    def post(client_address: str) -> int:
        behind_proxy = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=client_address)
        return behind_proxy.post(f"/s/{study.slug}/consent/", {}).status_code

    assert [post(CLIENT) for _ in range(3)] == [200, 200, 429]
    assert [post(FORGED) for _ in range(2)] == [200, 200]  # another person, their own allowance
    # One phone, whose network gives it a /64, cannot step past by changing its last bits.
    assert [post(f"2001:db8:0:7::{n}") for n in range(3)] == [200, 200, 429]
    assert post("2001:db8:0:8::1") == 200
    settings.TRUSTED_PROXY_COUNT = 0  # now the header is not believed: all share the proxy's
    assert post("192.0.2.1") == 200
    assert post("192.0.2.2") == 200
    assert post("192.0.2.3") == 429
