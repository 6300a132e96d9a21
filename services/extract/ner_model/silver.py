"""Silver training documents for the Myanmar news domain, written from the project's own gazetteers and
name lists (``make train-ner`` adds them to the human-annotated corpora).

The open corpora hold almost no Burmese names, armed groups or their acronyms, so the model learnt
"KIA" as nothing, "Kachin" as a person and "Kachin Independence Army" as a place. These documents put
such names into sentences shaped like conflict reporting, labelled by construction: every name comes
from a typed list (GeoNames and ``data/places.json`` for places, the lists below for organisations and
people), so its label is known. They also teach what is *not* a name in this domain: "junta",
"military council", "Kachin rebels", "Chinese", weekdays and months, titles before a person's name,
and the possessive "’s" after one.

Conventions are those of ``tests/ner_gold/README.md`` (CoNLL's): "Kachin state" holds the place
"Kachin"; "Shan State", capitalised, is one place; a leading "The" is not part of a name; a title
("Col.") is not part of a person's name; "KIA-controlled" holds the organisation "KIA".

The sentences were written for this module, not taken from any article, and none of the evaluation
sets' texts is used. Deterministic for a given seed.
"""

import json
import random
import re
from collections.abc import Callable

from services.extract.gazetteer import DATA as _DATA
from services.extract.ner_model.corpora import Document, Sentence

# Organisations of the Myanmar news domain: (name, acronym or "").
ORGANISATIONS = [
    ("Kachin Independence Army", "KIA"),
    ("Kachin Independence Organization", "KIO"),
    ("Ta'ang National Liberation Army", "TNLA"),
    ("Myanmar National Democratic Alliance Army", "MNDAA"),
    ("Arakan Army", "AA"),
    ("United League of Arakan", "ULA"),
    ("Karen National Union", "KNU"),
    ("Karen National Liberation Army", "KNLA"),
    ("Karenni National Progressive Party", "KNPP"),
    ("Karenni Army", ""),
    ("Karenni Nationalities Defense Force", "KNDF"),
    ("Chin National Front", "CNF"),
    ("Chin National Army", "CNA"),
    ("Chinland Defense Force", "CDF"),
    ("People's Defense Force", "PDF"),
    ("National Unity Government", "NUG"),
    ("National Unity Consultative Council", "NUCC"),
    ("National League for Democracy", "NLD"),
    ("Union Solidarity and Development Party", "USDP"),
    ("State Administration Council", "SAC"),
    ("United Wa State Army", "UWSA"),
    ("Shan State Progress Party", "SSPP"),
    ("Restoration Council of Shan State", "RCSS"),
    ("Shan State Army-North", "SSA-N"),
    ("Democratic Karen Buddhist Army", "DKBA"),
    ("Border Guard Force", "BGF"),
    ("All Burma Students' Democratic Front", "ABSDF"),
    ("Bamar People's Liberation Army", "BPLA"),
    ("Pa-O National Liberation Army", "PNLA"),
    ("Pa-O National Organisation", "PNO"),
    ("New Democratic Army-Kachin", "NDA-K"),
    ("Three Brotherhood Alliance", ""),
    ("Northern Alliance", ""),
    ("Tatmadaw", ""),
    ("Union Election Commission", "UEC"),
    ("Ministry of Foreign Affairs", ""),
    ("Ministry of Home Affairs", ""),
    ("Ministry of Information", ""),
    ("Ministry of Commerce", ""),
    ("Central Bank of Myanmar", "CBM"),
    ("Myanma Economic Holdings Limited", "MEHL"),
    ("Myanmar Economic Corporation", "MEC"),
    ("Myanma Oil and Gas Enterprise", "MOGE"),
    ("Kachin Baptist Convention", "KBC"),
    ("Assistance Association for Political Prisoners", "AAPP"),
    ("Kachin Women's Association Thailand", "KWAT"),
    ("Radio Free Asia", "RFA"),
    ("Voice of America", "VOA"),
    ("Democratic Voice of Burma", "DVB"),
    ("Associated Press", "AP"),
    ("Agence France-Presse", "AFP"),
    ("Reuters", ""),
    ("BenarNews", ""),
    ("Myanmar Now", ""),
    ("Mizzima", ""),
    ("Frontier Myanmar", ""),
    ("Khit Thit Media", ""),
    ("Global New Light of Myanmar", ""),
    ("United Nations", "UN"),
    ("UN Security Council", ""),
    ("UN Human Rights Council", ""),
    ("Office of the UN High Commissioner for Refugees", "UNHCR"),
    ("World Food Programme", "WFP"),
    ("UNICEF", ""),
    ("Association of Southeast Asian Nations", "ASEAN"),
    ("European Union", "EU"),
    ("International Committee of the Red Cross", "ICRC"),
    ("International Criminal Court", "ICC"),
    ("International Court of Justice", "ICJ"),
    ("Human Rights Watch", ""),
    ("Amnesty International", ""),
    ("International Crisis Group", ""),
    ("Fortify Rights", ""),
    ("Institute for Strategy and Policy", "ISP"),
    ("Chinese Foreign Ministry", ""),
    ("People's Liberation Army", "PLA"),
    ("Indian Army", ""),
    ("Royal Thai Army", ""),
    ("State Department", ""),
    ("World Bank", ""),
    ("Asian Development Bank", "ADB"),
]
# Names "The" comes before in running text but is not part of ("told The Irrawaddy").
THE_ORGANISATIONS = ["Irrawaddy", "Myanmar Times", "Diplomat", "New York Times", "Guardian", "Economist"]

