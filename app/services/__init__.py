"""Domain operations. Services add and flush but never commit; the edge owns the transaction."""
