"""Payments: customers pay invoices online through gateway adapters, or by bank transfer with
proof; suppliers refund. One state machine (``state``), balances moved only by conditional
updates (``balances``), webhooks stored once and processed by a job (``webhooks``).

Modules, from the bottom: ``balances`` (an invoice's open balance, held/paid/refunded amounts)
→ ``state`` (the payment's transitions and what each does to the balances) → ``connections``
(a supplier's gateway accounts, keys encrypted) → ``paying`` (what a payer may pay, starting a
checkout, pay links, transfers) · ``webhooks`` (receive, store once, process) · ``refunds`` ·
``queries`` · ``receipts``.
"""