# Syllables of Burmese and Kachin personal names; a name is two to four of them.
_BURMESE = [
    "Aung",
    "San",
    "Suu",
    "Kyi",
    "Min",
    "Hlaing",
    "Win",
    "Myint",
    "Thein",
    "Sein",
    "Soe",
    "Zaw",
    "Tun",
    "Kyaw",
    "Htet",
    "Naing",
    "Moe",
    "Thu",
    "Zin",
    "Mar",
    "Ye",
    "Lwin",
    "Thant",
    "Hla",
    "Thet",
    "Nyein",
    "Chan",
    "Phyo",
    "Wai",
    "Yan",
    "Ko",
    "Ni",
    "Khin",
    "Nyo",
    "Thida",
    "Htun",
    "Oo",
    "Lin",
    "Htoo",
    "Myo",
    "Sandar",
    "Ei",
    "Phyu",
    "Pyae",
    "Sone",
    "Thura",
    "Wunna",
    "Nay",
    "Shwe",
    "Maung",
    "Bo",
    "Tin",
    "Kyi",
    "Than",
    "Swe",
    "Kyaing",
    "Nwe",
]
_KACHIN_FIRST = [
    "Naw",
    "Zau",
    "Seng",
    "Brang",
    "Gam",
    "Tu",
    "Ja",
    "Bawk",
    "Lu",
    "Roi",
    "Hkun",
    "La",
    "Nang",
    "Lahpai",
    "Maran",
    "Hpauyu",
    "Labang",
]
_KACHIN_REST = [
    "Bu",
    "Tawng",
    "Awng",
    "Ring",
    "Dau",
    "Hkawng",
    "Ja",
    "Li",
    "Nu",
    "Tang",
    "Seng",
    "Naw",
    "Gun",
    "Lat",
    "Htoi",
    "Mun",
    "Raw",
]
# Other people in this news: diplomats, officials and researchers from elsewhere.
_FIRST = [
    "Tom",
    "Antonio",
    "Julie",
    "Wang",
    "Noeleen",
    "Xi",
    "Anthony",
    "Richard",
    "David",
    "Sarah",
    "Maria",
    "Ahmed",
    "Priya",
    "Hiroshi",
    "Kim",
    "Emma",
    "Daniel",
    "Ravi",
    "Nadia",
    "Carlos",
    "Elena",
    "Marcus",
    "Helen",
    "Joseph",
    "Anna",
    "Michael",
    "Laura",
]
_LAST = [
    "Andrews",
    "Guterres",
    "Bishop",
    "Yi",
    "Heyzer",
    "Jinping",
    "Blinken",
    "Horsey",
    "Mathieson",
    "Smith",
    "Kumar",
    "Tanaka",
    "Lee",
    "Chen",
    "Garcia",
    "Rossi",
    "Johnson",
    "Williams",
    "Brown",
    "Davis",
    "Miller",
    "Wilson",
    "Moore",
    "Taylor",
    "Clarke",
    "Nguyen",
]
# Titles and honorifics before a person's name; not part of it.
_TITLE_PHRASES = [
    "Col.",
    "Gen.",
    "Lt-Gen.",
    "Maj. Gen.",
    "Brig. Gen.",
    "Capt.",
    "Senior Gen.",
    "Senior General",
    "Colonel",
    "General",
    "Major",
    "Captain",
    "President",
    "Minister",
    "Deputy Minister",
    "Dr.",
    "Mr.",
    "Ms.",
    "Prime Minister",
    "Foreign Minister",
    "Ambassador",
    "Secretary-General",
    "acting President",
]

