from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.test import RequestFactory

from gov21.core.http import client_address, trusted_proxies

PROXIES = "10.0.0.0/8, 2001:db8:ffff::/48"


def _trust(monkeypatch: pytest.MonkeyPatch, proxies: str) -> None:
    """Set GOV21_TRUSTED_PROXIES as the settings module reads it at start."""
    monkeypatch.setattr(django_settings, "GOV21_TRUSTED_PROXIES", [p.strip() for p in proxies.split(",") if p.strip()])


def _address(monkeypatch: pytest.MonkeyPatch, *, peer: str, forwarded: str | None = None, proxies: str = "") -> str:
    _trust(monkeypatch, proxies)
    extra = {"REMOTE_ADDR": peer}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return client_address(RequestFactory().get("/", **extra))  # type: ignore[arg-type]


def test_without_trusted_proxies_the_peer_is_the_client_whatever_the_header_says(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert _address(monkeypatch, peer="198.51.100.7", forwarded="203.0.113.9") == "198.51.100.7"


def test_a_forwarded_for_from_an_untrusted_peer_is_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _address(monkeypatch, peer="198.51.100.7", forwarded="10.0.0.9", proxies=PROXIES) == "198.51.100.7"


def test_behind_a_trusted_proxy_the_right_most_untrusted_address_is_the_client(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The client wrote "1.1.1.1" itself; the edge proxy appended the address it saw, then an inner proxy.
    forwarded = "1.1.1.1, 203.0.113.5, 10.1.2.3"
    assert _address(monkeypatch, peer="10.0.0.1", forwarded=forwarded, proxies=PROXIES) == "203.0.113.5"
    assert _address(monkeypatch, peer="10.0.0.1", forwarded="203.0.113.6", proxies=PROXIES) == "203.0.113.6"


def test_ports_ipv6_and_mapped_addresses_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _address(monkeypatch, peer="10.0.0.1", forwarded="203.0.113.5:4711", proxies=PROXIES) == "203.0.113.5"
    assert _address(monkeypatch, peer="10.0.0.1", forwarded="[2001:db8::1]:443", proxies=PROXIES) == "2001:db8::1"
    assert _address(monkeypatch, peer="2001:db8:ffff::2", forwarded="2001:db8::7", proxies=PROXIES) == "2001:db8::7"
    assert _address(monkeypatch, peer="::ffff:198.51.100.7", forwarded="1.2.3.4", proxies=PROXIES) == "198.51.100.7"


def test_a_request_from_the_proxy_itself_or_with_garbage_stands_for_the_nearest_proxy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert _address(monkeypatch, peer="10.0.0.1", proxies=PROXIES) == "10.0.0.1"
    assert _address(monkeypatch, peer="10.0.0.1", forwarded="unknown, 10.0.0.2", proxies=PROXIES) == "10.0.0.2"


def test_a_setting_that_is_not_an_address_is_refused_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    _trust(monkeypatch, "10.0.0.0/8,proxy.example")
    with pytest.raises(ValueError, match=r"GOV21_TRUSTED_PROXIES: 'proxy\.example'"):
        trusted_proxies()


def test_gunicorn_believes_forwarded_headers_from_the_trusted_proxies_only(monkeypatch: pytest.MonkeyPatch) -> None:
    from gunicorn.config import Config

    from gov21.core.http import gunicorn_forwarding

    for proxies, believed in (("", []), ("10.0.0.0/8, 192.0.2.1", ["10.0.0.0/8", "192.0.2.1/32"])):
        _trust(monkeypatch, proxies)
        config = Config()
        name, value = gunicorn_forwarding()
        config.set(name.removeprefix("--").replace("-", "_"), value)
        # Gunicorn's default believes anyone on loopback; the platform's list replaces it.
        assert config.forwarded_allow_ips == believed
