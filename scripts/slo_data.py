#!/usr/bin/python3
"""SLO test data: request counters whose error ratios over every window are
known exactly, as OpenMetrics for `promtool tsdb create-blocks-from
openmetrics`, with the expected results computed from the same counters.

    slo_data.py OUTDIR [--end UNIX_SECONDS]

Writes OUTDIR/slo.om (the series) and OUTDIR/expected.json. Standard
library only.

Every scenario is two counters, slo_requests_total{scenario=S,code="200"}
and {code="500"}, sampled every 60 s from END - 31d to END (END a whole
minute). Each sample adds a fixed number of good and bad requests that
depends only on the scenario's phase, so the increase over any window
(END - w, END] that is a whole number of minutes is a sum of known
integers. Prometheus's rate() over such a window has a sample on each edge
and does not extrapolate; and since both counters are sampled at the same
instants, the ratio of their rates is the ratio of their increases even if
it did. The expected error ratio of window w is therefore

    bad(END) - bad(END - w)  /  all(END) - all(END - w)

computed here from the counters themselves, not from Prometheus.

expected.json: {"end", "step", "objective", "budget", "slos": {NAME:
  {"scenario", "window", "min_rate", "error_query", "total_query", "sli",
  "consumed", "remaining", "burn": {W: rate}, "state", "alerts", "notes",
  "windows": {W: {"errors", "total", "ratio", "rate"}}}}}
One entry per SLO the tests configure (the config is written from it):
each scenario over 30d, and "fast" also over 7d and behind a min_rate
guard. State, alerts and notes follow the policy of mercuryctl-slo(1) (docs/DESIGN.md, "The commands"), evaluated
here independently of mercuryctl.
"""

import json
import math
import os
import sys
import time

STEP = 60
SPAN = 31 * 86400
OBJECTIVE = 99.9
BUDGET = 0.001          # 1 - 99.9 %
WINDOWS = {"5m": 300, "30m": 1800, "1h": 3600, "2h": 7200, "6h": 21600,
           "1d": 86400, "3d": 259200, "7d": 604800, "30d": 2592000}
BURN_WINDOWS = ["5m", "30m", "1h", "2h", "6h", "1d", "3d"]
# docs/DESIGN.md, "The commands": (severity, long, short, factor for a 30-day window).
POLICY = [("page", "1h", "5m", 14.4), ("page", "6h", "30m", 6.0),
          ("ticket", "1d", "2h", 3.0), ("ticket", "3d", "6h", 1.0)]


def steady(age, i):
    """Burns exactly its budget: 1 bad in 1000, at varying traffic."""
    k = 1 + i % 3
    return 1000 * k - k, k


def phased(base, recent, recent_s):
    """base (good, bad) per step, then recent for the last recent_s."""
    def f(age, i):
        return recent if age < recent_s else base
    return f


SCENARIOS = {
    "steady": steady,
    # 0.05 % (burn 0.5), then 2 % (burn 20) in the last hour.
    "fast": phased((1999, 1), (1960, 40), 3600),
    # 0.05 %, then 0.4 % (burn 4) over the last day.
    "daily": phased((1999, 1), (1992, 8), 86400),
    # 0.05 %, then 0.15 % (burn 1.5) over the last three days.
    "slow": phased((1999, 1), (1997, 3), 3 * 86400),
    # Counters that never move: no traffic in any window.
    "idle": lambda age, i: (0, 0),
}


def build(end):
    """Counter values per scenario: {S: (times, good[], bad[])}."""
    start = end - SPAN
    times = list(range(start, end + 1, STEP))
    out = {}
    for name, fn in SCENARIOS.items():
        good, bad = [], []
        g = b = 0
        for i, t in enumerate(times):
            if i > 0:
                dg, db = fn(end - t, i)
                g += dg
                b += db
            good.append(g)
            bad.append(b)
        out[name] = (times, good, bad)
    return out


# The SLOs of the tests: (name, scenario, window, min_rate).
SLOS = [(n, n, "30d", 0) for n in SCENARIOS] + [
    ("fast-7d", "fast", "7d", 0),
    # fast runs at 2000 requests a minute, 33.3/s: below 100/s the 1h/5m
    # page pair must hold back, and nothing else fires.
    ("fast-guarded", "fast", "30d", 100),
]


