"""The trusted side of grading: the supervisor that takes queued jobs, the scorer that holds the
labels and turns bounded predictions into a score, the held-out data and the exam's scoring
rules. Everything here runs in the service and treats every reply as hostile input."""
