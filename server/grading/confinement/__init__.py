"""How a grading child is confined: the sandbox launcher and its limits, the seccomp filter,
Landlock, the memory cgroup, and the pool of warm sandboxes. Service side; never imports
TensorFlow and never interprets what a model answered (that is `trusted/`)."""
