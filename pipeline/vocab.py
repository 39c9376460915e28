"""Shared label vocabularies: the corpus generator, the cue detectors and the risk model all use these names."""

from __future__ import annotations

ROLES = ("agent", "customer", "unknown")

# Utterance-level affect classes for the sentiment head.
SENTIMENT_LABELS = ("positive", "neutral", "negative", "frustrated", "confused")

# Things a customer says that predict a callback.
CUSTOMER_RISK_CUES = (
    "prior_contact",          # "I already called about this last week"
    "problem_persists",       # "it still isn't working"
    "confusion_next_steps",   # "so when will I hear back?"
    "escalation_request",     # "I want to speak to a manager" / formal complaint
    "outcome_rejected",       # "that's not really good enough", "I just hope it actually gets fixed this time"
)
# Things a customer says that predict no callback.
CUSTOMER_PREVENTIVE_CUES = (
    "fix_confirmed",          # "oh yes, that's working now" (after the agent's fix)
)
# Agent behaviour that predicts a callback.
AGENT_RISK_CUES = (
    "agent_deferral",         # "I'll have to check", "someone will call you back", "I'm not sure"
    "not_resolved",           # "I've done part of it, but the rest needs another team", "I can't do that from here"
)
# Agent behaviours that prevent callbacks.
AGENT_PREVENTIVE_CUES = (
    "verify_fix",             # "can you check it's working now?"
    "next_steps_timeframe",   # "you'll get the refund within 3 to 5 working days"
    "recap",                  # "so to recap, ..."
    "reference_number",       # "your reference number is ..."
    "followup_offer",         # "I'll call you on Friday to make sure"
)
# The cues that show how the call ended (what the agent says was done, how the customer takes it): evidence of the
# outcome rather than behaviours that cause or prevent a callback.
OUTCOME_CUES = ("outcome_rejected", "fix_confirmed", "not_resolved")
CUE_LABELS = CUSTOMER_RISK_CUES + CUSTOMER_PREVENTIVE_CUES + AGENT_RISK_CUES + AGENT_PREVENTIVE_CUES
# Which speaker a cue belongs to: detectors look for it on that role's lines, features count it only there.
CUE_ROLE = {**{label: "customer" for label in CUSTOMER_RISK_CUES + CUSTOMER_PREVENTIVE_CUES},
            **{label: "agent" for label in AGENT_RISK_CUES + AGENT_PREVENTIVE_CUES}}

OUTCOMES = ("resolved", "partial", "unresolved", "escalated")
CALLBACK_WINDOWS_DAYS = (7, 14, 30)
