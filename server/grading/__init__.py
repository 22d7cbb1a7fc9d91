"""Grading. Parent side (the service; never imports TensorFlow): the queue's supervisor, the warm
sandbox pool, the launcher that confines each child, and the trusted scorer that holds the labels.
Child side (`server.grading.worker`, run only inside a sandbox): vet, load, predict.
"""
