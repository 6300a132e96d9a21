"""The letter case of a word piece, as a small number the model reads through its token-type
embeddings.

Newswire's NER model starts from an uncased encoder (all-MiniLM-L6-v2), whose tokenizer lowercases
everything: "Junta" and "junta", "KIA" and "kia" look alike to it, yet capitals are the strongest single
clue to a name in English news. The model therefore gets each piece's case from the original text as its
token type (BERT's segment embedding, otherwise unused for tagging), so the network and its ONNX export
stay a plain ``BertForTokenClassification`` with the usual three inputs.
"""

LOWER = 0  # no capitals, or no letters at all (punctuation, digits, special tokens)
TITLE = 1  # first letter a capital, not all capitals ("Myitkyina", "I", the "K" of "K.I.A")
UPPER = 2  # two or more letters, all capitals ("KIA", "NUG")
MIXED = 3  # a capital after a lower-case first letter ("iPhone", "eBay")
CASE_TYPES = 4


def case_type(piece: str) -> int:
    """The case class of ``piece``, a word piece as it appears in the original text."""
    letters = [c for c in piece if c.isalpha()]
    if not letters:
        return LOWER
    if letters[0].isupper():
        return UPPER if len(letters) > 1 and all(c.isupper() for c in letters) else TITLE
    return MIXED if any(c.isupper() for c in letters) else LOWER