# Neighbours and places beyond Myanmar that its news names.
_WORLD = [
    "China",
    "India",
    "Thailand",
    "Bangladesh",
    "Laos",
    "Yunnan",
    "Ruili",
    "Tengchong",
    "Mizoram",
    "Manipur",
    "Bangkok",
    "Beijing",
    "Washington",
    "Dhaka",
    "Delhi",
    "Tak",
    "Kunming",
    "Geneva",
    "Singapore",
    "Jakarta",
    "Malaysia",
    "Japan",
    "Russia",
    "Asia",
]
_WORLD_MULTI = [
    "Mae Sot",
    "Chiang Mai",
    "Cox's Bazar",
    "New Delhi",
    "Southeast Asia",
    "Bay of Bengal",
    "Andaman Sea",
    "Indian Ocean",
    "Salween River",
    "Irrawaddy River",
    "Chindwin River",
    "Golden Triangle",
    "United States",
    "South Korea",
    "New York",
    "Hong Kong",
]
# Words that look like names to a tagger but are not named entities here (groups, adjectives, nouns).
_GROUPS = ["Kachin", "Shan", "Karen", "Karenni", "Chin", "Rakhine", "Rohingya", "Bamar", "Ta'ang", "Wa", "Kokang"]
# Nationalities are not names here (CoNLL's MISC); a country is a place even as a modifier ("Myanmar
# troops"), so "Myanmar" is not among them.
_DEMONYMS = ["Chinese", "Burmese", "Thai", "Indian", "American", "Japanese", "Russian", "Bangladeshi", "British"]
_MILITARY = [
    "junta",
    "military council",
    "regime",
    "military",
    "army",
    "military government",
    "junta troops",
    "regime forces",
    "resistance forces",
    "rebels",
    "ethnic armed groups",
    "ethnic armed organizations",
]
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_NUMBERS = [
    "two",
    "three",
    "five",
    "dozens of",
    "hundreds of",
    "more than 300",
    "about 1,200",
    "at least 40",
    "12",
    "27",
    "nearly 5,000",
    "thousands of",
]


