"""VegvesenClient against the stand-in over real HTTP: each status code path and the retry policy."""

from __future__ import annotations

import pytest

from connectors.vegvesen import (
    AuthenticationFailed,
    InvalidIdentifier,
    QuotaExceeded,
    TransientError,
    VegvesenClient,
    VehicleNotFound,
    parse_response,
)
from connectors.vegvesen.client import RetryPolicy, seconds_to_oslo_midnight

FAST = RetryPolicy(max_attempts=3, backoff_seconds=0.01, max_backoff_seconds=0.05)


@pytest.fixture
def client(vegvesen_sandbox):
    c = VegvesenClient.from_settings(retry=FAST)
    yield c
    c.close()


def test_found_by_plate_and_by_vin(client, vegvesen_sandbox):
    plate = vegvesen_sandbox.plates("OK")[0]
    result = client.lookup(f"{plate[:2].lower()} {plate[2:]}")
    v = parse_response(result.body)
    assert result.status == 200 and v.plate == plate
    again = client.lookup(v.vin)
    assert parse_response(again.body).plate == plate


@pytest.mark.parametrize("form, shown", [("204", "204"), ("404", "404"), ("empty", "tom liste"),
                                         ("feilmelding", "feilmelding")])
def test_every_not_found_form_is_vehicle_not_found(client, vegvesen_sandbox, form, shown):
    vegvesen_sandbox.knobs(not_found=form)
    plate = vegvesen_sandbox.plates("NOT_FOUND")[0]
    with pytest.raises(VehicleNotFound) as info:
        client.lookup(plate)
    assert info.value.form == shown
    assert "fant ikke kjøretøyet" in info.value.message_no


@pytest.mark.parametrize("key, status", [("", 401), ("wrong-key", 403)])
def test_bad_key_raises_authentication_failed(vegvesen_sandbox, key, status):
    client = VegvesenClient(vegvesen_sandbox.url, key, retry=FAST)
    with pytest.raises(AuthenticationFailed) as info:
        client.lookup(vegvesen_sandbox.plates("OK")[0])
    assert info.value.status == status
    assert "RPA_VEGVESEN__API_KEY" in str(info.value) and "API-nøkkelen" in info.value.message_no


def test_the_key_never_shows(vegvesen_sandbox):
    client = VegvesenClient(vegvesen_sandbox.url, "top-secret-key")
    assert "top-secret-key" not in repr(client) and "top-secret-key" not in repr(vars(client))


def test_malformed_plate_is_refused_before_sending(client, vegvesen_sandbox):
    with pytest.raises(InvalidIdentifier):
        client.lookup("E 39085")
    assert vegvesen_sandbox.status()["lookups"] == 0


def test_server_400_is_invalid_identifier(vegvesen_sandbox):
    from connectors.vegvesen.plates import Identifier

    client = VegvesenClient.from_settings(retry=FAST)
    with pytest.raises(InvalidIdentifier) as info:
        client.lookup(Identifier("kjennemerke", "EK-39085!"))
    assert info.value.status == 400


def test_quota_spent_is_422_with_retry_after(client, vegvesen_sandbox):
    vegvesen_sandbox.knobs(quota_retry_after_seconds=3600)
    vegvesen_sandbox.faults(daily_quota=1)
    plate = vegvesen_sandbox.plates("OK")[0]
    client.lookup(plate)
    with pytest.raises(QuotaExceeded) as info:
        client.lookup(plate)
    assert info.value.status == 422 and info.value.retry_after == 3600
    assert "Kvoten" in info.value.message_no


def test_rate_limited_is_429_quota_exceeded(client, vegvesen_sandbox):
    vegvesen_sandbox.faults(rate_limit_per_second=1)
    plate = vegvesen_sandbox.plates("OK")[0]
    with pytest.raises(QuotaExceeded) as info:
        for _ in range(5):
            client.lookup(plate)
    assert info.value.status == 429 and info.value.retry_after == 1


def test_5xx_is_retried_then_succeeds(client, vegvesen_sandbox):
    vegvesen_sandbox.knobs(fail_next=2, fail_status=503)
    assert client.lookup(vegvesen_sandbox.plates("OK")[0]).status == 200


def test_5xx_after_all_attempts_is_transient(client, vegvesen_sandbox):
    vegvesen_sandbox.knobs(fail_next=3, fail_status=500)
    with pytest.raises(TransientError) as info:
        client.lookup(vegvesen_sandbox.plates("OK")[0])
    assert info.value.status == 500


def test_timeout_is_transient(vegvesen_sandbox):
    vegvesen_sandbox.faults(latency_ms=400)
    client = VegvesenClient(vegvesen_sandbox.url, "sandbox-svv-key", timeout=0.1,
                            retry=RetryPolicy(max_attempts=2, backoff_seconds=0.01))
    with pytest.raises(TransientError) as info:
        client.lookup(vegvesen_sandbox.plates("OK")[0])
    assert "Timeout" in str(info.value)


def test_quota_resets_within_a_day():
    assert 0 < seconds_to_oslo_midnight() <= 24 * 3600 + 3600
