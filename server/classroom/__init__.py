"""Classroom mode: one central service (PostgreSQL), grading by `tfexam worker` processes through
Celery, learners who join from their own machines, and an instructor's page. Nothing here is
imported in the local mode."""