def _places() -> tuple[list[str], list[str], list[str]]:
    """Myanmar's towns, its states and regions (short names: "Kachin" of "Kachin State"), from the
    gazetteer files extract ships."""
    towns: set[str] = set()
    states: list[str] = []
    regions: list[str] = []
    curated = json.loads((_DATA / "places.json").read_text(encoding="utf-8"))["places"]
    for place in curated:
        name = place["name"]
        if place.get("kind") == "admin1" and name.endswith(" State"):
            states.append(name.removesuffix(" State"))
        elif place.get("kind") == "admin1" and name.endswith(" Region"):
            regions.append(name.removesuffix(" Region"))
        elif place.get("country") == "MM" and place.get("kind") != "admin1":
            towns.update([name, *place.get("aliases", [])])
    geonames = json.loads((_DATA / "geonames.json").read_text(encoding="utf-8"))["places"]
    for place in geonames:
        # Ward and village names with digits or brackets ("No (1) Ward") read like no news text.
        if place.get("country") == "MM" and re.fullmatch(r"[A-Z][A-Za-z' -]+", place["name"]):
            towns.add(place["name"])
    return sorted(towns), sorted(states), sorted(regions)


class _Writer:
    """Builds one sentence as text with labelled character spans."""

    def __init__(self) -> None:
        self.text = ""
        self.spans: list[tuple[int, int, str]] = []

    def add(self, piece: str, label: str = "") -> None:
        if (
            self.text
            and not self.text.endswith((" ", "(", "-", "“", "\n"))
            and not piece.startswith((",", ".", ")", "’", "'", "-", ":", ";"))
        ):
            self.text += " "
        start = len(self.text)
        self.text += piece
        if label:
            self.spans.append((start, len(self.text), label))


_TOKEN = re.compile(r"\w+|[^\w\s]")


def _sentence(writer: _Writer) -> Sentence:
    tokens: list[str] = []
    tags: list[str] = []
    spaces: list[bool] = []
    for match in _TOKEN.finditer(writer.text):
        label = ""
        first = False
        for start, end, kind in writer.spans:
            if start <= match.start() < end:
                label, first = kind, match.start() == start
        tokens.append(match.group())
        tags.append("O" if not label else ("B-" if first else "I-") + label)
        spaces.append(writer.text[match.end() : match.end() + 1] == " ")
    return Sentence(tokens, tags, spaces)


class _Pools:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.towns, self.states, self.regions = _places()

    def person(self) -> str:
        rng = self.rng
        roll = rng.random()
        if roll < 0.5:
            return " ".join(rng.sample(_BURMESE, rng.choice((2, 2, 3, 3, 4))))
        if roll < 0.75:
            return f"{rng.choice(_KACHIN_FIRST)} {rng.choice(_KACHIN_REST)}" + (
                f" {rng.choice(_KACHIN_REST)}" if rng.random() < 0.3 else ""
            )
        return f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"

    def organisation(self) -> tuple[str, str]:
        name, acronym = self.rng.choice(ORGANISATIONS)
        # News sites print the apostrophe either way ("People's", "People’s").
        return (name.replace("'", "’") if self.rng.random() < 0.5 else name), acronym

    def town(self) -> str:
        if self.rng.random() < 0.15:
            return self.rng.choice(_WORLD + _WORLD_MULTI)
        return self.rng.choice(self.towns)


# A template is a function of (writer, pools) that writes one sentence.
Template = Callable[[_Writer, _Pools], None]


def _words(w: _Writer, text: str) -> None:
    for part in text.split(" "):
        if part:
            w.add(part)


def _org(w: _Writer, p: _Pools, long_form: bool | None = None, possessive: bool = False) -> str:
    """An organisation, by name, by acronym or by name with its acronym defined; returns the acronym."""
    name, acronym = p.organisation()
    mark = p.rng.choice(["’s", "'s"]) if possessive else ""
    if acronym and long_form is None:
        long_form = p.rng.random() < 0.35
    if not acronym or long_form:
        w.add(name, "ORG")
        if mark:
            w.add(mark)
        if acronym and p.rng.random() < 0.6:
            w.add("(")
            w.add(acronym, "ORG")
            w.add(")")
        return acronym
    w.add(acronym, "ORG")
    if mark:
        w.add(mark)
    return acronym


