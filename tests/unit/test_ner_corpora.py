"""Reading the NER corpora into PER/ORG/LOC spans: the conversions the model is trained and scored on."""

from pathlib import Path

import pytest

from services.extract.ner_model.corpora import (
    Document,
    Sentence,
    Span,
    bio_spans,
    document_text,
    gum_places,
    read_conll,
    read_gum,
    to_bio,
)
from services.extract.ner_model.silver import silver_documents


@pytest.mark.parametrize(
    ("tags", "spans"),
    [
        (["B-PER", "I-PER", "O", "B-LOC"], [(0, 2, "PER"), (3, 4, "LOC")]),
        (["I-ORG", "I-ORG", "I-LOC"], [(0, 2, "ORG"), (2, 3, "LOC")]),  # IOB1: a type change starts one
        (["B-PER", "B-PER"], [(0, 1, "PER"), (1, 2, "PER")]),
        (["O", "I-PER"], [(1, 2, "PER")]),
        ([], []),
    ],
)
def test_bio_spans_reads_bio_and_iob1(tags: list[str], spans: list[tuple[int, int, str]]) -> None:
    assert bio_spans(tags) == spans
    assert bio_spans(to_bio(len(tags), spans)) == spans


def test_read_conll_splits_documents_and_drops_misc(tmp_path: Path) -> None:
    path = tmp_path / "wiki.txt"
    path.write_text(
        "-DOCSTART- O\n\nNaw I-PER\nBu I-PER\nvisited O\nMyitkyina I-LOC\n\nFrench I-MISC\nwine O\n\n"
        "-DOCSTART- O\n\nKIA I-ORG\n",
        encoding="utf-8",
    )
    docs = read_conll(path, "wikigold", "wiki", sep=" ")

    assert [len(d.sentences) for d in docs] == [2, 1]
    assert docs[0].sentences[0].tags == ["B-PER", "I-PER", "O", "B-LOC"]
    assert docs[0].sentences[1].tags == ["O", "O"]
    assert docs[1].sentences[0].tags == ["B-ORG"]


# A GUM-style CoNLL-U sentence: "The Kachin Independence Army of Myanmar met the Americans in Laiza ."
# ID FORM LEMMA UPOS XPOS FEATS HEAD DEPREL DEPS MISC
_GUM = """# newdoc id = GUM_news_test
# text = The Kachin Independence Army of Myanmar met the Americans in Laiza.
1\tThe\tthe\tDET\tDT\t_\t4\tdet\t_\tEntity=(1-organization-new-s-cf1-4-sgl-Kachin_Independence_Army
2\tKachin\tKachin\tPROPN\tNNP\t_\t4\tcompound\t_\t_
3\tIndependence\tIndependence\tPROPN\tNNP\t_\t4\tcompound\t_\t_
4\tArmy\tArmy\tPROPN\tNNP\t_\t7\tnsubj\t_\t_
5\tof\tof\tADP\tIN\t_\t6\tcase\t_\t_
6\tMyanmar\tMyanmar\tPROPN\tNNP\t_\t4\tnmod\t_\tEntity=(2-organization-new-s-cf1-1-sgl-Myanmar)1)
7\tmet\tmeet\tVERB\tVBD\t_\t0\troot\t_\t_
8\tthe\tthe\tDET\tDT\t_\t9\tdet\t_\tEntity=(3-person-new-s-cf1-2-sgl
9\tAmericans\tAmerican\tPROPN\tNNPS\t_\t7\tobj\t_\tEntity=3)
10\tin\tin\tADP\tIN\t_\t11\tcase\t_\t_
11\tLaiza\tLaiza\tPROPN\tNNP\t_\t7\tobl\t_\tEntity=(4-place-new-s-cf1-1-sgl-Myanmar)|SpaceAfter=No
12\t.\t.\tPUNCT\t.\t_\t7\tpunct\t_\tEntity=(5-event-new-s-cf1-1-sgl)

"""


def test_read_gum_keeps_named_mentions_conll_style(tmp_path: Path) -> None:
    path = tmp_path / "GUM_news_test.conllu"
    path.write_text(_GUM, encoding="utf-8")

    doc = read_gum(path, gum_places([path]))

    (sentence,) = doc.sentences
    found = [(" ".join(sentence.tokens[a:b]), label) for a, b, label in bio_spans(sentence.tags)]
    # The article is stripped, the nested "Myanmar" gives way to the outer organization, the plural
    # group "Americans" is not a person, and the event type is not ours.
    assert found == [("Kachin Independence Army of Myanmar", "ORG"), ("Laiza", "LOC")]
    assert doc.genre == "news"
    assert sentence.spaces[10] is False


def test_gum_organization_that_is_also_a_place_is_a_place(tmp_path: Path) -> None:
    path = tmp_path / "GUM_news_test.conllu"
    # Only "Myanmar" as a mention of its own, typed organization (a country acting) in GUM.
    path.write_text(
        _GUM.replace("Entity=(1-organization-new-s-cf1-4-sgl-Kachin_Independence_Army", "_").replace(
            "-Myanmar)1)", "-Myanmar)"
        ),
        encoding="utf-8",
    )

    (sentence,) = read_gum(path, {"Myanmar"}).sentences
    assert ("Myanmar", "LOC") in [(sentence.tokens[a], label) for a, b, label in bio_spans(sentence.tags)]
    (sentence,) = read_gum(path, set()).sentences
    assert ("Myanmar", "ORG") in [(sentence.tokens[a], label) for a, b, label in bio_spans(sentence.tags)]


