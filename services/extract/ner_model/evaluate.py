"""``make eval-ner``: entity-level precision, recall and F1 (exact character spans and type) per type,
for Newswire's model and spaCy's small English pipeline side by side, on GUM's test split, on its news
genre alone, and on the project's own gold articles. The last line printed is one JSON object.

Each tagger gets whole documents as plain text (sentences on their own lines), as the extract worker
gets an article body, so Newswire's model is measured through its windowing too.
"""

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from services.extract.ner_model.corpora import TYPES, Span, document_text, load_gum

Tag = Callable[[str], list[Span]]


@dataclass
class Counts:
    true_pos: int = 0
    predicted: int = 0
    gold: int = 0

    def scores(self) -> dict[str, float]:
        p = self.true_pos / self.predicted if self.predicted else 0.0
        r = self.true_pos / self.gold if self.gold else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        return {"p": round(p, 4), "r": round(r, 4), "f1": round(f, 4), "n": self.gold}


def score(gold: Sequence[set[Span]], predicted: Sequence[set[Span]]) -> dict[str, dict[str, float]]:
    """Per-type and micro scores over PER, ORG and LOC; other predicted types are ignored."""
    counts = {t: Counts() for t in (*TYPES, "micro")}
    for g, p in zip(gold, predicted, strict=True):
        p = {s for s in p if s.label in TYPES}
        for kind in TYPES:
            gk = {s for s in g if s.label == kind}
            pk = {s for s in p if s.label == kind}
            for c in (counts[kind], counts["micro"]):
                c.true_pos += len(gk & pk)
                c.predicted += len(pk)
                c.gold += len(gk)
    return {k: c.scores() for k, c in counts.items()}


def gold_articles(folder: Path) -> list[tuple[str, set[Span]]]:
    """Gold articles as JSON files ``{"text": ..., "entities": [{"start", "end", "label"}, ...]}``."""
    out = []
    for path in sorted(folder.glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        text = doc["text"]
        spans = {Span(int(e["start"]), int(e["end"]), str(e["label"])) for e in doc["entities"]}
        out.append((text, spans))
    return out


def taggers(model: Path, extra: list[str], threads: int) -> dict[str, Tag]:
    from services.extract.onnx_tagger import OnnxTagger
    from services.extract.taggers import SpacyTagger

    def wrap(tagger: Any) -> Tag:
        return lambda text: [Span(m.start, m.end, m.label) for m in tagger.tag(text, "body")]

    found = {"newswire": wrap(OnnxTagger(model, threads=threads))}
    for item in extra:
        name, _, path = item.partition("=")
        found[name] = wrap(OnnxTagger(Path(path), threads=threads))
    found["spacy-sm"] = wrap(SpacyTagger())
    return found


def table(name: str, results: dict[str, dict[str, dict[str, float]]]) -> str:
    names = list(results)
    lines = [f"\n{name}", f"{'type':<6} {'gold':>5}  " + "  ".join(f"{n:>20}" for n in names)]
    lines.append(f"{'':<6} {'':>5}  " + "  ".join(f"{'P     R     F1':>20}" for _ in names))
    for kind in (*TYPES, "micro"):
        n = int(next(iter(results.values()))[kind]["n"])
        cells = [f"{r[kind]['p']:.3f} {r[kind]['r']:.3f} {r[kind]['f1']:.3f}" for r in results.values()]
        lines.append(f"{kind:<6} {n:>5}  " + "  ".join(f"{c:>20}" for c in cells))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    from services.extract.onnx_tagger import MODEL_DIR

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("../shared/data/ner"))
    parser.add_argument("--model", type=Path, default=MODEL_DIR)
    parser.add_argument("--gold", type=Path, action="append", default=[], help="folder of gold article JSON")
    parser.add_argument("--extra", action="append", default=[], help="NAME=MODEL_DIR: another model to compare")
    parser.add_argument("--split", default="test", help="GUM split (dev while choosing settings)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)

    docs = load_gum(args.data / "gum", args.split)
    texts = [document_text(d) for d in docs]
    sets: dict[str, list[tuple[str, set[Span]]]] = {
        f"GUM {args.split} (all {len(docs)} documents)": [(t, set(s)) for t, s in texts],
        f"GUM {args.split}, news genre": [
            (t, set(s)) for d, (t, s) in zip(docs, texts, strict=True) if d.genre == "news"
        ],
    }
    for folder in args.gold:
        articles = gold_articles(folder)
        if articles:
            sets[f"gold articles in {folder} ({len(articles)})"] = articles
        else:
            print(f"no gold articles in {folder}", file=sys.stderr)

    runners = taggers(args.model, args.extra, args.threads)
    summary: dict[str, Any] = {}
    for set_name, items in sets.items():
        results = {}
        for tagger_name, tag in runners.items():
            predicted = [set(tag(text)) for text, _ in items]
            results[tagger_name] = score([g for _, g in items], predicted)
        print(table(set_name, results), flush=True)
        summary[set_name] = {
            name: {"micro_f1": r["micro"]["f1"], **{k: r[k]["f1"] for k in TYPES}} for name, r in results.items()
        }
        summary[set_name]["newswire_minus_spacy_f1_points"] = round(
            100 * (results["newswire"]["micro"]["f1"] - results["spacy-sm"]["micro"]["f1"]), 1
        )
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
