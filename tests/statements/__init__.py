"""Bank statement readers."""
