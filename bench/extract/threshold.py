"""Measure the fuzzy linking threshold on labelled name pairs (tests/gold/name_pairs.tsv).

For each threshold, precision and recall of ``similarity.similar`` on the pairs: a wrong merge is
worse than a missed one, so the threshold chosen is the lowest with precision 1.0. Prints a table
and, last, one JSON line with the sweep and the lowest threshold that keeps precision at 1.0.
"""

import json
import sys
from pathlib import Path

from services.extract import similarity
from services.extract.surface import name_key

PAIRS = Path(__file__).resolve().parents[2] / "tests" / "gold" / "name_pairs.tsv"


def load(path: Path = PAIRS) -> list[tuple[str, str, bool]]:
    pairs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#") or line.startswith("a\t"):
            continue
        a, b, same = line.split("\t")
        pairs.append((name_key(a), name_key(b), same.strip() == "1"))
    return pairs


def sweep(pairs: list[tuple[str, str, bool]], thresholds: list[float]) -> list[dict[str, float]]:
    rows = []
    for threshold in thresholds:
        tp = sum(1 for a, b, same in pairs if same and similarity.similar(a, b, threshold))
        fp = sum(1 for a, b, same in pairs if not same and similarity.similar(a, b, threshold))
        positives = sum(1 for *_, same in pairs if same)
        precision = tp / (tp + fp) if tp + fp else 1.0
        rows.append({"threshold": threshold, "precision": round(precision, 3), "recall": round(tp / positives, 3)})
    return rows


def main() -> int:
    pairs = load()
    rows = sweep(pairs, [float(t) for t in range(70, 97, 2)])
    print(f"{'threshold':>9} {'precision':>9} {'recall':>7}")
    for row in rows:
        print(f"{row['threshold']:>9.0f} {row['precision']:>9.3f} {row['recall']:>7.3f}")
    safe = [r["threshold"] for r in rows if r["precision"] == 1.0]
    print(
        json.dumps(
            {
                "pairs": len(pairs),
                "sweep": rows,
                "lowest_precise_threshold": min(safe) if safe else None,
                "configured": similarity.MATCH_THRESHOLD,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
