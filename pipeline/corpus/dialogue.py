"""Dialogue assembly: turns a call plan (who, why, latent outcome, earlier contact) into labelled utterances.

Cues appear with probabilities tied to the latent outcome (and, for agent behaviours, to the agent's skill), so
they are informative but never a giveaway. Every utterance carries the affect of the phrasing it was built from,
its cue spans (character offsets into its text), and a timing plan (gap before it, hold before it, overlap) that
the renderer realises in audio.
"""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass, field
from datetime import datetime

from pipeline.corpus import phrases as P
from pipeline.vocab import AGENT_PREVENTIVE_CUES, CUE_LABELS, SENTIMENT_LABELS

# P(cue | outcome). Agent preventive behaviours are further scaled by skill, deferral by (1 - skill).
CUE_PROB = {
    #                      resolved partial unresolved escalated
    "problem_persists":     (0.06, 0.30, 0.45, 0.40),
    "confusion_next_steps": (0.06, 0.35, 0.40, 0.30),
    "escalation_request":   (0.02, 0.07, 0.20, 0.65),
    "agent_deferral":       (0.10, 0.45, 0.55, 0.45),
    "verify_fix":           (0.70, 0.30, 0.06, 0.04),
    "next_steps_timeframe": (0.45, 0.55, 0.25, 0.55),
    "recap":                (0.40, 0.35, 0.20, 0.30),
    "reference_number":     (0.50, 0.60, 0.40, 0.70),
    "followup_offer":       (0.12, 0.40, 0.25, 0.40),
}
OUTCOME_INDEX = {"resolved": 0, "partial": 1, "unresolved": 2, "escalated": 3}
PRIOR_CONTACT_PROB_REPEAT = 0.85
PRIOR_CONTACT_PROB_FIRST = 0.04
PERSISTS_PROB_REPEAT = 0.6
CLOSING_AFFECT = {   # P(customer's closing affect | outcome)
    "resolved": {"positive": 0.75, "neutral": 0.22, "negative": 0.03},
    "partial": {"positive": 0.2, "neutral": 0.5, "negative": 0.25, "frustrated": 0.05},
    "unresolved": {"neutral": 0.3, "negative": 0.45, "frustrated": 0.25},
    "escalated": {"neutral": 0.3, "negative": 0.4, "frustrated": 0.3},
}
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
DEVICES = ("router", "phone", "TV box", "tablet", "SIM card", "modem", "smart speaker", "headset")
PLANS = ("Unlimited", "Essentials", "Family", "Premium", "Basic", "Fibre 500", "Plus")
NTH = {2: "second", 3: "third", 4: "fourth", 5: "fifth", 6: "sixth"}
CLAIMS = ("fix", "partial", "cannot", "escalate")
CLAIM_GIVEN_OUTCOME = {   # what the agent says happened, given what did
    "resolved": (0.85, 0.15, 0.0, 0.0),
    "partial": (0.35, 0.5, 0.15, 0.0),
    "unresolved": (0.3, 0.25, 0.4, 0.05),
    "escalated": (0.0, 0.15, 0.05, 0.8),
}


@dataclass(frozen=True)
class CueSpan:
    label: str
    char_start: int
    char_end: int


@dataclass
class Utterance:
    role: str                       # "agent" or "customer"
    text: str
    sentiment: str                  # one of SENTIMENT_LABELS
    intent: str
    cues: list[CueSpan] = field(default_factory=list)
    gap_before: float = 0.4         # planned silence before this turn; negative = starts over the previous turn
    hold_before: float = 0.0        # planned hold silence before this turn (seconds)
    backchannel: bool = False       # said inside the other speaker's turn
    start: float | None = None      # filled by the renderer
    end: float | None = None


@dataclass(frozen=True)
class DialogueOptions:
    length: str = "full"            # "full" or "short" (a handful of turns, for quick audio tests)
    disfluency_customer: float = 0.22
    disfluency_agent: float = 0.06
    customer_speaks_first: float = 0.15
    backchannel_prob: float = 0.25
    interruption_prob: float = 0.08
    hold_prob: float = 0.4
    hold_seconds: tuple[float, float] = (3.0, 12.0)
    phrase_split: str = "all"       # "all", "train" (never the held-out phrasings) or "heldout" (only those)


