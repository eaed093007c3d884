"""What the pipeline scripts share: the parties from the command line, and a JSON summary line."""

from __future__ import annotations

import argparse
import json
from typing import Any


def parties(description: str, *, arbiter: bool = True) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--guest", default="9999", help="the guest's party id")
    parser.add_argument("--host", default="10000", help="the host's party id")
    if arbiter:
        parser.add_argument("--arbiter", default="10000", help="the arbiter's party id")
    parser.add_argument("--namespace", default="experiment", help="namespace of the breast tables")
    return parser.parse_args()


def report(summary: dict[str, Any]) -> None:
    print("PIPELINE_RESULT " + json.dumps(summary, default=str, sort_keys=True))


def frame_summary(frame: Any) -> dict[str, Any]:
    """Rows and columns of a pandas DataFrame the pipeline returned, with its ids, labels and scores."""
    summary: dict[str, Any] = {"rows": len(frame), "columns": [str(c) for c in frame.columns]}
    for column in ("id", "label", "predict_score", "predict_result", "predict_detail"):
        if column in frame.columns:
            summary[column] = frame[column].tolist()
    return summary
