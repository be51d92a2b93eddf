"""The document engine: read, validate, sign, verify, write and render e-invoices.

Knows nothing of Flask or the database: plain data in, plain data out.
"""
