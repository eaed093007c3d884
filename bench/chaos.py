"""Chaos figures: N runs of a four-task job (reader -> psi -> coordinated_lr -> evaluation on 3,000 rows)
across three node processes, each with one node SIGKILLed at a random moment and restarted 1-3 s later on
the same conf, store and port. Prints completed / failed with a reason naming the killed party / failed
otherwise / stuck / disagreements / orphans / changed outputs / next job refused, and the load average at
start and end. Goal: at least 90% of mid-job kills end in success; stuck, disagreements and orphans 0.

    python bench/chaos.py [--runs 50] [--seed S] [--stop 90]

--stop S also freezes (SIGSTOP) the host and then the guest (the scheduler) for S seconds mid-job.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.chaos.dags import GUEST, HOST
from tests.chaos.harness import ChaosCluster, RunResult, kill_run, load_average, stop_run


def classify(result: RunResult) -> str:
    if result.outcome != "failed":
        return result.outcome
    return "failed, reason names the party" if result.target in result.reason else "failed, other reason"


def print_figures(results: list[RunResult]) -> None:
    mid_job = [r for r in results if r.mid_job]
    outcomes = Counter(classify(r) for r in results)
    completed_mid_job = sum(r.outcome == "completed" for r in mid_job)
    print(f"runs: {len(results)} ({len(mid_job)} with the kill inside the job)")
    for name in ("completed", "failed, reason names the party", "failed, other reason", "stuck"):
        print(f"  {name}: {outcomes.get(name, 0)}")
    print(f"  disagreements: {sum(not r.agreed for r in results)}")
    print(f"  runs with orphans: {sum(bool(r.orphans) for r in results)}")
    print(f"  runs with changed outputs of finished tasks: {sum(bool(r.changed_outputs) for r in results)}")
    print(f"  next job not successful: {sum(not r.next_job.startswith('success') for r in results)}")
    print(f"  next job refused at submit first: {sum('refused' in r.next_job for r in results)}")
    if mid_job:
        share = 100.0 * completed_mid_job / len(mid_job)
        figure = f"{completed_mid_job}/{len(mid_job)} = {share:.0f}%"
        print(f"mid-job kills ending in success: {figure} (goal >= 90%)")
    by_target = Counter((r.target, r.outcome) for r in results)
    print("by killed party: " + ", ".join(f"{t} {o}: {n}" for (t, o), n in sorted(by_target.items())))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--seed", type=int, default=None, help="seed of the first run (default: random)")
    parser.add_argument("--stop", type=float, default=0.0, help="also SIGSTOP host and guest this long")
    args = parser.parse_args(argv)
    first = random.SystemRandom().randrange(1_000_000) if args.seed is None else args.seed
    print(f"load average at start: {load_average()}; first seed {first}", flush=True)
    started = time.monotonic()
    results: list[RunResult] = []
    stops: list[RunResult] = []
    with tempfile.TemporaryDirectory(prefix="fate-grpc-chaos-") as workdir:
        with ChaosCluster(Path(workdir)) as chaos:
            for index in range(args.runs):
                result = kill_run(chaos, first + index)
                results.append(result)
                print(f"[{index + 1}/{args.runs}] {classify(result)}: {result.summary()}", flush=True)
            for target in (HOST, GUEST) if args.stop else ():
                result = stop_run(chaos, first, target, frozen_s=args.stop)
                stops.append(result)
                print(f"[stop] {classify(result)}: {result.summary()}", flush=True)
        leftovers = chaos.leftovers()
    print()
    print_figures(results)
    for result in stops:
        print(f"{result.action} of {result.target} mid-job: {result.outcome} (agreed: {result.agreed})")
    print(f"processes left after the nodes stopped: {len(leftovers)} {leftovers if leftovers else ''}")
    print(f"wall time {time.monotonic() - started:.0f}s; load average at end: {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
