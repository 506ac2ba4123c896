"""A small hand-made company whose every KPI can be computed by hand (see test_kpis.py).

Jalali months used: 1402-12 = 2024-02-20..2024-03-19, 1403-01 = 2024-03-20..2024-04-19,
1403-02 = 2024-04-20..2024-05-20, 1403-03 = 2024-05-21..2024-06-20 (1403-Q1 ends 2024-06-20).
"""

from __future__ import annotations

from sanjeh.workspace import Workspace
from tests.builders import load

TABLES: dict[str, list[dict[str, object]]] = {
    "reps": [
        {"rep_id": "R1", "name": "Sara", "region": "Tehran"},
        {"rep_id": "R2", "name": "Reza", "region": "Markazi"},
    ],
    "customers": [
        {"customer_id": "C1", "name": "Alpha", "region": "Tehran", "segment": "smb"},
        {"customer_id": "C2", "name": "Beta", "region": "Markazi", "segment": "enterprise"},
        {"customer_id": "C3", "name": "Gamma"},
    ],
    "initiatives": [{"initiative_id": "I1", "name": "New pumps", "started_on": "2024-03-01", "investment": 1000.0}],
    "products": [
        {"product_id": "P1", "name": "Pump", "initiative_id": "I1", "category": "pumps"},
        {"product_id": "P2", "name": "Valve", "category": "valves"},
    ],
    "leads": [
        {"lead_id": "L1", "created_at": "2024-03-01 00:00:00", "source": "webinar", "rep_id": "R1",
         "customer_id": "C1", "mql_at": "2024-03-25 09:00:00", "sql_at": "2024-04-10 09:00:00"},
        {"lead_id": "L2", "created_at": "2024-03-02 00:00:00", "source": "webinar", "mql_at": "2024-03-26 09:00:00"},
        {"lead_id": "L3", "created_at": "2024-03-03 00:00:00", "source": "referral", "rep_id": "R2",
         "customer_id": "C2", "mql_at": "2024-04-25 09:00:00", "sql_at": "2024-04-30 09:00:00"},
        {"lead_id": "L4", "created_at": "2024-03-04 00:00:00", "source": "webinar", "mql_at": "2024-03-19 23:59:00"},
        {"lead_id": "L5", "created_at": "2024-03-05 00:00:00", "mql_at": "2024-05-01 09:00:00"},
    ],
    "opportunities": [
        {"opportunity_id": "OP1", "created_at": "2024-03-21 00:00:00", "lead_id": "L1", "customer_id": "C1",
         "rep_id": "R1", "contact_method": "phone", "product_id": "P1", "status": "won", "amount": 300.0,
         "closed_at": "2024-04-05 12:00:00", "stage": "closed"},
        {"opportunity_id": "OP2", "created_at": "2024-03-22 00:00:00", "rep_id": "R2", "source": "referral",
         "contact_method": "email", "product_id": "P2", "status": "lost", "amount": 500.0,
         "closed_at": "2024-04-20 00:00:00", "stage": "closed"},
        {"opportunity_id": "OP3", "created_at": "2024-04-01 00:00:00", "rep_id": "R1", "source": "cold_call",
         "contact_method": "phone", "status": "open", "amount": 200.0, "stage": "negotiation"},
        {"opportunity_id": "OP4", "created_at": "2024-02-25 00:00:00", "customer_id": "C2", "rep_id": "R2",
         "source": "referral", "contact_method": "meeting", "product_id": "P2", "status": "won", "amount": 1000.0,
         "closed_at": "2024-05-25 00:00:00", "stage": "closed"},
    ],
    "orders": [
        {"order_id": "O1", "ordered_at": "2024-03-25 10:00:00", "customer_id": "C1", "opportunity_id": "OP1",
         "rep_id": "R1", "status": "fulfilled"},
        {"order_id": "O2", "ordered_at": "2024-04-25 10:00:00", "customer_id": "C2", "rep_id": "R2",
         "status": "cancelled", "cancel_reason": "price"},
        {"order_id": "O3", "ordered_at": "2024-04-26 10:00:00", "customer_id": "C2", "rep_id": "R2",
         "status": "placed", "region": "Fars", "contact_method": "email"},
        {"order_id": "O4", "ordered_at": "2024-05-30 10:00:00", "customer_id": "C3", "opportunity_id": "OP4",
         "rep_id": "R2", "status": "fulfilled"},
        {"order_id": "O5", "ordered_at": "2024-03-10 10:00:00", "customer_id": "C1", "rep_id": "R1",
         "status": "fulfilled"},
        {"order_id": "O6", "ordered_at": "2024-05-01 10:00:00", "customer_id": "C1", "rep_id": "R1",
         "status": "cancelled"},
    ],
    "order_lines": [
        {"order_id": "O1", "line_no": 1, "product_id": "P1", "quantity": 2.0, "unit_price": 100.0, "discount": 0.0},
        {"order_id": "O1", "line_no": 2, "product_id": "P2", "quantity": 1.0, "unit_price": 50.0, "discount": 10.0},
        {"order_id": "O2", "line_no": 1, "product_id": "P1", "quantity": 1.0, "unit_price": 50.0, "discount": 0.0},
        {"order_id": "O3", "line_no": 1, "product_id": "P2", "quantity": 3.0, "unit_price": 10.0, "discount": 5.0},
        {"order_id": "O4", "line_no": 1, "product_id": "P2", "quantity": 10.0, "unit_price": 100.0, "discount": 0.0},
        {"order_id": "O5", "line_no": 1, "product_id": "P2", "quantity": 1.0, "unit_price": 80.0, "discount": 0.0},
        {"order_id": "O6", "line_no": 1, "product_id": "P1", "quantity": 1.0, "unit_price": 70.0, "discount": 0.0},
        {"order_id": "O6", "line_no": 2, "product_id": "P2", "quantity": 2.0, "unit_price": 10.0, "discount": 0.0},
    ],
    "activities": [
        {"activity_id": "A1", "rep_id": "R1", "type": "call", "occurred_at": "2024-03-21 10:00:00", "outcome": "prospect"},
        {"activity_id": "A2", "rep_id": "R1", "type": "call", "occurred_at": "2024-04-21 10:00:00", "outcome": "no_answer"},
        {"activity_id": "A3", "rep_id": "R1", "type": "email", "occurred_at": "2024-04-22 10:00:00"},
        {"activity_id": "A4", "rep_id": "R2", "type": "call", "occurred_at": "2024-05-01 10:00:00", "outcome": "prospect"},
    ],
    "time_entries": [
        {"rep_id": "R1", "day": "2024-03-23", "category": "selling", "hours": 6.0},
        {"rep_id": "R1", "day": "2024-03-23", "category": "data_entry", "hours": 2.0},
        {"rep_id": "R2", "day": "2024-04-01", "category": "data_entry", "hours": 4.0},
        {"rep_id": "R2", "day": "2024-04-01", "category": "selling", "hours": 4.0},
    ],
    "targets": [
        {"kpi": "revenue", "period": "1403-Q1", "target": 1000.0},
        {"kpi": "revenue", "period": "1403-1", "target": 300.0},
        {"kpi": "revenue", "period": "2024-Q2", "target": 5.0},
        {"kpi": "sales_by_region", "period": "1403-Q1", "dimension": "region", "member": "markazi", "target": 1500.0},
        {"kpi": "sales_by_region", "measure": "units", "period": "1403-Q1", "dimension": "region",
         "member": "Tehran", "target": 4.0},
        {"kpi": "cancelled_orders", "period": "1403-Q1", "target": 0.5},
    ],
    "cpi": [
        {"month": "1402-12", "index": 100.0},
        {"month": "1403-01", "index": 110.0},
        {"month": "1403-02", "index": 120.0},
        {"month": "1403-03", "index": 125.0},
    ],
}  # fmt: skip


def fill(ws: Workspace) -> Workspace:
    load(ws, **TABLES)
    return ws
