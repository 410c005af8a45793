"""Locust load test for the slabcache HTTP API, in the seed's style.

Like the seed's locustfile: FastHttpUser for throughput, key and value pools
generated once up front (so the load generator spends its time sending, not
randomising), and weighted PUT and GET tasks. Everything is configurable by
environment variables:

    LOCUST_KEY_POOL     keys "key-0" .. "key-<N-1>"        (default 100000)
    LOCUST_KEY_PREFIX   key prefix                          (default "key-")
    LOCUST_VALUE_BYTES  size of each value, ASCII bytes     (default 100)
    LOCUST_VALUE_POOL   distinct values generated up front  (default 1000)
    LOCUST_PUT_WEIGHT   weight of the PUT task              (default 1)
    LOCUST_GET_WEIGHT   weight of the GET task              (default 9)
    LOCUST_WAIT_MAX_MS  pause between a user's requests, uniform 0..N ms
                        (default 0: no pause, as fast as Locust can go)

Keys use the same names as the preload tool and the wrk scripts, so a pool
filled by `pnpm load` (or the preload tool) is what the GETs read.

A GET of a key the server does not hold answers 404. That is a cache miss, not
a failure (the pool may be larger than the cache, or not preloaded), so it is
counted as a success and tallied apart; the count is printed at the end as
"LOCUST_GET_404 <n>". Any other non-2xx answer is a failure.

Interactive use (web UI on http://localhost:8089):
    locust -f packages/loadtest/locustfile.py --host=http://localhost:7171
Headless, bounded, with reports: `pnpm load` (see README.md).
"""

import json
import os
import random
import string

from locust import FastHttpUser, between, constant, events, task


def _int_env(name, default):
    raw = os.environ.get(name, "")
    if raw == "":
        return default
    value = int(raw.replace("_", ""))
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {raw!r}")
    return value


KEY_POOL = max(1, _int_env("LOCUST_KEY_POOL", 100_000))
KEY_PREFIX = os.environ.get("LOCUST_KEY_PREFIX", "key-")
VALUE_BYTES = _int_env("LOCUST_VALUE_BYTES", 100)
VALUE_POOL = max(1, _int_env("LOCUST_VALUE_POOL", 1000))
PUT_WEIGHT = _int_env("LOCUST_PUT_WEIGHT", 1)
GET_WEIGHT = _int_env("LOCUST_GET_WEIGHT", 9)
WAIT_MAX_MS = _int_env("LOCUST_WAIT_MAX_MS", 0)

if PUT_WEIGHT + GET_WEIGHT == 0:
    raise ValueError("LOCUST_PUT_WEIGHT and LOCUST_GET_WEIGHT cannot both be 0")

# Pools are built once, with a fixed seed, so every run draws the same data.
_rng = random.Random(7171)
_ALPHABET = string.ascii_letters + string.digits
KEYS = [f"{KEY_PREFIX}{i}" for i in range(KEY_POOL)]
VALUES = ["".join(_rng.choices(_ALPHABET, k=VALUE_BYTES)) for _ in range(VALUE_POOL)]

get_misses = 0


class CacheUser(FastHttpUser):
    wait_time = between(0, WAIT_MAX_MS / 1000) if WAIT_MAX_MS > 0 else constant(0)

    @task(PUT_WEIGHT)
    def put(self):
        body = {"key": random.choice(KEYS), "value": random.choice(VALUES)}
        with self.client.post("/put", json=body, name="/put", catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"PUT answered {response.status_code}: {(response.text or '')[:200]}")

    @task(GET_WEIGHT)
    def get(self):
        global get_misses
        key = random.choice(KEYS)
        with self.client.get(f"/get?key={key}", name="/get", catch_response=True) as response:
            if response.status_code == 404:
                get_misses += 1
                response.success()
            elif response.status_code != 200:
                response.failure(f"GET answered {response.status_code}: {(response.text or '')[:200]}")


def _entry_summary(entry):
    return {
        "method": entry.method,
        "name": entry.name,
        "requests": entry.num_requests,
        "failures": entry.num_failures,
        "requests_per_second": entry.total_rps,
        "median_ms": entry.median_response_time,
        "p95_ms": entry.get_response_time_percentile(0.95),
        "p99_ms": entry.get_response_time_percentile(0.99),
        "max_ms": entry.max_response_time,
    }


_environment = None


@events.init.add_listener
def _remember_environment(environment, **_kwargs):
    global _environment
    _environment = environment


@events.quit.add_listener
def _write_summary(exit_code, **_kwargs):
    # Final numbers, taken after the users have stopped. (Locust 2.12 writes its
    # CSV files on a timer, so the last second or two of a run can be missing
    # from them; the HTML report and this summary are complete.)
    print(f"LOCUST_GET_404 {get_misses}", flush=True)
    path = os.environ.get("LOCUST_SUMMARY_FILE")
    if not path or _environment is None or _environment.stats is None:
        return
    stats = _environment.stats
    summary = {
        "exit_code": exit_code,
        "get_404": get_misses,
        "routes": [_entry_summary(e) for e in stats.entries.values()],
        "total": _entry_summary(stats.total),
        "errors": [{"method": e.method, "name": e.name, "error": str(e.error), "occurrences": e.occurrences} for e in stats.errors.values()],
    }
    with open(path, "w", encoding="utf-8") as out:
        json.dump(summary, out)
