"""Exam templates as data (manifests, starters, question texts). No code lives here."""
