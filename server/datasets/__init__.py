"""Data sets: the catalogue, where each comes from, and how each becomes training + held-out data."""
