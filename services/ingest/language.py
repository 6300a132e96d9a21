"""Text that needs fixing before anything downstream sees it: Burmese in the Zawgyi encoding, and
articles whose feed does not say their language.

Zawgyi is a font hack that reuses Unicode's Myanmar code points with other meanings; Radio Free Asia
and other Myanmar outlets still publish in it next to real Unicode. Google's detector
(``myanmartools``) gives the probability that a string is Zawgyi, and ``python-myanmar``'s converter
turns it into Unicode. Only text with Myanmar characters is looked at, so other languages cost one
regular-expression search.

The detector and the language model load on first use (not at import) and are shared by threads.
"""

import re
import threading
import warnings
from typing import Any

_MYANMAR = re.compile(r"[\u1000-\u109f]")
# Above this the detector's authors call a string Zawgyi; mixed or short strings score lower.
ZAWGYI_THRESHOLD = 0.95
_lock = threading.Lock()
_loaded: dict[str, Any] = {}


def _detector() -> Any:
    with _lock:
        if "zawgyi" not in _loaded:
            import myanmartools

            with warnings.catch_warnings():
                # myanmartools 1.2 reads its model with a deprecated importlib call; harmless.
                warnings.simplefilter("ignore", DeprecationWarning)
                _loaded["zawgyi"] = myanmartools.ZawgyiDetector()
        return _loaded["zawgyi"]


def is_zawgyi(text: str) -> bool:
    if not text or not _MYANMAR.search(text):
        return False
    return float(_detector().get_zawgyi_probability(text)) >= ZAWGYI_THRESHOLD


def from_zawgyi(text: str) -> tuple[str, bool]:
    """``text`` with Zawgyi-encoded Burmese converted to Unicode, and whether it was converted."""
    if not is_zawgyi(text):
        return text, False
    from myanmar import converter

    converted: str = converter.convert(text, "zawgyi", "unicode")
    return converted, True


def _identifier() -> Any:
    with _lock:
        if "langid" not in _loaded:
            from py3langid.langid import MODEL_FILE, LanguageIdentifier

            _loaded["langid"] = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        return _loaded["langid"]


def detect(text: str, min_probability: float = 0.8) -> str | None:
    """The ISO 639-1 code of ``text``'s language, or None when unsure or there is too little text."""
    sample = " ".join(text.split())[:2000]
    if len(sample) < 20:
        return None
    code, probability = _identifier().classify(sample)
    return str(code) if float(probability) >= min_probability else None
