"""Disputes between a supplier and its buyer, their chat and their transcripts."""
