"""The sandboxed grading child: vets a model's config, loads it, and predicts what it is asked,
for exactly one job (in a bubblewrap sandbox, a process forked for that job from a zygote that
imported TensorFlow once). It holds no labels and computes no score.

Never imported by the API process; it talks to the parent only through `server.grading.protocol`.
"""