class _Builder:
    """Collects utterances; each is assembled from parts, a part optionally tagged with its cue label."""

    def __init__(self, rng: random.Random, slots: dict[str, str], options: DialogueOptions):
        self.rng = rng
        self.slots = slots
        self.options = options
        self.utterances: list[Utterance] = []

    def fill(self, template: str) -> str:
        return template.format(**self.slots)

    def subset(self, bank, key=lambda template: template):
        """The part of a bank this corpus may use. Banks of 5+ phrasings are split by a stable hash of each
        phrasing: about one in five is held out, for corpora that test generalisation to unseen wording."""
        split = self.options.phrase_split
        if split == "all" or len(bank) < 5:
            return bank
        return _split_cache(tuple(bank), split, key)

    def choose(self, bank) -> str:
        return self.rng.choice(self.subset(bank))

    def pick(self, bank) -> str:
        return self.fill(self.choose(bank))

    def say(self, role: str, intent: str, sentiment: str, parts: list, **timing) -> Utterance:
        """parts: strings or (string, cue_label) pairs, joined with spaces."""
        assert sentiment in SENTIMENT_LABELS, sentiment
        rate = self.options.disfluency_customer if role == "customer" else self.options.disfluency_agent
        parts = [p for p in parts if (p[0] if isinstance(p, tuple) else p)]
        if parts and intent in DISFLUENT_INTENTS and not _starts_with_interjection(parts[0]) \
                and self.rng.random() < rate:
            parts = [self.choose(P.DISFLUENCY_PREFIX)] + [_decapitalise(parts[0])] + parts[1:]
        text, cues = "", []
        for part in parts:
            chunk, label = part if isinstance(part, tuple) else (part, None)
            if text and chunk[0] not in ",.?!":   # punctuation parts attach to the previous part
                text += " "
            if text.endswith((".", "?", "!")) and chunk[:1].islower():   # a new sentence
                chunk = chunk[0].upper() + chunk[1:]
            if label:
                assert label in CUE_LABELS, label
                cues.append(CueSpan(label, len(text), len(text) + len(chunk)))
            text += chunk
        text = text[0].upper() + text[1:]
        utt = Utterance(role=role, text=text, sentiment=sentiment, intent=intent, cues=cues, **timing)
        if "gap_before" not in timing:
            utt.gap_before = round(self.rng.uniform(0.15, 0.9), 3)
        self.utterances.append(utt)
        return utt


# Where people hesitate; greetings, goodbyes and backchannels stay clean.
DISFLUENT_INTENTS = {"problem", "answer", "id_answer", "confused", "reaction", "closing", "escalation", "vent",
                     "diagnose", "fix", "partial", "cannot", "deferral", "clarify", "id_check"}
_INTERJECTIONS = {"oh", "yeah", "yes", "yep", "no", "nope", "okay", "right", "um", "uh", "er", "hmm", "well", "mm-hm",
                  "uh-huh", "sure", "so", "look", "honestly", "seriously", "wait", "hang", "sorry"}


def _starts_with_interjection(part) -> bool:
    chunk = part[0] if isinstance(part, tuple) else part
    return chunk.split(" ", 1)[0].rstrip(",.?!").lower() in _INTERJECTIONS


_SPLITS: dict = {}


def _split_cache(bank: tuple, split: str, key) -> tuple:
    cache_key = (bank, split)
    if cache_key not in _SPLITS:
        held = tuple(t for t in bank if zlib.crc32(str(key(t)).encode()) % 5 == 0)
        kept = tuple(t for t in bank if t not in held)
        _SPLITS[cache_key] = (held or bank[:1]) if split == "heldout" else (kept or bank)
    return _SPLITS[cache_key]


def _positive_parts(b: _Builder) -> list[str | tuple[str, str]]:
    core = b.choose(P.POSITIVE_CORE)
    tail = b.choose(P.POSITIVE_TAIL)
    return [b.choose(P.POSITIVE_OPENER), (core, "fix_confirmed") if core in P.FIX_CONFIRMED_CORES else core,
            "," if tail else ".", tail]