def _place(w: _Writer, p: _Pools) -> None:
    """A town, sometimes with its township, state or region in one of the forms news uses."""
    rng = p.rng
    w.add(p.town(), "LOC")
    roll = rng.random()
    if roll < 0.25:
        w.add(rng.choice(["town", "township", "village", "village tract"]))
    if rng.random() < 0.5:
        w.add("in")
        _region(w, p)


def _region(w: _Writer, p: _Pools) -> None:
    """A state, region or township: the capitalised word is part of the name ("Shan State",
    "Sagaing Region", "Waingmaw Township"), the lower-case one is not ("Kachin state")."""
    rng = p.rng
    roll = rng.random()
    if roll < 0.3:
        if rng.random() < 0.3:
            w.add(rng.choice(["northern", "southern", "eastern", "western", "central"]))
        w.add(rng.choice(p.states), "LOC")
        w.add("state")
    elif roll < 0.5:
        w.add(rng.choice(p.states) + " State", "LOC")
    elif roll < 0.6:
        w.add(rng.choice(p.regions), "LOC")
        w.add("region")
    elif roll < 0.75:
        w.add(rng.choice(p.regions) + " Region", "LOC")
    elif roll < 0.88:
        w.add(p.town(), "LOC")
        w.add("township")
    else:
        w.add(p.town() + " Township", "LOC")


def _person(w: _Writer, p: _Pools, titled: bool | None = None, possessive: bool = False) -> None:
    if titled is None:
        titled = p.rng.random() < 0.6
    if titled:
        _words(w, p.rng.choice(_TITLE_PHRASES))
    w.add(p.person(), "PER")
    if possessive:
        w.add(p.rng.choice(["’s", "'s"]))


def _media(w: _Writer, p: _Pools) -> None:
    if p.rng.random() < 0.4:
        w.add(p.rng.choice(["The", "the"]))
        w.add(p.rng.choice(THE_ORGANISATIONS), "ORG")
    else:
        outlets = ["Radio Free Asia", "RFA", "Reuters", "AP", "Myanmar Now", "DVB", "BenarNews", "VOA"]
        w.add(p.rng.choice(outlets), "ORG")


def _when(w: _Writer, p: _Pools) -> None:
    rng = p.rng
    roll = rng.random()
    if roll < 0.4:
        _words(w, "on " + rng.choice(_DAYS))
    elif roll < 0.7:
        _words(w, f"on {rng.choice(_MONTHS)} {rng.randint(1, 28)}")
    else:
        _words(w, rng.choice(["last week", "earlier this month", "in " + rng.choice(_MONTHS), "this year"]))


def _t_capture(w: _Writer, p: _Pools) -> None:
    _org(w, p)
    _words(w, p.rng.choice(["fighters captured", "troops seized", "forces took control of", "said it had overrun"]))
    _place(w, p)
    _when(w, p)
    w.add(".")


def _t_spokesman(w: _Writer, p: _Pools) -> None:
    _org(w, p, possessive=True)
    _words(w, p.rng.choice(["spokesman", "spokesperson", "information officer", "deputy commander"]))
    _person(w, p, titled=p.rng.random() < 0.5)
    _words(w, p.rng.choice(["told", "said in a message to", "confirmed to"]))
    _media(w, p)
    _words(w, "that the " + p.rng.choice(_MILITARY) + " had withdrawn from")
    _place(w, p)
    w.add(".")


def _t_fled(w: _Writer, p: _Pools) -> None:
    _words(w, p.rng.choice(_NUMBERS) + " " + p.rng.choice(["residents", "villagers", "civilians", "people"]))
    _words(w, p.rng.choice(["fled across the border into", "sought shelter in", "fled to"]))
    w.add(p.rng.choice(_WORLD + _WORLD_MULTI), "LOC")
    _words(w, "after " + p.rng.choice(_MILITARY) + " " + p.rng.choice(["airstrikes hit", "shelled", "raided"]))
    _place(w, p)
    w.add(",")
    _words(w, "according to")
    _org(w, p, long_form=True)
    w.add(".")


