"""The documents core: storing, reading and querying the documents companies exchange.

It depends on the foundation services only; the areas (lifecycle, disputes, issuing, PDF
invoices) build on it. See docs/ARCHITECTURE.md.
"""
