"""Sentences of (word, tag) into model inputs: word pieces, their case types and one label per piece.

Every piece is labelled (the first piece of a word with the word's tag, the rest with ``I-`` of its
type), so the tagger can read labels straight off the pieces of raw text, whose pre-tokenizer may cut a
corpus token such as "U.S." into several words.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from services.extract.casing import case_type
from services.extract.ner_model.corpora import LABELS, Document

LABEL_IDS = {label: i for i, label in enumerate(LABELS)}


@dataclass
class Example:
    input_ids: list[int]
    token_type_ids: list[int]
    labels: list[int]


def _continuation(tag: str) -> str:
    return "I-" + tag[2:] if tag != "O" else "O"


def encode_words(tokenizer: Any, words: list[str], tags: list[str], max_length: int) -> Example:
    enc = tokenizer(
        words,
        is_split_into_words=True,
        truncation=True,
        max_length=max_length,
        return_offsets_mapping=True,
        add_special_tokens=True,
    )
    types: list[int] = []
    labels: list[int] = []
    previous = None
    for word, (start, end) in zip(enc.word_ids(), enc["offset_mapping"], strict=True):
        if word is None:
            types.append(0)
            labels.append(-100)  # [CLS] and [SEP] are not scored
            continue
        types.append(case_type(words[word][start:end]))
        tag = tags[word] if word != previous else _continuation(tags[word])
        labels.append(LABEL_IDS[tag])
        previous = word
    return Example(list(enc["input_ids"]), types, labels)


def pack(tokenizer: Any, docs: Iterable[Document], max_length: int) -> list[Example]:
    """Consecutive sentences of a document packed into examples of at most ``max_length`` pieces: the
    model sees context across sentence ends, as it does on the windows of a whole article."""
    examples: list[Example] = []
    budget = max_length - 2
    for doc in docs:
        words: list[str] = []
        tags: list[str] = []
        used = 0
        for sentence in doc.sentences:
            pieces = [len(tokenizer.tokenize(w)) or 1 for w in sentence.tokens]
            size = sum(pieces)
            if words and used + size > budget:
                examples.append(encode_words(tokenizer, words, tags, max_length))
                words, tags, used = [], [], 0
            words += sentence.tokens
            tags += sentence.tags
            used += size
        if words:
            examples.append(encode_words(tokenizer, words, tags, max_length))
    return examples
