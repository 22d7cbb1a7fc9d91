"""Grading, in three zones that follow the trust boundary:

- `confinement/`: how a grading child is confined (bubblewrap or Landlock + seccomp, the memory
  cgroup, the warm pool). Runs in the service; it never reads a reply's meaning.
- `sandboxed/`: what runs inside the sandbox (vet, load, predict). Untrusted once a model is
  loaded; never imported by the API process, the only zone that imports TensorFlow.
- `trusted/`: the service's side (supervisor, scorer with the labels, held-out data, scoring).
  It believes nothing a child says until `protocol` has bounded and checked it.

`protocol.py` is the one place the two sides meet: every message that crosses the boundary.
"""
