"""Build a tiny, deterministic token-classification model with ``save_pretrained``.

The real loading code (AutoTokenizer, AutoModelForTokenClassification, the pipeline) runs on it, and
its predictions are known in advance: each vocabulary word carries one label, whatever its context,
so a test can tell exactly which entities must be found, in which window.
"""

from pathlib import Path

import torch
from transformers import BertConfig, BertForTokenClassification, BertTokenizer

LABELS = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"]
# Words the model knows, with the label it gives each; every other word is [UNK], labelled O.
WORD_LABELS = {
    "naw": "B-PER",
    "bu": "I-PER",
    "kachin": "B-ORG",
    "army": "I-ORG",
    "myitkyina": "B-LOC",
    "the": "O",
    "town": "O",
    "fell": "O",
}
SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
HIDDEN = 16


def _direction(label_index: int) -> torch.Tensor:
    # Zero-mean, so LayerNorm keeps its direction: the label survives the embedding layer intact.
    vector = torch.zeros(HIDDEN)
    vector[2 * label_index] = 1.0
    vector[2 * label_index + 1] = -1.0
    return vector


def build(folder: Path, max_length: int = 16) -> Path:
    vocab = SPECIAL + list(WORD_LABELS)
    folder.mkdir(parents=True, exist_ok=True)
    # transformers 5's BertTokenizer is the fast (Rust) one, which windowing with offsets needs.
    tokenizer = BertTokenizer(vocab={token: i for i, token in enumerate(vocab)}, do_lower_case=True)
    tokenizer.model_max_length = max_length
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=HIDDEN,
        num_hidden_layers=0,
        num_attention_heads=1,
        intermediate_size=HIDDEN,
        max_position_embeddings=max_length,
        id2label=dict(enumerate(LABELS)),
        label2id={label: i for i, label in enumerate(LABELS)},
    )
    model = BertForTokenClassification(config)
    with torch.no_grad():
        embeddings = model.bert.embeddings
        embeddings.word_embeddings.weight.zero_()
        embeddings.position_embeddings.weight.zero_()
        embeddings.token_type_embeddings.weight.zero_()
        for token_id, token in enumerate(vocab):
            label = WORD_LABELS.get(token, "O")
            embeddings.word_embeddings.weight[token_id] = _direction(LABELS.index(label))
        embeddings.LayerNorm.weight.fill_(1.0)
        embeddings.LayerNorm.bias.zero_()
        model.classifier.weight.copy_(torch.stack([_direction(i) for i in range(len(LABELS))]))
        model.classifier.bias.zero_()
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
