"""Simulate issue histories: each issue is a chain of calls by one customer, one follow-up drawn per call."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from pipeline.corpus.dialogue import DialogueOptions, build_dialogue
from pipeline.corpus.world import (
    MAX_CONTACTS_PER_ISSUE, REASON_DIFFICULTY, REASON_WEIGHTS, REASONS, CallPlan, World, WorldOptions,
    business_time, callback_probabilities, draw_delay_days, draw_outcome,
)
from pipeline.vocab import CALLBACK_WINDOWS_DAYS

UNLINKED_TICKET_PROB = {True: 0.15, False: 0.04}   # repeat call / first call: agent did not link the ticket


@dataclass(frozen=True)
class CorpusOptions:
    calls: int = 1000
    seed: int = 0
    id_prefix: str = ""             # "" -> "s<seed>", so corpora with different seeds never share ids
    world: WorldOptions = field(default_factory=WorldOptions)
    dialogue: DialogueOptions = field(default_factory=DialogueOptions)

    @property
    def prefix(self) -> str:
        return self.id_prefix or f"s{self.seed}"


def generate_calls(options: CorpusOptions) -> list[CallPlan]:
    """All calls of a corpus, sorted by start time, with dialogue, true probabilities and callback labels.

    The corpus holds complete issue histories, so it has at least `options.calls` calls (the last history is
    never cut short: a cut would turn true callbacks into false negatives)."""
    world = World(options.world, options.calls, options.seed, options.prefix)
    rng = random.Random(f"callrisk-issues:{options.seed}")
    start = datetime.fromisoformat(options.world.start_date)
    reasons_used: dict[str, set[str]] = {}
    saturated: set[str] = set()
    calls: list[CallPlan] = []
    issue_no = 0
    while len(calls) < options.calls:
        customer = rng.choice(world.customers)
        used = reasons_used.setdefault(customer.id, set())
        if len(used) >= min(options.world.max_issues_per_customer, len(REASONS)):
            saturated.add(customer.id)
            if len(saturated) == len(world.customers):
                raise ValueError("every customer already has the maximum number of issues: raise "
                                 "WorldOptions.customers_per_call or max_issues_per_customer")
            continue
        free = [r for r in REASONS if r not in used]
        reason = rng.choices(free, weights=[REASON_WEIGHTS[r] for r in free])[0]
        used.add(reason)
        issue_no += 1
        zone = ZoneInfo(customer.zone)
        day = start + timedelta(days=rng.randrange(options.world.period_days))
        local = business_time(rng, day, zone)
        ticket = f"TK{rng.randint(1_000_000, 9_999_999)}"
        issue_id = f"{options.prefix}-I{issue_no:06d}"
        previous = None
        for contact in range(1, MAX_CONTACTS_PER_ISSUE + 1):
            call_seed = rng.getrandbits(63)
            call_rng = random.Random(call_seed)
            agent = world.route(call_rng, customer)
            outcome = draw_outcome(call_rng, agent.skill, REASON_DIFFICULTY[reason], contact)
            plan = CallPlan(
                call_id="", issue_id=issue_id, customer=customer, agent=agent, reason=reason,
                ticket_id="" if call_rng.random() < UNLINKED_TICKET_PROB[contact > 1] else ticket,
                issue_ticket=ticket, contact_number=contact,
                started_at=local.astimezone(ZoneInfo(agent.zone)), outcome=outcome, seed=call_seed,
                previous=previous, company=world.company,
            )
            plan.utterances = build_dialogue(call_rng, plan, options.dialogue)
            plan.true_callback_prob = callback_probabilities(plan)
            calls.append(plan)
            if contact == MAX_CONTACTS_PER_ISSUE:
                break   # the history stops here; _label_followups leaves this call's labels unknown
            # The follow-up is drawn from exactly the stored probability (so the best achievable AUC is known).
            if call_rng.random() >= plan.true_callback_prob["30"]:
                break
            days, _ = draw_delay_days(call_rng)
            after = local.time() if days == 0 else None
            if days == 0 and local.hour >= 18:
                days = 1
                after = None
            local = business_time(call_rng, local + timedelta(days=days), zone, after=after)
            previous = plan

    calls.sort(key=lambda c: (c.started_at, c.issue_id))
    for i, plan in enumerate(calls):
        plan.call_id = f"{options.prefix}-{i:06d}"
    _label_followups(calls)
    return calls


def _label_followups(calls: list[CallPlan]) -> None:
    """callback[w] = the corpus holds the next call about the same issue within w days (from timestamps);
    None on an issue's last allowed call, whose follow-up was never drawn."""
    next_of = {id(c.previous): c for c in calls if c.previous is not None}
    for plan in calls:
        nxt = next_of.get(id(plan))
        delta = (nxt.started_at - plan.started_at).total_seconds() / 86400 if nxt else None
        plan.next_call_id = nxt.call_id if nxt else None
        plan.days_to_next = round(delta, 4) if delta is not None else None
        truncated = plan.contact_number >= MAX_CONTACTS_PER_ISSUE
        plan.callback = {str(w): None if truncated else delta is not None and delta <= w
                         for w in CALLBACK_WINDOWS_DAYS}
        if nxt is not None:   # the day ranges in draw_delay_days guarantee this; check it anyway
            assert 0 < delta < 30, (plan.issue_id, delta)
