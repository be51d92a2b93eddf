"""The payments pages (paying, receipts, transfers, refunds, gateways)."""
