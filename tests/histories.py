"""A hand-made call history shared by the labelling and metrics tests (answers worked out in each test file)."""

HISTORY_CSV = """\
call_id,customer_id,started_at,reason,agent_id
a1,A,2024-03-01T09:00:00Z,billing,ann
a2,A,2024-03-01T15:00:00Z,billing,bob
a3,A,2024-03-10T09:00:00Z,billing,ann
a4,A,2024-03-30T09:00:00Z,internet,bob
b1,B,2024-03-05T12:00:00Z,internet,ann
c1,C,2024-03-25T08:00:00Z,billing,bob
c2,C,2024-04-01T08:00:00Z,billing,ann
d1,D,2024-04-02T00:00:00Z,,ann
"""
