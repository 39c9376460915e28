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
)
# Agent behaviour that predicts a callback.
AGENT_RISK_CUES = (
    "agent_deferral",         # "I'll have to check", "someone will call you back", "I'm not sure"
)
# Agent behaviours that prevent callbacks.
AGENT_PREVENTIVE_CUES = (
    "verify_fix",             # "can you check it's working now?"
    "next_steps_timeframe",   # "you'll get the refund within 3 to 5 working days"
    "recap",                  # "so to recap, ..."
    "reference_number",       # "your reference number is ..."
    "followup_offer",         # "I'll call you on Friday to make sure"
)
CUE_LABELS = CUSTOMER_RISK_CUES + AGENT_RISK_CUES + AGENT_PREVENTIVE_CUES

OUTCOMES = ("resolved", "partial", "unresolved", "escalated")
CALLBACK_WINDOWS_DAYS = (7, 14, 30)
