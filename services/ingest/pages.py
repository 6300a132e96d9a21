"""The main text of an article page, for feeds that carry only a summary: trafilatura, which drops
navigation, comments and "related stories" lists, so that they never reach the tagger."""

import logging


def extract_main_text(html: bytes) -> str:
    import trafilatura

    # trafilatura logs every page it finds little in at WARNING; our own line says what happened.
    logging.getLogger("trafilatura").setLevel(logging.ERROR)

    text = trafilatura.extract(
        html, include_comments=False, include_tables=False, include_links=False, favor_precision=True
    )
    if not text:
        return ""
    paragraphs = (" ".join(line.split()) for line in text.split("\n"))
    return "\n\n".join(p for p in paragraphs if p)