def test_document_text_gives_exact_character_spans() -> None:
    doc = Document(
        "d",
        "gum",
        "news",
        [
            Sentence(
                ["Naw", "Bu", "left", "Laiza", "."],
                ["B-PER", "I-PER", "O", "B-LOC", "O"],
                [True, True, True, False, True],
            ),
            Sentence(["KIA", "said"], ["B-ORG", "O"], [True, True]),
        ],
    )
    text, spans = document_text(doc)

    assert text == "Naw Bu left Laiza. \nKIA said \n"
    assert [(text[s.start : s.end], s.label) for s in spans] == [("Naw Bu", "PER"), ("Laiza", "LOC"), ("KIA", "ORG")]
    assert spans[0] == Span(0, 6, "PER")


# "NASA Administrator Charles Bolden, who leads it, spoke in the United States."
_GUM_TITLES = """# newdoc id = GUM_news_titles
1\tNASA\tNASA\tPROPN\tNNP\t_\t2\tcompound\t_\tEntity=(1-person-new-s-cf1-3-sgl(2-organization-new-s-cf1-1-sgl)
2\tAdministrator\tAdministrator\tPROPN\tNNP\t_\t3\tnmod:desc\t_\t_
3\tCharles\tCharles\tPROPN\tNNP\t_\t10\tnsubj\t_\t_
4\tBolden\tBolden\tPROPN\tNNP\t_\t3\tflat\t_\tSpaceAfter=No
5\t,\t,\tPUNCT\t,\t_\t7\tpunct\t_\t_
6\twho\twho\tPRON\tWP\t_\t7\tnsubj\t_\t_
7\tleads\tlead\tVERB\tVBZ\t_\t3\tacl:relcl\t_\t_
8\tit\tit\tPRON\tPRP\t_\t7\tobj\t_\tSpaceAfter=No
9\t,\t,\tPUNCT\t,\t_\t3\tpunct\t_\tEntity=1)
10\tspoke\tspeak\tVERB\tVBD\t_\t0\troot\t_\t_
11\tin\tin\tADP\tIN\t_\t14\tcase\t_\t_
12\tthe\tthe\tDET\tDT\t_\t14\tdet\t_\tEntity=(3-place-new-s-cf1-3-sgl-United_States
13\tUnited\tUnite\tVERB\tVBN\t_\t14\tamod\t_\t_
14\tStates\tStates\tPROPN\tNNPS\t_\t10\tobl\t_\tEntity=3)|SpaceAfter=No
15\t.\t.\tPUNCT\t.\t_\t10\tpunct\t_\t_

"""


def test_gum_names_leave_out_titles_appositions_and_clauses(tmp_path: Path) -> None:
    path = tmp_path / "GUM_news_titles.conllu"
    path.write_text(_GUM_TITLES, encoding="utf-8")

    (sentence,) = read_gum(path, set()).sentences

    found = [(" ".join(sentence.tokens[a:b]), label) for a, b, label in bio_spans(sentence.tags)]
    # The person mention runs to the relative clause; its name is "Charles Bolden", and the nested
    # organisation it held is free again. "United" is a verb in UD, yet part of the name.
    assert found == [("NASA", "ORG"), ("Charles Bolden", "PER"), ("United States", "LOC")]


def test_silver_documents_are_labelled_by_construction_and_reproducible() -> None:
    docs = silver_documents(40, seed=3)
    assert silver_documents(40, seed=3) == docs
    assert silver_documents(40, seed=4) != docs
    found: dict[str, set[str]] = {"PER": set(), "ORG": set(), "LOC": set()}
    outside: set[str] = set()
    for doc in docs:
        text, spans = document_text(doc)
        for span in spans:
            found[span.label].add(text[span.start : span.end])
        for sentence in doc.sentences:
            outside.update(t for t, tag in zip(sentence.tokens, sentence.tags, strict=True) if tag == "O")
    # Acronyms and long forms are organisations; states are places without the lower-case "state".
    assert {"KIA", "Kachin Independence Army"} & found["ORG"]
    assert any(o.isupper() for o in found["ORG"])
    assert "Kachin" in found["LOC"] | outside
    assert not any(name.endswith((" state", " township", "’s", "'s")) for name in found["LOC"])
    assert {name.split()[-1] for name in found["LOC"]} >= {"State", "Region", "Township"}
    # Titles and possessives stay outside names; the domain's common nouns are never names.
    assert not any(name.split()[0] in {"Col.", "Gen.", "Dr.", "President"} for name in found["PER"])
    assert {"junta", "’", "Chinese"} & outside
    assert not {"junta", "Chinese", "Burmese", "Wednesday"} & (found["PER"] | found["ORG"] | found["LOC"])


def test_silver_hold_out_leaves_out_every_sentence_naming_a_held_out_entity() -> None:
    held = frozenset({"KIA", "China", "Kachin"})
    kept = silver_documents(60, seed=5, hold_out=held)
    full = silver_documents(60, seed=5)
    names = set()
    for doc in kept:
        text, spans = document_text(doc)
        names |= {text[s.start : s.end] for s in spans}
    assert not names & held
    assert sum(len(d.sentences) for d in kept) < sum(len(d.sentences) for d in full)
