"""Materialise a learner's project folder from an exam template."""
