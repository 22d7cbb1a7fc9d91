"""The worker's wire format: one JSON object per line on a private pipe, in both directions."""

from __future__ import annotations

import json
from typing import Any

from server.store.records import QuestionRecord, SubmissionRecord


def encode(message: dict[str, Any]) -> bytes:
    return (json.dumps(message) + "\n").encode("utf-8")


def decode(line: bytes) -> dict[str, Any]:
    return json.loads(line.decode("utf-8"))


def job_message(sub: SubmissionRecord, question: QuestionRecord) -> dict[str, Any]:
    variant = question.variant
    return {
        "id": sub.id,
        "model_path": sub.snapshot_path,
        "format": sub.format,
        "task": variant["task"],
        "input_shape": variant["input_shape"],
        "output_shape": variant["output_shape"],
        "final_activation": variant.get("final_activation"),
        "metric": variant["metric"],
        "scoring": variant["scoring"],
        "params": variant.get("params", {}),
        "heldout_path": question.heldout_path,
    }
