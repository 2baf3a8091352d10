"""The lookup source against the stand-in over real HTTP: the cache in front, the counts, and a
refused key shutting the source for every later lookup."""

from __future__ import annotations

import pytest

from connectors.vegvesen import AuthenticationFailed, normalize_identifier
from connectors.vegvesen.cache import LookupCache
from connectors.vegvesen.sources import Cancelled, open_source


def _source(tmp_path):
    from config.settings import get_settings

    cache = LookupCache(tmp_path / "cache.sqlite")
    return open_source("api", get_settings(), cache, 3600, requests_per_second=50, workers=1, safety_margin=1.0,
                       web_interval_seconds=0, evidence_dir=tmp_path, max_wait=0, max_waits=0), cache


def test_a_second_lookup_of_the_same_vehicle_comes_from_the_cache(vegvesen_sandbox, tmp_path):
    source, cache = _source(tmp_path)
    ident = normalize_identifier(vegvesen_sandbox.plates("OK")[0])
    try:
        first, cached_first = source.fetch(ident)
        second, cached_second = source.fetch(ident)
    finally:
        source.close()
        cache.close()
    assert (cached_first, cached_second) == (False, True) and first == second
    assert (source.requests, source.cache_hits) == (1, 1)


def test_a_refused_key_shuts_the_source(vegvesen_sandbox, tmp_path, monkeypatch):
    from config.settings import get_settings

    monkeypatch.setenv("RPA_VEGVESEN__API_KEY", "expired-key")
    get_settings.cache_clear()
    source, cache = _source(tmp_path)
    plates = vegvesen_sandbox.plates("OK")
    try:
        with pytest.raises(AuthenticationFailed):
            source.fetch(normalize_identifier(plates[0]))
        with pytest.raises(Cancelled):  # no other thread spends a request on a refused key
            source.fetch(normalize_identifier(plates[1]))
    finally:
        source.close()
        cache.close()
    assert isinstance(source.refusal, AuthenticationFailed) and source.stop.is_set()
    assert source.requests == 0