def _rejection_labelled(reaction: str) -> str | tuple[str, str]:
    """A reaction to the outcome that rejects or grudgingly accepts it carries `outcome_rejected`."""
    rejects = reaction in P.CUSTOMER_REACTION_NEGATIVE or reaction in P.CUSTOMER_REACTION_GRUDGING
    return (reaction, "outcome_rejected") if rejects else reaction


def _closing_labelled(closing: str, affect: str) -> str | tuple[str, str]:
    """A closing line that doubts the outcome, or says the problem is sorted, carries the matching cue."""
    if affect == "negative":
        return closing, "outcome_rejected"
    if closing in P.CUSTOMER_CLOSING_FIXED:
        return closing, "fix_confirmed"
    return closing


def _after_opener(clause: str, mood: str) -> str:
    """An angry opener ("Look," / "I'm sorry but") runs straight into the clause."""
    return _decapitalise(clause) if mood == "angry" else clause


def _decapitalise(part):
    chunk, label = part if isinstance(part, tuple) else (part, None)
    first = chunk.split(" ", 1)[0].rstrip(",.?!")
    if first not in ("I", "I'm", "I've", "I'd", "I'll") and not first[:1].isdigit() and len(chunk) > 1 \
            and chunk[1:2].islower():
        chunk = chunk[0].lower() + chunk[1:]
    return (chunk, label) if label else chunk


def _spoken_digits(digits: str) -> str:
    return " ".join(digits[i:i + 4] for i in range(0, len(digits), 4))


def _ordinal(n: int) -> str:
    suffix = "th" if 11 <= n % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _prev_when(rng: random.Random, previous_at: datetime, now: datetime) -> str:
    days = (now.astimezone(previous_at.tzinfo).date() - previous_at.date()).days
    if days <= 0:
        return rng.choice(("earlier today", "this morning", "a few hours ago"))
    if days == 1:
        return "yesterday"
    if days < 7:
        return rng.choice((f"on {WEEKDAYS[previous_at.weekday()]}", "a few days ago", f"{days} days ago"))
    if days < 14:
        return rng.choice(("last week", "about a week ago", f"on {WEEKDAYS[previous_at.weekday()]} last week"))
    return rng.choice(("a couple of weeks ago", "a few weeks ago",
                       f"on the {_ordinal(previous_at.day)} of {MONTHS[previous_at.month - 1]}"))


def make_slots(rng: random.Random, plan) -> dict[str, str]:
    """Values for the template slots of one call: names, numbers, dates, amounts."""
    at = plan.started_at
    cust = plan.customer
    amount = rng.randint(15, 180) + rng.choice((0, 0.5, 0.99, 0.25))
    later = at.toordinal() + rng.randint(2, 10)
    later_date = datetime.fromordinal(later)
    slots = {
        "company": plan.company,
        "daypart": "morning" if at.hour < 12 else "afternoon" if at.hour < 18 else "evening",
        "agent_first": plan.agent.first,
        "cust_first": cust.first,
        "cust_last": cust.last,
        "cust_title": "Mr" if cust.gender == "m" else rng.choice(("Ms", "Mrs")),
        "amount": f"${amount:.2f}",
        "amount2": f"${rng.randint(20, 90)}",
        "month": MONTHS[(at.month - 2) % 12],
        "weekday": WEEKDAYS[rng.randint(0, 4)],
        "errcode": f"E{rng.randint(10, 99)}",
        "speed": str(rng.choice((1, 2, 3, 5))),
        "device": rng.choice(DEVICES),
        "date": f"{MONTHS[later_date.month - 1]} {_ordinal(later_date.day)}",
        "order": str(rng.randint(100_000, 999_999)),
        "plan": rng.choice(PLANS),
        "account_spoken": _spoken_digits(cust.account),
        "birth_spoken": _birth_spoken(cust.birth_date),
        "postcode_spoken": " ".join(cust.postcode),
        "phone": cust.phone,
        "days": str(rng.randint(2, 12)),
        "card4": str(rng.randint(1000, 9999)),
        "n": str(rng.randint(3, 5)),
        "n2": str(rng.randint(6, 10)),
        "ref": plan.issue_ticket,
        "nth": NTH.get(plan.contact_number, "second"),
        "prev_ref": plan.issue_ticket,
        "prev_when": _prev_when(rng, plan.previous.started_at, at) if plan.previous else "last week",
    }
    return slots


