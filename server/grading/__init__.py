"""Grading: the persisted queue and worker supervision (parent side) and the worker (child side).

Only `server.grading.worker` imports TensorFlow, and only inside the worker process.
"""
