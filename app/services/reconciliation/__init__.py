"""Bank reconciliation: bank accounts and statement imports (``accounts``, ``importing``), gateway
payouts copied from the gateways (``payouts``), what a line may settle (``candidates``), matching,
confirming and undoing (``matching``), the company's rules (``rules``) and the lists (``queries``).

It sits above the payments area: a confirmed match asks ``payments.banked`` for the payment that
closes the invoices, so balances move in one place.
"""