def _birth_spoken(iso: str) -> str:
    y, m, d = (int(x) for x in iso.split("-"))
    return f"{MONTHS[m - 1]} {_ordinal(d)}, {y}"


def customer_mood(rng: random.Random, patience: float, contact_number: int) -> str:
    """Opening mood: impatient customers and repeat callers start off annoyed or angry."""
    score = 0.6 * (1 - patience) + 0.45 * (contact_number - 1) + rng.gauss(0, 0.2)
    return "calm" if score < 0.4 else "annoyed" if score < 0.75 else "angry"


def build_dialogue(rng: random.Random, plan, options: DialogueOptions) -> list[Utterance]:
    """The utterances of one call (text, roles, affect, cue spans, timing plan)."""
    b = _Builder(rng, make_slots(rng, plan), options)
    outcome = plan.outcome
    oi = OUTCOME_INDEX[outcome]
    skill = plan.agent.skill
    repeat = plan.contact_number > 1
    reason = plan.reason

    def chance(label: str) -> bool:
        p = CUE_PROB[label][oi]
        if label in AGENT_PREVENTIVE_CUES:
            p = min(0.95, p * (0.55 + 0.9 * skill))
        elif label == "agent_deferral":
            p = min(0.95, p * (1.35 - 0.7 * skill))
        return rng.random() < p

    mood = customer_mood(rng, plan.customer.patience, plan.contact_number)
    short = options.length == "short"

    # Opening: usually the agent, sometimes the customer's "hello?" comes first.
    if rng.random() < options.customer_speaks_first:
        b.say("customer", "hello", "neutral", [b.pick(P.CUSTOMER_HELLO_FIRST)], gap_before=0.3)
        b.say("agent", "greeting", "neutral", [b.pick(P.AGENT_ANSWER_HELLO)])
    else:
        b.say("agent", "greeting", "neutral", [b.pick(P.AGENT_GREETING)], gap_before=0.3)

    # Problem statement, wrapped in the customer's mood; repeat callers refer back to the earlier contact.
    parts: list = [b.pick(P.CUSTOMER_GREETING_PREFIX)]
    if repeat and rng.random() < PRIOR_CONTACT_PROB_REPEAT:
        parts.append((b.pick(P.PRIOR_CONTACT), "prior_contact"))
    elif not repeat and rng.random() < PRIOR_CONTACT_PROB_FIRST:
        parts.append((b.pick(P.PRIOR_CONTACT_FIRST_CALL), "prior_contact"))
    sentiment = {"calm": "neutral", "annoyed": "negative", "angry": "frustrated"}[mood]
    if mood == "angry":
        parts.append(b.choose(P.FRUSTRATED_OPENER))
    core = b.pick(P.PROBLEM_CORE[reason])
    persists_said = False
    if repeat and rng.random() < PERSISTS_PROB_REPEAT:
        parts.append(_after_opener(b.choose(P.CUSTOMER_INTRO) + " " + core, mood))
        parts.append((b.choose(P.PROBLEM_PERSISTS[reason]).rstrip("."), "problem_persists"))
        parts.append("," if mood != "calm" else ".")
        persists_said = True
    else:
        parts.append(_after_opener(b.choose(P.CUSTOMER_INTRO) + " " + core, mood) + ("," if mood != "calm" else "."))
    if mood == "annoyed":
        parts.append(b.choose(P.NEGATIVE_TAIL))
    elif mood == "angry":
        parts.append(b.choose(P.FRUSTRATED_TAIL))
    elif isinstance(parts[-1], str) and parts[-1].endswith(","):
        parts[-1] = parts[-1][:-1] + "."
    b.say("customer", "problem", sentiment, parts)

    if not short:
        if rng.random() < 0.6:
            b.say("agent", "empathy", "neutral", [b.pick(P.AGENT_EMPATHY)])
        b.say("agent", "id_check", "neutral", [b.pick(P.AGENT_ID_CHECK)])
        b.say("customer", "id_answer", "neutral", [b.pick(P.CUSTOMER_ID_ANSWER)])
        if rng.random() < 0.5:
            question = b.choose(P.AGENT_ID_SECOND)
            kind = "birth" if "birth" in question else "phone" if "phone" in question else "postcode"
            b.say("agent", "id_check", "neutral", [b.fill(question)])
            b.say("customer", "id_answer", "neutral", [b.pick(P.CUSTOMER_ID_SECOND[kind])])
        b.say("agent", "id_confirm", "neutral", [b.pick(P.AGENT_ID_CONFIRM)])
        if mood != "angry" and rng.random() < 0.25:
            b.say("agent", "small_talk", "positive" if rng.random() < 0.5 else "neutral", [b.pick(P.SMALL_TALK_AGENT)])
            if mood == "calm":
                b.say("customer", "small_talk", "positive", [b.pick(P.SMALL_TALK_CUSTOMER_POSITIVE)])
            else:
                b.say("customer", "small_talk", "negative", [b.pick(P.SMALL_TALK_CUSTOMER_NEGATIVE)])
            b.say("agent", "small_talk", "neutral", [b.pick(P.SMALL_TALK_AGENT_REPLY)])
        for question, answers in rng.sample(b.subset(P.AGENT_DIAGNOSE[reason], key=lambda qa: qa[0]), rng.choice((1, 1, 2))):
            b.say("agent", "diagnose", "neutral", [b.fill(question)])
            if not persists_said and outcome != "resolved" and rng.random() < CUE_PROB["problem_persists"][oi]:
                b.say("customer", "answer", "negative", [(b.pick(P.PERSISTS_ANSWER), "problem_persists")])
                persists_said = True
            elif rng.random() < 0.15:
                b.say("customer", "confused", "confused",
                      [b.choose(P.CONFUSED_PREFIX), b.pick(P.CONFUSED_CORE)])
                b.say("agent", "clarify", "neutral", [b.fill(question)])
                b.say("customer", "answer", "neutral", [b.pick(answers)])
            else:
                b.say("customer", "answer", "neutral", [b.pick(answers)])
        if mood != "calm" and rng.random() < (0.5 if mood == "angry" else 0.2):
            b.say("customer", "vent", "frustrated",
                  [b.choose(P.FRUSTRATED_OPENER), b.choose(P.FRUSTRATED_TAIL)])
            b.say("agent", "empathy", "neutral", [b.pick(P.AGENT_EMPATHY)])
    if rng.random() < options.hold_prob:
        b.say("agent", "hold", "neutral", [b.pick(P.AGENT_HOLD)])
        lo, hi = options.hold_seconds
        b.say("agent", "hold_return", "neutral", [b.pick(P.AGENT_HOLD_RETURN)],
              hold_before=round(rng.uniform(lo, hi), 2), gap_before=0.0)

    # Resolution, driven by the latent outcome. What the agent claims is noisy evidence of it: agents say they
    # fixed things that stay broken, and call real fixes "partial".
    escalation_asked = chance("escalation_request")
    if escalation_asked and outcome != "escalated":
        b.say("customer", "escalation", "frustrated" if mood == "angry" else "negative",
              [(b.pick(P.ESCALATION_REQUEST), "escalation_request")])
        b.say("agent", "ack", "neutral", [P.AGENT_ACK_ESCALATION[-1]])
    if outcome == "escalated" and escalation_asked:
        b.say("customer", "escalation", "frustrated" if mood == "angry" else "negative",
              [(b.pick(P.ESCALATION_REQUEST), "escalation_request")])
        b.say("agent", "ack", "neutral", [b.pick(P.AGENT_ACK_ESCALATION[:-1])])
    claim = rng.choices(CLAIMS, weights=CLAIM_GIVEN_OUTCOME[outcome])[0]
    if claim == "fix":
        b.say("agent", "fix", "positive" if rng.random() < 0.3 else "neutral",
              [("Good news." if rng.random() < 0.3 else ""), b.pick(P.AGENT_FIX[reason])])
    elif claim == "partial":
        b.say("agent", "partial", "neutral", [(b.pick(P.AGENT_PARTIAL), "not_resolved")])
    elif claim == "cannot":
        b.say("agent", "cannot", "negative", [(b.pick(P.AGENT_CANNOT), "not_resolved")])
    else:
        b.say("agent", "escalate", "neutral", [(b.pick(P.AGENT_ESCALATE), "not_resolved")])
    if chance("verify_fix"):
        b.say("agent", "verify", "neutral", [(b.pick(P.VERIFY_FIX[reason]), "verify_fix")])
    if outcome == "resolved":
        if rng.random() < 0.7:
            b.say("customer", "verified", "positive",
                  [(b.pick(P.CUSTOMER_VERIFIED), "fix_confirmed")] if rng.random() < 0.4 else _positive_parts(b))
    elif outcome == "partial" or (outcome == "escalated" and mood == "calm"):
        affect = rng.choice(("neutral", "negative"))
        bank = P.CUSTOMER_REACTION_NEUTRAL if affect == "neutral" else P.CUSTOMER_REACTION_NEGATIVE
        b.say("customer", "reaction", affect, [_rejection_labelled(b.pick(bank))])
    elif mood == "angry":
        b.say("customer", "reaction", "frustrated", [b.choose(P.FRUSTRATED_OPENER), b.choose(P.FRUSTRATED_TAIL)])
    else:
        b.say("customer", "reaction", "negative", [_rejection_labelled(b.pick(P.CUSTOMER_REACTION_NEGATIVE))])
    if chance("agent_deferral"):
        b.say("agent", "deferral", "neutral", [(b.pick(P.AGENT_DEFERRAL), "agent_deferral")])

    # Next steps: the preventive behaviours, in a random order.
    steps = []
    if chance("next_steps_timeframe"):
        steps.append(("timeframe", "next_steps_timeframe", P.NEXT_STEPS_TIMEFRAME))
    if chance("reference_number"):
        steps.append(("reference", "reference_number", P.REFERENCE_NUMBER))
    if chance("followup_offer"):
        steps.append(("followup", "followup_offer", P.FOLLOWUP_OFFER))
    rng.shuffle(steps)
    for intent, label, bank in steps:
        b.say("agent", intent, "neutral", [(b.pick(bank), label)])
        if options.backchannel_prob and rng.random() < options.backchannel_prob:
            b.say("customer", "backchannel", "neutral", [b.choose(P.BACKCHANNEL)], backchannel=True, gap_before=0.0)
    if chance("confusion_next_steps"):
        prefix = "" if rng.random() < 0.6 else b.choose(P.CONFUSED_PREFIX)
        b.say("customer", "confused", "confused", [prefix, (b.choose(P.CONFUSION_NEXT_STEPS), "confusion_next_steps")])
        b.say("agent", "clarify", "neutral", [b.pick(P.AGENT_CLARIFY)])
    if chance("recap"):
        summary = b.choose(P.RECAP_SUMMARY[outcome])
        before, after = b.choose(P.RECAP).split("{summary}")
        b.say("agent", "recap", "neutral", [(before.rstrip(), "recap"),
                                            (summary, "not_resolved") if outcome != "resolved" else summary, after])

    # Closing.
    if not short:
        b.say("agent", "anything_else", "neutral", [b.pick(P.AGENT_ANYTHING_ELSE)])
    weights = CLOSING_AFFECT[outcome]
    if mood == "angry" and outcome != "resolved":
        weights = {**weights, "frustrated": weights.get("frustrated", 0) + 0.3}
    affect = rng.choices(list(weights), weights=list(weights.values()))[0]
    closing = [_closing_labelled(b.pick(P.CUSTOMER_CLOSING[affect]), affect)]
    if affect == "positive" and rng.random() < 0.5:
        closing = ["No, that's everything.", *_positive_parts(b)]
    b.say("customer", "closing", affect, closing)
    b.say("agent", "goodbye", "neutral", [b.pick(P.AGENT_GOODBYE)])
    if not short and rng.random() < 0.6:
        b.say("customer", "bye", "neutral", [b.choose(P.CUSTOMER_BYE)], gap_before=round(rng.uniform(0.1, 0.4), 3))

    _plan_interruptions(rng, b.utterances, options)
    return b.utterances


def _plan_interruptions(rng: random.Random, utterances: list[Utterance], options: DialogueOptions) -> None:
    """Some customer turns start before the agent has finished (overtalk), planned as a negative gap."""
    for prev, utt in zip(utterances, utterances[1:]):
        if (utt.role == "customer" and prev.role == "agent" and not utt.backchannel and not prev.backchannel
                and utt.hold_before == 0 and len(prev.text) > 30 and rng.random() < options.interruption_prob):
            utt.gap_before = -round(rng.uniform(0.25, 0.8), 3)
