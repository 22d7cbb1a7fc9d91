"""Data set tests never download (TFEXAM_OFFLINE=1 makes the resolver stop before the web)."""

from __future__ import annotations

import os

os.environ["TFEXAM_OFFLINE"] = "1"
