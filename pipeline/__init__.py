"""callrisk: per-call callback-risk scoring for contact-centre recordings."""

__version__ = "0.1.0"
