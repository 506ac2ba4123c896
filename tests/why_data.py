"""A small company whose every "why" can be computed by hand (tests/test_why.py, docs/why.md).

Periods are Gregorian quarters: the period 2024-Q2, its previous 2024-Q1, a year ago 2023-Q2.

Revenue (one line per product, quantity 1):
  2023-Q2  O8 Tehran P1 120;  O9 Fars P2 100
  2024-Q1  O1 Tehran P1 100;  O2 Tehran P2 50;  O3 Fars P1 40;  O4 Qom P2 30
  2024-Q2  O5 Tehran P1 150 + P2 50 (one order, two products);  O6 Fars P2 10;  O7 Gilan P3 60

Closed deals (won W / lost L; a won deal's days from creation to close in brackets):
  2024-Q1  R1: W[10] W[20] W[30] L      R2: W[40] L L L      R3: W[10] L
  2024-Q2  R1: W[5] web, W[15] web     R2: W[30] web, W[30] ref, W[60] ref, L ref, L ref, L web
           R4: W[20] ref, L ref

Targets for 2024-Q2: revenue 300 for the company, and Tehran 250, Fars 50, Qom 20 (Gilan
none); win rate 0.5 for the company, and R1 0.9, R2 0.4, R5 0.5 (R4 none).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sanjeh.workspace import Workspace
from tests.builders import load

ORDERS = [
    # (order, day, region, [(product, amount)])
    ("O8", "2023-05-01", "Tehran", [("P1", 120.0)]),
    ("O9", "2023-04-20", "Fars", [("P2", 100.0)]),
    ("O1", "2024-01-10", "Tehran", [("P1", 100.0)]),
    ("O2", "2024-02-10", "Tehran", [("P2", 50.0)]),
    ("O3", "2024-02-15", "Fars", [("P1", 40.0)]),
    ("O4", "2024-03-01", "Qom", [("P2", 30.0)]),
    ("O5", "2024-04-10", "Tehran", [("P1", 150.0), ("P2", 50.0)]),
    ("O6", "2024-05-10", "Fars", [("P2", 10.0)]),
    ("O7", "2024-06-01", "Gilan", [("P3", 60.0)]),
]

DEALS = [
    # (rep, closed day, status, days (won), source)
    ("R1", "2024-01-20", "won", 10, "web"),
    ("R1", "2024-02-20", "won", 20, "web"),
    ("R1", "2024-03-20", "won", 30, "web"),
    ("R1", "2024-03-21", "lost", 5, "web"),
    ("R2", "2024-02-01", "won", 40, "web"),
    ("R2", "2024-02-02", "lost", 5, "web"),
    ("R2", "2024-02-03", "lost", 5, "web"),
    ("R2", "2024-02-04", "lost", 5, "web"),
    ("R3", "2024-03-10", "won", 10, "web"),
    ("R3", "2024-03-11", "lost", 5, "web"),
    ("R1", "2024-04-20", "won", 5, "web"),
    ("R1", "2024-05-20", "won", 15, "web"),
    ("R2", "2024-04-15", "won", 30, "web"),
    ("R2", "2024-04-16", "won", 30, "referral"),
    ("R2", "2024-05-16", "won", 60, "referral"),
    ("R2", "2024-05-17", "lost", 5, "referral"),
    ("R2", "2024-05-18", "lost", 5, "referral"),
    ("R2", "2024-06-18", "lost", 5, "web"),
    ("R4", "2024-06-01", "won", 20, "referral"),
    ("R4", "2024-06-02", "lost", 5, "referral"),
]

TARGETS = [
    ("revenue", "revenue", None, None, 300.0),
    ("revenue", "revenue", "region", "Tehran", 250.0),
    ("revenue", "revenue", "region", "Fars", 50.0),
    ("revenue", "revenue", "region", "Qom", 20.0),
    ("win_rate", "win_rate", None, None, 0.5),
    ("win_rate", "win_rate", "rep", "R1", 0.9),
    ("win_rate", "win_rate", "rep", "R2", 0.4),
    ("win_rate", "win_rate", "rep", "R5", 0.5),
]


def fill(ws: Workspace) -> Workspace:
    reps = [{"rep_id": f"R{i}", "name": n} for i, n in enumerate(["Sara", "Reza", "Nima", "Mina", "Ali"], start=1)]
    orders: list[dict[str, Any]] = []
    lines: list[dict[str, Any]] = []
    for oid, day, region, items in ORDERS:
        orders.append({"order_id": oid, "ordered_at": f"{day} 10:00:00", "region": region, "status": "fulfilled"})
        for no, (product, amount) in enumerate(items, start=1):
            lines.append({"order_id": oid, "line_no": no, "product_id": product, "quantity": 1.0, "unit_price": amount})
    deals = []
    for i, (rep, closed, status, days, source) in enumerate(DEALS, start=1):
        end = dt.datetime.fromisoformat(f"{closed} 12:00:00")
        deals.append(
            {
                "opportunity_id": f"D{i:02d}",
                "created_at": end - dt.timedelta(days=days),
                "closed_at": end,
                "rep_id": rep,
                "status": status,
                "source": source,
                "amount": 100.0,
            }
        )
    targets = [
        {"kpi": k, "measure": m, "period": "2024-Q2", "dimension": d, "member": mem, "target": v}
        for k, m, d, mem, v in TARGETS
    ]
    load(
        ws,
        reps=reps,
        products=[{"product_id": p, "name": p.lower()} for p in ("P1", "P2", "P3")],
        orders=orders,
        order_lines=lines,
        opportunities=deals,
        targets=targets,
    )
    return ws