def _t_quote(w: _Writer, p: _Pools) -> None:
    w.add("“")
    _words(w, p.rng.choice(["We will not stop until", "The fighting continued near", "Our troops are now in"]))
    _place(w, p)
    w.add(",")
    w.add("”")
    _words(w, "said")
    _person(w, p)
    w.add(",")
    _words(w, "a " + p.rng.choice(["leader", "commander", "member", "spokesman"]) + " of the")
    _org(w, p)
    w.add(".")


def _t_junta(w: _Writer, p: _Pools) -> None:
    rng = p.rng
    roll = rng.random()
    if roll < 0.4:
        w.add("Myanmar", "LOC")
        w.add(rng.choice(["’s", "'s"]))
    else:
        _words(w, "The country’s" if roll < 0.6 else "The")
    _words(w, rng.choice(_MILITARY))
    _words(w, rng.choice(["led by", "under"]))
    _person(w, p, titled=True)
    _words(w, rng.choice(["seized power in a coup in 2021", "has lost control of much of", "blamed"]))
    if rng.random() < 0.5:
        _org(w, p)
    else:
        _place(w, p)
    w.add(".")


def _t_ethnic(w: _Writer, p: _Pools) -> None:
    rng = p.rng
    group = rng.choice(_GROUPS)
    _words(w, f"{group} {rng.choice(['rebels', 'fighters', 'civilians', 'leaders', 'refugees', 'people'])}")
    _words(
        w,
        rng.choice(["and", "joined"])
        + " "
        + rng.choice(_DEMONYMS)
        + " "
        + rng.choice(["traders", "officials", "mediators", "businessmen", "diplomats"]),
    )
    _words(w, rng.choice(["met in", "gathered near", "crossed at"]))
    _place(w, p)
    _when(w, p)
    w.add(".")


def _t_border(w: _Writer, p: _Pools) -> None:
    rng = p.rng
    a, b = rng.sample(["China", "Myanmar", "Thailand", "India", "Bangladesh", "Laos"], 2)
    _words(w, "The town lies on the")
    w.add(a, "LOC")
    w.add("-")
    w.add(b, "LOC")
    _words(w, "border, " + rng.choice(["about 30 miles from", "near", "north of", "across the river from"]))
    w.add(p.town(), "LOC")
    w.add(",")
    _words(w, "a " + rng.choice(["trading hub", "key crossing", "mining area"]) + " controlled by the")
    name, acronym = p.organisation()
    if acronym:
        w.add(acronym, "ORG")
        _words(w, "since " + rng.choice(_MONTHS))
    else:
        w.add(name, "ORG")
    w.add(".")


def _t_controlled(w: _Writer, p: _Pools) -> None:
    rng = p.rng
    name, acronym = p.organisation()
    w.add(acronym or name, "ORG")
    w.add("-")
    _words(w, rng.choice(["controlled", "held", "run", "backed"]) + " " + rng.choice(["areas", "territory", "towns"]))
    _words(w, "near")
    _place(w, p)
    _words(w, "were hit by " + rng.choice(["airstrikes", "artillery fire", "drone attacks"]))
    _when(w, p)
    w.add(",")
    _person(w, p, titled=False)
    w.add(",")
    _words(w, "a resident, told")
    _media(w, p)
    w.add(".")


def _t_diplomacy(w: _Writer, p: _Pools) -> None:
    rng = p.rng
    _person(w, p, titled=True)
    _words(w, rng.choice(["met", "called on", "urged"]))
    _org(w, p)
    _words(w, rng.choice(["officials", "leaders", "representatives"]))
    _words(w, "in")
    w.add(rng.choice(_WORLD + _WORLD_MULTI), "LOC")
    _when(w, p)
    _words(w, "to discuss " + rng.choice(["a ceasefire", "trade", "the rare earth mines", "aid deliveries"]))
    w.add(".")


