"""Sizing on paper: worker processes for 500 learners saving once every 3 minutes (Poisson
arrivals, 2.78 jobs/s) with p95 save-to-score <= 5 s. Each argument is GRADING:FIXED in seconds:
the grading time per job S (taken as fixed) and the part of save-to-score outside the queue and
the grading (settle times, upload, publish), both read from `make bench-classroom`. Queue wait from
M/M/c (Erlang C), conservative for near-constant grading times: P(wait > t) = C exp(-(c/S - lam) t).

    python3 tests/bench/sizing_classroom.py 0.61:1.6 1.0:1.6 2.0:1.6 3.0:1.6
"""

import math
import sys


def erlang_c(c, a):
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return c * b / (c - a * (1 - b))

LEARNERS, EVERY_SECONDS, TARGET_P95 = 500, 180.0, 5.0
lam = LEARNERS / EVERY_SECONDS
for arg in sys.argv[1:]:
    service, overhead = map(float, arg.split(":"))
    budget = TARGET_P95 - overhead - service
    for c in range(1, 500):
        a = lam * service
        if a >= c:
            continue
        pw = erlang_c(c, a)
        wait95 = 0.0 if pw <= 0.05 else math.log(pw / 0.05) / (c / service - lam)
        if wait95 <= budget:
            print(f"| {service:.2f} | {overhead:.2f} | {c} | {a / c:.0%} | {wait95:.2f} |")
            break
    else:
        print(f"| {service:.2f} | {overhead:.2f} | impossible: grading + overhead alone exceed 5 s |")
