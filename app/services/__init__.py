"""Domain operations. Services add and flush but never commit; the edge owns the transaction.

Layered (docs/ARCHITECTURE.md, checked by import-linter from pyproject.toml): the foundation,
companies and people, the documents core (``documents/``), the areas (``lifecycle/``,
``disputes/``, ``issuing``, ``pdf_documents``: never importing each other; they react to each
other's domain events, ``events``), and on top ``reactions`` (who handles which event) and
``demo``.
"""
