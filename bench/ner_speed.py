"""``make bench-ner``: Newswire's ONNX NER model against spaCy's small English pipeline (the baseline,
measured in the same run) on ~700-word news articles, whole text, with two threads.

Each backend runs in its own process, so its load time and peak memory are its own: the time to build
the tagger (imports included), articles per second over the set after one warm-up article, and the
process's peak resident memory, and the CPU time an article costs (which, unlike wall-clock speed,
does not depend on what else the shared machine runs). The articles are GUM's Wikinews documents
(CC BY 2.5) cut or joined to about 700 words. The last line is one JSON object with both sides and their ratios.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORDS = 700


def articles(data: Path, count: int) -> list[str]:
    sys.path.insert(0, str(ROOT))
    from services.extract.ner_model.corpora import document_text, load_gum

    words: list[str] = []
    for split in ("test", "dev", "train"):
        for doc in load_gum(data / "gum", split):
            if doc.genre == "news":
                words += document_text(doc)[0].split(" ")
    out = []
    for i in range(count):
        start = (i * WORDS) % max(len(words) - WORDS, 1)
        out.append(" ".join(words[start : start + WORDS]))
    return out


def child(backend: str, data: Path, count: int, threads: int) -> dict[str, float]:
    texts = articles(data, count)
    started = time.perf_counter()
    if backend == "newswire":
        from services.extract.onnx_tagger import OnnxTagger
        from services.extract.settings import ExtractSettings

        # The overlap the extract worker uses (NEWSWIRE_NER_STRIDE's default).
        tagger = OnnxTagger(stride=ExtractSettings.model_fields["ner_stride"].default, threads=threads)
    else:
        from services.extract.taggers import SpacyTagger

        tagger = SpacyTagger()  # type: ignore[assignment]
    load_s = time.perf_counter() - started
    tagger.tag(texts[0], "body")
    started, cpu = time.perf_counter(), time.process_time()
    mentions = sum(len(tagger.tag(text, "body")) for text in texts)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {
        "load_s": round(load_s, 3),
        "articles_per_s": round(len(texts) / elapsed, 2),
        # CPU seconds an article costs, all threads together: on a shared machine wall-clock speed
        # depends on the neighbours; this does not, and threads / it bounds the speed on idle cores.
        "cpu_s_per_article": round(cpu / len(texts), 4),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "mentions": mentions,
        "words_per_article": round(sum(len(t.split()) for t in texts) / len(texts)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "ner")
    parser.add_argument("--articles", type=int, default=60)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--child", choices=["newswire", "spacy"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.data, args.articles, args.threads)))
        return
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads), "MKL_NUM_THREADS": str(args.threads)}
    results = {}
    for backend in ("spacy", "newswire"):
        command = [sys.executable, __file__, "--child", backend, "--data", str(args.data)]
        command += ["--articles", str(args.articles), "--threads", str(args.threads)]
        done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, check=True)
        results[backend] = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"{backend:>9}: {results[backend]}", flush=True)
    new, base = results["newswire"], results["spacy"]
    summary = {
        "bench": "ner_speed",
        "threads": args.threads,
        "articles": args.articles,
        "words_per_article": new["words_per_article"],
        "newswire_onnx_int8": new,
        "baseline_spacy_sm": base,
        "ratios_newswire_over_spacy": {
            "articles_per_s": round(new["articles_per_s"] / base["articles_per_s"], 3),
            "cpu_s_per_article": round(new["cpu_s_per_article"] / base["cpu_s_per_article"], 3),
            "load_s": round(new["load_s"] / base["load_s"], 3),
            "peak_rss_mb": round(new["peak_rss_mb"] / base["peak_rss_mb"], 3),
        },
        "idle_articles_per_s_bound": round(args.threads / new["cpu_s_per_article"], 1),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "targets_met": {
            "articles_per_s>=12": new["articles_per_s"] >= 12,
            "load_s<2": new["load_s"] < 2,
            "peak_rss_mb<300": new["peak_rss_mb"] < 300,
        },
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