def _t_report(w: _Writer, p: _Pools) -> None:
    rng = p.rng
    _words(w, "A report by")
    _org(w, p, long_form=True)
    _words(w, rng.choice(["found that", "said", "estimated that"]))
    _words(w, rng.choice(_NUMBERS) + " " + rng.choice(["people", "civilians", "children", "soldiers"]))
    _words(w, rng.choice(["had been killed in", "were displaced from", "were detained in"]))
    _region(w, p)
    _words(w, "since " + rng.choice(_MONTHS))
    w.add(".")


def _t_headline(w: _Writer, p: _Pools) -> None:
    """A headline in title case, where capitals say little."""
    rng = p.rng
    name, acronym = p.organisation()
    w.add(acronym or name, "ORG")
    _words(
        w,
        rng.choice(["Captures", "Seizes", "Claims", "Loses", "Attacks"])
        + " "
        + rng.choice(["Border Town", "Key Base", "Trading Hub", "Jade Mines", "Military Camp"]),
    )
    _words(w, rng.choice(["Near", "In"]))
    w.add(p.town(), "LOC")
    if rng.random() < 0.5:
        w.add(",")
        _words(w, rng.choice(["Residents Say", "Rebels Say", "Officials Say"]))


def _t_foreign(w: _Writer, p: _Pools) -> None:
    """Nationalities in the places news puts them, beside a country that is a place."""
    rng = p.rng
    demonym = rng.choice(_DEMONYMS)
    roll = rng.random()
    if roll < 0.3:
        _words(
            w, f"The {rng.choice(['soldiers', 'villagers', 'traders'])} fled to the {demonym} side of the border near"
        )
        _place(w, p)
    elif roll < 0.6:
        _words(w, f"{demonym} {rng.choice(['officials', 'companies', 'envoys', 'state media'])}")
        _words(w, rng.choice(["pressed", "urged", "met"]))
        _org(w, p)
        _words(w, "to " + rng.choice(["halt the offensive", "reopen the crossing", "hold talks"]))
        _words(w, "in")
        w.add(rng.choice(_WORLD + _WORLD_MULTI), "LOC")
    else:
        w.add(rng.choice(["Myanmar", "China", "Thailand", "India"]), "LOC")
        _words(w, rng.choice(["relies on", "resisted", "welcomed"]))
        _words(w, f"{demonym} {rng.choice(['investment', 'pressure', 'mediation', 'support'])}")
        _words(w, rng.choice(["in its", "along its"]) + " " + rng.choice(["border areas", "north", "east"]))
    _when(w, p)
    w.add(".")


TEMPLATES: list[Template] = [
    _t_foreign,
    _t_capture,
    _t_spokesman,
    _t_fled,
    _t_quote,
    _t_junta,
    _t_ethnic,
    _t_border,
    _t_controlled,
    _t_diplomacy,
    _t_report,
]


def silver_documents(
    count: int, seed: int, sentences: tuple[int, int] = (6, 10), hold_out: frozenset[str] = frozenset()
) -> list[Document]:
    """``count`` documents of a headline and ``sentences`` random sentences each. A sentence naming
    any of ``hold_out`` is left out: to measure how the model does on names it never saw in silver
    data, hold out the names of an evaluation set."""
    rng = random.Random(seed)
    pools = _Pools(rng)
    docs = []
    for n in range(count):
        body = []
        for i in range(rng.randint(*sentences) + 1):
            writer = _Writer()
            (_t_headline if i == 0 else rng.choice(TEMPLATES))(writer, pools)
            if not any(writer.text[a:b].replace("’", "'") in hold_out for a, b, _ in writer.spans):
                body.append(_sentence(writer))
        docs.append(Document(name=f"silver-{n}", source="silver", genre="news", sentences=body))
    return docs
