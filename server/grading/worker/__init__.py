"""The grading worker (child process): imports TensorFlow once and grades jobs one after another.

Never imported by the API process; it talks to the parent only through `server.grading.protocol`.
"""
