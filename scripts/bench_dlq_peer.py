#!/usr/bin/python3
"""The benchmark peer of `mercuryctl dlq replay`: the same replay semantics
(mercuryctl-dlq(1), lib/dlq.h) written the way the seed design's remediation
worker does it, in Python with redis-py and pipelined batches:

  1. LRANGE the head of source (batch messages);
  2. decide each message here: a JSON object whose retry field is below
     max_retries gets the counter + 1, "replayed_at" and "correlation_id"
     and goes to target; one at or over the limit goes to dead with
     "dead_reason"; anything else goes to dead wrapped as
     {"dead_reason":"unparseable","body":<original>};
  3. one MULTI/EXEC pipeline: LTRIM the batch off the head of source, RPUSH
     the results to target and dead.

Prints one JSON line: replayed, dead, left, duration_ms, correlation_id.
Needs Debian's python3-redis: run it with /usr/bin/python3.

  bench_dlq_peer.py --port P --source S --target T --dead D
                    [--batch N] [--max-retries M] [--retry-field F]
"""
import argparse
import datetime
import json
import os
import sys
import time

import redis


def rfc3339_now():
    return (datetime.datetime.now(datetime.timezone.utc)
            .isoformat(timespec="milliseconds").replace("+00:00", "Z"))


def decide(raw, field, max_retries, stamp, cid):
    """Returns (to_target, encoded message)."""
    try:
        msg = json.loads(raw)
    except ValueError:
        msg = None
    if not isinstance(msg, dict):
        body = raw.decode("utf-8", "backslashreplace")
        return False, json.dumps({"dead_reason": "unparseable", "body": body},
                                 separators=(",", ":"))
    n = msg.get(field, 0)
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        msg["dead_reason"] = "bad %s: %r" % (field, n)
        return False, json.dumps(msg, separators=(",", ":"))
    if n >= max_retries:
        msg["dead_reason"] = "max_retries exceeded (%d)" % max_retries
        return False, json.dumps(msg, separators=(",", ":"))
    msg[field] = n + 1
    msg["replayed_at"] = stamp
    msg["correlation_id"] = cid
    return True, json.dumps(msg, separators=(",", ":"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--target", required=True)
    ap.add_argument("--dead", required=True)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--max-retries", type=int, default=3)
    ap.add_argument("--retry-field", default="retry_count")
    a = ap.parse_args()
    if a.batch < 1:
        ap.error("--batch must be at least 1")

    r = redis.Redis(host=a.host, port=a.port, socket_timeout=30)
    cid = os.urandom(16).hex()	# a W3C trace id, as mercuryctl makes
    replayed = dead = 0
    t0 = time.monotonic()
    while True:
        raw = r.lrange(a.source, 0, a.batch - 1)
        if not raw:
            break
        stamp = rfc3339_now()
        to_target, to_dead = [], []
        for m in raw:
            ok, out = decide(m, a.retry_field, a.max_retries, stamp, cid)
            (to_target if ok else to_dead).append(out)
        p = r.pipeline(transaction=True)
        p.ltrim(a.source, len(raw), -1)
        if to_target:
            p.rpush(a.target, *to_target)
        if to_dead:
            p.rpush(a.dead, *to_dead)
        p.execute()
        replayed += len(to_target)
        dead += len(to_dead)
    ms = (time.monotonic() - t0) * 1000
    print(json.dumps({"replayed": replayed, "dead": dead,
                      "left": r.llen(a.source), "duration_ms": ms,
                      "correlation_id": cid}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
