"""Whether a party that does not answer the scheduler's status checks is still waited for.

A stalled or partitioned node is tolerated for `timeouts.party_unreachable_s`, counted from its first
unanswered check: a node that answers again within that time loses nothing, one that stays away longer
fails the job. The decision is a pure function of what is known and the time; `PartyReachability`
only keeps that knowledge per job and party, in memory (a scheduler that restarts fails its jobs).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Verdict(StrEnum):
    """What the scheduler does about a party after one status check."""

    REACHABLE = "reachable"
    """It answered: nothing to report."""
    WAITING = "waiting"
    """It did not answer, but has been away no longer than the tolerance: keep waiting, show it."""
    GIVE_UP = "give_up"
    """It has been away longer than the tolerance: the job fails."""


@dataclass(frozen=True)
class Unreachable:
    """A party that has not answered the scheduler since `since_ms`."""

    party_id: str
    address: str
    """The address the scheduler tried (from its routes)."""
    since_ms: int
    """First unanswered check, unix milliseconds."""
    error: str
    """The last check's error, as the gateway gave it."""
    failed_checks: int = 1
    """Status checks left unanswered since `since_ms`."""

    def away_s(self, now_ms: int) -> float:
        return max(0, now_ms - self.since_ms) / 1000


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    state: Unreachable | None
    """What to keep for the party from now on (None once it answered)."""


def judge_check(
    known: Unreachable | None, failure: Unreachable | None, now_ms: int, tolerance_s: float
) -> Decision:
    """Fold one status check of a party into what is known of it.

    Args:
        known: the party's unreachable record before the check (None if it answered last time).
        failure: None if the party answered; else the check's failure (its `since_ms` is the check's
            time, used only when the party was not already away).
        now_ms: the time of the check.
        tolerance_s: how long a party may stay away before the job fails.
    """
    if failure is None:
        return Decision(Verdict.REACHABLE, None)
    since_ms, checks = (known.since_ms, known.failed_checks + 1) if known else (failure.since_ms, 1)
    state = Unreachable(failure.party_id, failure.address, since_ms, failure.error, checks)
    verdict = Verdict.GIVE_UP if state.away_s(now_ms) > tolerance_s else Verdict.WAITING
    return Decision(verdict, state)


def give_up_reason(party: Unreachable, role: str, now_ms: int) -> str:
    """Why the job fails: the party, its address and how long it was away."""
    return (
        f"{role} {party.party_id} at {party.address} has not answered the scheduler for"
        f" {party.away_s(now_ms):.0f}s (more than timeouts.party_unreachable_s): {party.error}"
    )


def waiting_reason(parties: list[Unreachable], now_ms: int, tolerance_s: float) -> str:
    """What a running job's view says while parties are away."""
    return "; ".join(
        f"party {p.party_id} at {p.address} unreachable since {p.since_ms} ({p.away_s(now_ms):.0f}s;"
        f" the job fails after {tolerance_s:g}s): {p.error}"
        for p in parties
    )


class PartyReachability:
    """The parties each job's scheduler cannot reach now (in memory)."""

    def __init__(self, tolerance_s: float) -> None:
        self.tolerance_s = tolerance_s
        self._away: dict[str, dict[str, Unreachable]] = {}

    def record(self, job_id: str, party_id: str, failure: Unreachable | None, now_ms: int) -> Decision:
        """Fold a check into the record of (job, party) and return the decision."""
        parties = self._away.setdefault(job_id, {})
        decision = judge_check(parties.get(party_id), failure, now_ms, self.tolerance_s)
        if decision.state is None:
            parties.pop(party_id, None)
        else:
            parties[party_id] = decision.state
        if not parties:
            self._away.pop(job_id, None)
        return decision

    def away(self, job_id: str) -> dict[str, Unreachable]:
        """party id -> its record, for the parties of the job that are unreachable now."""
        return dict(self._away.get(job_id, {}))

    def forget(self, job_id: str) -> None:
        """The job ended: its parties' records go."""
        self._away.pop(job_id, None)
