"""The scheduler waits for a party that does not answer up to a tolerance in time, not a count of checks."""

from __future__ import annotations

import pytest

from fate_grpc.scheduler.reachability import (
    PartyReachability,
    Unreachable,
    Verdict,
    give_up_reason,
    judge_check,
    waiting_reason,
)

TOLERANCE_S = 300.0
ADDRESS = "10.0.0.2:9360"


def away_since(since_ms: int, error: str = "connection refused") -> Unreachable:
    return Unreachable("10000", ADDRESS, since_ms, error)


@pytest.mark.parametrize(
    ("known", "failure", "now_ms", "verdict", "since_ms"),
    [
        # answered: nothing is kept, whatever was known
        (None, None, 1_000, Verdict.REACHABLE, None),
        (away_since(0), None, 299_000, Verdict.REACHABLE, None),
        (away_since(0), None, 10_000_000, Verdict.REACHABLE, None),
        # a first unanswered check starts the clock
        (None, away_since(5_000), 5_000, Verdict.WAITING, 5_000),
        # further checks keep the first time; many of them inside the tolerance are still waited for
        (away_since(0), away_since(30_000), 30_000, Verdict.WAITING, 0),
        (away_since(0), away_since(300_000), 300_000, Verdict.WAITING, 0),
        # past the tolerance, counted from the first unanswered check
        (away_since(0), away_since(300_001), 300_001, Verdict.GIVE_UP, 0),
        (away_since(1_000), away_since(400_000), 400_000, Verdict.GIVE_UP, 1_000),
        # a clock that steps back never makes a negative absence
        (away_since(50_000), away_since(40_000), 40_000, Verdict.WAITING, 50_000),
    ],
)
def test_a_check_is_judged_by_the_time_the_party_has_been_away(
    known: Unreachable | None,
    failure: Unreachable | None,
    now_ms: int,
    verdict: Verdict,
    since_ms: int | None,
) -> None:
    decision = judge_check(known, failure, now_ms, TOLERANCE_S)

    assert decision.verdict is verdict
    assert (decision.state.since_ms if decision.state else None) == since_ms


def test_the_kept_record_has_the_latest_address_and_error() -> None:
    later = Unreachable("10000", "10.0.0.3:9360", 9_000, "deadline exceeded")

    decision = judge_check(away_since(0), later, 9_000, TOLERANCE_S)

    assert decision.state == Unreachable("10000", "10.0.0.3:9360", 0, "deadline exceeded", failed_checks=2)


def test_the_tracker_keeps_each_job_and_party_apart_and_clears_on_an_answer() -> None:
    tracker = PartyReachability(tolerance_s=2.0)

    tracker.record("job_a", "10000", away_since(0), now_ms=0)
    tracker.record("job_b", "10000", away_since(500), now_ms=500)
    late = tracker.record("job_a", "10000", away_since(2_500), now_ms=2_500)
    answered = tracker.record("job_b", "10000", None, now_ms=2_500)

    assert late.verdict is Verdict.GIVE_UP
    assert answered.verdict is Verdict.REACHABLE
    assert tracker.away("job_a") == {"10000": Unreachable("10000", ADDRESS, 0, "connection refused", 2)}
    assert tracker.away("job_b") == {}
    tracker.forget("job_a")
    assert tracker.away("job_a") == {}


def test_the_reasons_name_the_party_its_address_and_the_time() -> None:
    party = away_since(1_000)

    failed = give_up_reason(party, "host", now_ms=331_000)
    waiting = waiting_reason([party], now_ms=31_000, tolerance_s=TOLERANCE_S)

    assert failed == (
        f"host 10000 at {ADDRESS} has not answered the scheduler for 330s"
        " (more than timeouts.party_unreachable_s): connection refused"
    )
    assert waiting == (
        f"party 10000 at {ADDRESS} unreachable since 1000 (30s; the job fails after 300s): connection refused"
    )