def policy(burn, rate, window_s, min_rate):
    """State, alerts and notes by the multi-window multi-burn-rate policy,
    with factors scaled from 30 days to window_s."""
    state, alerts, notes = "ok", [], []
    for sev, lw, sw, f30 in POLICY:
        f = f30 * window_s / WINDOWS["30d"]
        if not (burn[lw] > f * (1 + 1e-9) and burn[sw] > f * (1 + 1e-9)):
            continue
        if min_rate > 0 and rate[sw] < min_rate:
            notes.append("%s %s/%s not firing: %.4g requests/s over %s is "
                         "below min_rate %.4g" % (sev, lw, sw, rate[sw], sw,
                                                  min_rate))
            continue
        alerts.append("%s: %s/%s burn > %.4g" % (sev, lw, sw, f))
        if sev == "page":
            state = "critical"
        elif state == "ok":
            state = "warning"
    return state, alerts, notes


def windows_of(data, end):
    """Per scenario and window: errors, total, ratio, rate (req/s)."""
    res = {}
    for name, (times, good, bad) in data.items():
        idx = {t: i for i, t in enumerate(times)}
        wins = {}
        for w, secs in WINDOWS.items():
            a, z = idx[end - secs], idx[end]
            errors = bad[z] - bad[a]
            total = (good[z] + bad[z]) - (good[a] + bad[a])
            wins[w] = {"errors": errors, "total": total,
                       "ratio": errors / total if total else 0.0,
                       "rate": total / secs}
        res[name] = wins
    return res


def expected(data, end):
    wins = windows_of(data, end)
    out = {}
    for name, scenario, window, min_rate in SLOS:
        w = wins[scenario]
        burn = {k: v["ratio"] / BUDGET for k, v in w.items()}
        rate = {k: v["rate"] for k, v in w.items()}
        ratio = w[window]["ratio"]
        state, alerts, notes = policy(burn, rate, WINDOWS[window], min_rate)
        if all(v["total"] == 0 for v in w.values()):
            notes.append("no traffic in any window: nothing to burn")
        sel = 'scenario="%s"' % scenario
        out[name] = {
            "scenario": scenario, "window": window, "min_rate": min_rate,
            "error_query": "sum(rate(slo_requests_total{%s,code=\"500\"}"
                           "[{{window}}]))" % sel,
            "total_query": "sum(rate(slo_requests_total{%s}[{{window}}]))"
                           % sel,
            "sli": 100.0 * (1 - ratio), "consumed": ratio / BUDGET,
            "remaining": 1 - ratio / BUDGET,
            "burn": {k: burn[k] for k in BURN_WINDOWS},
            "state": state, "alerts": alerts, "notes": notes,
            "windows": w,
        }
    return out


def write_openmetrics(path, data):
    with open(path, "w") as f:
        f.write("# HELP slo_requests Requests by scenario and code.\n")
        f.write("# TYPE slo_requests counter\n")
        for name, (times, good, bad) in data.items():
            for code, vals in (("200", good), ("500", bad)):
                lab = 'slo_requests_total{scenario="%s",code="%s"} ' % (
                    name, code)
                f.write("".join("%s%d %d\n" % (lab, v, t)
                                for t, v in zip(times, vals)))
        f.write("# EOF\n")


def main(argv):
    if len(argv) not in (2, 4) or (len(argv) == 4 and argv[2] != "--end"):
        sys.stderr.write("usage: slo_data.py OUTDIR [--end UNIX_SECONDS]\n")
        return 64
    out = argv[1]
    # A whole minute, a little in the past: Prometheus queries the blocks
    # at once, and a 5m window at "now" still reaches the last samples.
    end = int(argv[3]) if len(argv) == 4 else int(time.time()) // 60 * 60 - 120
    end -= end % STEP
    os.makedirs(out, exist_ok=True)
    data = build(end)
    write_openmetrics(os.path.join(out, "slo.om"), data)
    doc = {"end": end, "step": STEP, "objective": OBJECTIVE,
           "budget": BUDGET, "slos": expected(data, end)}
    for slo in doc["slos"].values():
        assert all(math.isfinite(v) for v in slo["burn"].values())
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(doc, f, indent=1, sort_keys=True)
    print(end)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
