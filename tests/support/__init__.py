"""Helpers shared by the tests: a real service process, and real Keras models written on demand."""
