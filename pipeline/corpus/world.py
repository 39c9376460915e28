"""The world behind the corpus: customers, agents, issues, latent outcomes and follow-up calls.

Everything is drawn from `random.Random` instances seeded from the corpus seed, so a corpus is a pure function
of (options, seed). The dialogue text of each call is drawn by `dialogue.build_dialogue`; the callback
probability then depends on the outcome *and* on what was said (the cues and the customer's frustration), and
the follow-up is drawn from exactly that probability (kept as `true_callback_prob`).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import datetime, time
from zoneinfo import ZoneInfo

from pipeline.vocab import CALLBACK_WINDOWS_DAYS, OUTCOME_CUES, OUTCOMES

REASONS = ("billing", "technical_fault", "account_access", "delivery", "refund", "plan_change", "cancellation")
# How hard an issue type is to fix on one call (0..1): pushes the outcome away from "resolved".
REASON_DIFFICULTY = {
    "billing": 0.35, "technical_fault": 0.6, "account_access": 0.3, "delivery": 0.5,
    "refund": 0.45, "plan_change": 0.2, "cancellation": 0.4,
}
REASON_WEIGHTS = {
    "billing": 0.22, "technical_fault": 0.24, "account_access": 0.12, "delivery": 0.14,
    "refund": 0.10, "plan_change": 0.10, "cancellation": 0.08,
}
# Agents work at two sites; started_at is written in the answering site's zone (so files mix UTC offsets).
SITES = ("America/New_York", "America/Chicago")
CUSTOMER_ZONES = ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles")

# Callback model: logit(p30) = base[outcome] + effects of what was said + customer propensity + contact number.
OUTCOME_LOGIT = {"resolved": -2.7, "partial": -0.7, "unresolved": 0.1, "escalated": -0.7}
CUE_LOGIT = {
    "prior_contact": 0.0,           # carried by contact_number already; kept explicit for readers
    "problem_persists": 0.35,
    "confusion_next_steps": 0.55,
    "escalation_request": 0.3,
    "agent_deferral": 0.5,
    "verify_fix": -0.6,
    "next_steps_timeframe": -0.45,
    "recap": -0.3,
    "reference_number": -0.25,
    "followup_offer": -0.4,
}
FRUSTRATED_LINE_LOGIT = 0.2     # per frustrated customer line, capped
FRUSTRATED_LINE_CAP = 3
REPEAT_CONTACT_LOGIT = 0.25     # per earlier contact about the same issue
# An issue's history stops at this call: its follow-up is not simulated, so its callback labels are unknown (None),
# like a call censored by the end of the data. (Giving it probability 0 instead would plant a zero no call reveals.)
MAX_CONTACTS_PER_ISSUE = 6
PROPENSITY_SD = 0.15            # latent per-customer habit: the part of the risk no call can reveal
# Given a callback within 30 days, when it comes: P(delay <= 7 d) and P(delay <= 14 d).
DELAY_CDF = {7: 0.55, 14: 0.80, 30: 1.0}

MALE_FIRST = ("James", "Michael", "Robert", "David", "Daniel", "Kevin", "Brian", "Marcus", "Luis", "Omar", "Tom",
              "Sam", "Peter", "Raj", "Ahmed", "Carlos", "Ethan", "Noah", "Victor", "Greg", "Paul", "Hugo")
FEMALE_FIRST = ("Mary", "Jennifer", "Linda", "Sarah", "Karen", "Emily", "Olivia", "Priya", "Maria", "Aisha",
                "Grace", "Hannah", "Chloe", "Nadia", "Rosa", "Julia", "Megan", "Laura", "Fatima", "Anna", "Kate")
SURNAMES = ("Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Martinez", "Wilson",
            "Anderson", "Taylor", "Thomas", "Moore", "Jackson", "Martin", "Lee", "Thompson", "White", "Harris",
            "Clark", "Lewis", "Walker", "Hall", "Young", "King", "Wright", "Lopez", "Hill", "Scott", "Green",
            "Baker", "Nelson", "Carter", "Patel", "Nguyen", "Kim", "Murphy", "Reed", "Cook")


@dataclass(frozen=True)
class WorldOptions:
    """Knobs of the simulated contact centre."""

    customers_per_call: float = 0.45        # customers in the population per requested call
    agents: int = 24
    period_days: int = 90                   # first contacts fall in this many days from `start_date`
    start_date: str = "2026-01-05"
    max_issues_per_customer: int = 3
    male_share: float = 0.55                # people with a male voice; every call pairs a male with a female voice


@dataclass(frozen=True)
class Person:
    id: str
    first: str
    last: str
    gender: str                 # "m" or "f": decides the voice family (one of each per call)
    zone: str
    voice_seed: int             # the renderer derives a stable voice and pitch/rate offset from this


@dataclass(frozen=True)
class Customer(Person):
    account: str = ""
    postcode: str = ""
    birth_date: str = ""
    phone: str = ""
    patience: float = 0.5           # latent: low patience -> frustrated lines sooner
    propensity: float = 0.0         # latent logit shift: some people call back more, whatever was said


@dataclass(frozen=True)
class Agent(Person):
    skill: float = 0.5              # 0..1: better agents resolve more and use the preventive behaviours


@dataclass
class CallPlan:
    """One call of the corpus before and after its dialogue is drawn."""

    call_id: str
    issue_id: str
    customer: Customer
    agent: Agent
    reason: str
    ticket_id: str                  # "" when the agent did not link the call to the ticket
    issue_ticket: str               # the issue's ticket (ground truth), even when ticket_id is blank
    contact_number: int             # 1 for the first call about the issue
    started_at: datetime            # aware, in the agent's site zone
    outcome: str
    seed: int                       # seed of this call's dialogue/render draws
    previous: "CallPlan | None" = None
    company: str = ""
    utterances: list = field(default_factory=list)     # dialogue.Utterance
    true_callback_prob: dict[str, float] = field(default_factory=dict)
    callback: dict[str, bool | None] = field(default_factory=dict)   # None: not simulated (history truncated)
    next_call_id: str | None = None
    days_to_next: float | None = None


def _logistic(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def draw_outcome(rng: random.Random, skill: float, difficulty: float, contact_number: int) -> str:
    repeat = contact_number - 1
    scores = {
        "resolved": 1.3 + 2.2 * (skill - 0.5) - 1.6 * difficulty - 0.25 * repeat,
        "partial": 0.25 + 0.4 * difficulty,
        "unresolved": -0.4 - 1.8 * (skill - 0.5) + 0.9 * difficulty,
        "escalated": -1.3 + 0.9 * difficulty + 0.45 * repeat,
    }
    weights = [math.exp(scores[o]) for o in OUTCOMES]
    return rng.choices(OUTCOMES, weights=weights)[0]


def callback_probabilities(plan: CallPlan) -> dict[str, float]:
    """The exact probability of a follow-up within each window, given the outcome and what was said."""
    # OUTCOME_CUES only echo the outcome: they have no logit of their own.
    cues = {c.label for u in plan.utterances for c in u.cues} - set(OUTCOME_CUES)
    frustrated = sum(1 for u in plan.utterances if u.role == "customer" and u.sentiment == "frustrated")
    logit = (
        OUTCOME_LOGIT[plan.outcome]
        + sum(CUE_LOGIT[label] for label in sorted(cues))   # fixed order: same float sum in every process
        + FRUSTRATED_LINE_LOGIT * min(frustrated, FRUSTRATED_LINE_CAP)
        + REPEAT_CONTACT_LOGIT * (plan.contact_number - 1)
        + plan.customer.propensity
    )
    p30 = _logistic(logit)
    return {str(w): round(p30 * DELAY_CDF[w], 6) for w in CALLBACK_WINDOWS_DAYS}


def draw_delay_days(rng: random.Random) -> tuple[int, int]:
    """Whole-day offset of the follow-up and its bucket; day ranges leave a margin so window membership is
    unambiguous whatever the time of day (business hours 08:00-19:00, DST shifts included)."""
    u = rng.random()
    if u < DELAY_CDF[7]:
        return (0 if rng.random() < 0.2 else rng.randint(1, 6)), 7
    if u < DELAY_CDF[14]:
        return rng.randint(8, 13), 14
    return rng.randint(15, 29), 30


def business_time(rng: random.Random, day: datetime, zone: ZoneInfo, after: time | None = None) -> datetime:
    lo = 8 * 60 if after is None else after.hour * 60 + after.minute + 30
    hi = 19 * 60
    minute = rng.randint(lo, hi) if lo <= hi else hi
    return datetime.combine(day.date(), time(minute // 60, minute % 60, rng.randint(0, 59)), tzinfo=zone)


class World:
    """The population (customers, agents) of one corpus, drawn from its seed."""

    def __init__(self, options: WorldOptions, n_calls: int, seed: int, id_prefix: str):
        self.options = options
        self.seed = seed
        self.prefix = id_prefix
        rng = random.Random(f"callrisk-world:{seed}")
        self.agents = [self._agent(rng, i) for i in range(options.agents)]
        # Each call pairs voices of opposite gender: make sure both agent genders exist.
        if len({a.gender for a in self.agents}) < 2:
            self.agents[0] = self._agent(rng, 0, gender="f" if self.agents[0].gender == "m" else "m")
        n_customers = max(1, int(math.ceil(n_calls * options.customers_per_call)))
        self.customers = [self._customer(rng, i) for i in range(n_customers)]
        self.company = rng.choice(("Northwind Telecom", "Brightline Mobile", "Clearwave Broadband",
                                   "Summit Energy", "Harbor Connect", "Bluepeak Internet"))

    def _agent(self, rng: random.Random, i: int, gender: str | None = None) -> Agent:
        gender = gender or ("m" if rng.random() < self.options.male_share else "f")
        first = rng.choice(MALE_FIRST if gender == "m" else FEMALE_FIRST)
        return Agent(
            id=f"{self.prefix}-A{i:03d}", first=first, last=rng.choice(SURNAMES), gender=gender,
            zone=SITES[i % len(SITES)], voice_seed=rng.getrandbits(32),
            skill=min(0.97, max(0.05, rng.betavariate(2.5, 2.0))),
        )

    def _customer(self, rng: random.Random, i: int) -> Customer:
        gender = "m" if rng.random() < self.options.male_share else "f"
        return Customer(
            id=f"{self.prefix}-C{i:05d}",
            first=rng.choice(MALE_FIRST if gender == "m" else FEMALE_FIRST),
            last=rng.choice(SURNAMES),
            gender=gender,
            zone=rng.choice(CUSTOMER_ZONES),
            voice_seed=rng.getrandbits(32),
            account=str(rng.randint(10_000_000, 99_999_999)),
            postcode=f"{rng.randint(10_000, 99_950):05d}",
            birth_date=f"{rng.randint(1945, 2004)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            phone=f"555-{rng.randint(100, 999)}-{rng.randint(1000, 9999)}",
            patience=rng.random(),
            propensity=rng.gauss(0.0, PROPENSITY_SD),
        )

    def route(self, rng: random.Random, customer: Customer) -> Agent:
        """An agent for the call: the opposite voice gender to the customer's, weighted towards busy agents."""
        pool = [a for a in self.agents if a.gender != customer.gender]
        return rng.choice(pool)
