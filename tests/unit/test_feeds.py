"""The feed registry: a YAML file read into typed feeds, with errors that say which file and feed."""

from collections.abc import Callable
from pathlib import Path

import pytest

from services.ingest.feeds import Feed, FeedRegistryError, load_registry

REPO = Path(__file__).resolve().parents[2]

MakePath = Callable[[Path], Path]


def write(tmp_path: Path, text: str, name: str = "feeds.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _write_bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_sample_registry() -> None:
    feeds = load_registry(REPO / "samples" / "feeds.yaml")
    assert [(f.name, f.outlet, f.language, f.poll_interval_s) for f in feeds] == [
        ("rfa-english-myanmar", "Radio Free Asia", "en", 900),
        ("ap-asia-pacific", "Associated Press", "en", 900),
        ("irrawaddy", "The Irrawaddy", "en", 900),
    ]
    assert [f.url for f in feeds] == [
        str(REPO / "samples" / "feeds" / "rfa-english.xml"),
        str(REPO / "samples" / "feeds" / "ap-asia-pacific.atom"),
        str(REPO / "samples" / "feeds" / "irrawaddy.xml"),
    ]
    assert all(Path(f.url).is_file() for f in feeds)


def test_valid_registry_with_defaults(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "feeds:\n"
        "  - name: bbc.world\n"
        "    url: https://feeds.bbci.co.uk/news/world/rss.xml\n"
        "    outlet: BBC\n"
        "  - name: rfa_burmese-2\n"
        "    url: http://www.rfa.org/burmese/rss.xml\n"
        "    outlet: Radio Free Asia\n"
        "    language: my\n"
        "    poll_interval_s: 60\n",
    )
    feeds = load_registry(path)
    assert feeds == [
        Feed(name="bbc.world", url="https://feeds.bbci.co.uk/news/world/rss.xml", outlet="BBC"),
        Feed(
            name="rfa_burmese-2",
            url="http://www.rfa.org/burmese/rss.xml",
            outlet="Radio Free Asia",
            language="my",
            poll_interval_s=60,
        ),
    ]
    assert (feeds[0].poll_interval_s, feeds[0].language) == (900, None)


def test_empty_feeds_list_is_an_empty_registry(tmp_path: Path) -> None:
    assert load_registry(write(tmp_path, "feeds: []\n")) == []


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("local.xml", "{dir}/local.xml"),
        ("sub/local.xml", "{dir}/sub/local.xml"),
        ("../elsewhere/local.xml", "{parent}/elsewhere/local.xml"),
        ("./local.xml", "{dir}/local.xml"),
        ("/srv/feeds/absolute.xml", "/srv/feeds/absolute.xml"),
        ("https://example.com/feed.xml", "https://example.com/feed.xml"),
        ("file:///srv/feeds/local.xml", "file:///srv/feeds/local.xml"),
    ],
)
def test_local_paths_are_relative_to_the_registry_file(tmp_path: Path, url: str, expected: str) -> None:
    registry_dir = tmp_path / "conf"
    registry_dir.mkdir()
    path = write(registry_dir, f"feeds:\n  - {{name: a, url: '{url}', outlet: A}}\n")
    [feed] = load_registry(path)
    assert feed.url == expected.format(dir=registry_dir.resolve(), parent=tmp_path.resolve())


def test_relative_paths_do_not_depend_on_the_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    registry_dir = tmp_path / "conf"
    registry_dir.mkdir()
    write(registry_dir, "feeds:\n  - {name: a, url: local.xml, outlet: A}\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    [feed] = load_registry(Path("../conf/feeds.yaml"))
    assert feed.url == str(registry_dir.resolve() / "local.xml")


@pytest.mark.parametrize(
    ("names", "repeated"),
    [
        (["a", "a"], "a"),
        (["b", "a", "b", "c", "a", "b"], "a, b"),
        (["x", "y", "z", "y"], "y"),
    ],
)
def test_duplicate_names_are_rejected_naming_them(tmp_path: Path, names: list[str], repeated: str) -> None:
    text = "feeds:\n" + "".join(
        f"  - {{name: {n}, url: 'https://e.com/{i}', outlet: O}}\n" for i, n in enumerate(names)
    )
    path = write(tmp_path, text)
    with pytest.raises(FeedRegistryError) as caught:
        load_registry(path)
    message = str(caught.value)
    assert str(path) in message
    assert message.endswith(f"repeated: {repeated}")


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    with pytest.raises(FeedRegistryError, match="no such feed registry") as caught:
        load_registry(path)
    assert str(path) in str(caught.value)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("feeds:\n  - name: a\n    url: [unclosed\n", "not valid YAML"),
        ("feeds:\n  - name: a\n\tbad: indent\n", "not valid YAML"),
        ("feeds: [\n", "not valid YAML"),
        ("", "expected a top-level 'feeds:' list"),
        ("feeds:\n", "expected a top-level 'feeds:' list"),
        ("feeds: {a: 1}\n", "expected a top-level 'feeds:' list"),
        ("- name: a\n", "expected a top-level 'feeds:' list"),
        ("just a string\n", "expected a top-level 'feeds:' list"),
    ],
)
def test_malformed_file_names_the_file(tmp_path: Path, text: str, problem: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(FeedRegistryError) as caught:
        load_registry(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    assert problem in message


GOOD = "  - {name: good, url: 'https://e.com/good', outlet: Good}\n"


@pytest.mark.parametrize(
    ("bad_feed", "problem"),
    [
        ("{name: b, url: 'https://e.com/b', outlet: B, poll_interval_s: 59}", "poll_interval_s: "),
        ("{name: b, url: 'https://e.com/b', outlet: B, poll_interval_s: 0}", "poll_interval_s: "),
        ("{name: b, url: 'https://e.com/b', outlet: B, poll_interval_s: often}", "poll_interval_s: "),
        ("{name: b, url: 'https://e.com/b'}", "outlet: Field required"),
        ("{name: b, outlet: B}", "url: Field required"),
        ("{url: 'https://e.com/b', outlet: B}", "name: Field required"),
        ("{name: Bad Name, url: 'https://e.com/b', outlet: B}", "name: String should match pattern"),
        ("{name: -b, url: 'https://e.com/b', outlet: B}", "name: String should match pattern"),
        ("{name: b, url: 'https://e.com/b', outlet: B, colour: red}", "colour: Extra inputs are not permitted"),
        ("just-a-string", "valid dictionary"),
    ],
)
def test_bad_field_names_the_file_and_the_feed_number(tmp_path: Path, bad_feed: str, problem: str) -> None:
    path = write(tmp_path, f"feeds:\n{GOOD}{GOOD.replace('good', 'also-good')}  - {bad_feed}\n")
    with pytest.raises(FeedRegistryError) as caught:
        load_registry(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: feed #3: ")
    assert problem in message


@pytest.mark.parametrize("interval", [1, 30, 59])
def test_poll_interval_below_a_minute_is_rejected(tmp_path: Path, interval: int) -> None:
    path = write(tmp_path, f"feeds:\n  - {{name: a, url: 'https://e.com/a', outlet: A, poll_interval_s: {interval}}}\n")
    with pytest.raises(
        FeedRegistryError, match="feed #1: poll_interval_s: Input should be greater than or equal to 60"
    ):
        load_registry(path)


@pytest.mark.parametrize("interval", [60, 61, 86400])
def test_poll_interval_of_a_minute_or_more_is_accepted(tmp_path: Path, interval: int) -> None:
    path = write(tmp_path, f"feeds:\n  - {{name: a, url: 'https://e.com/a', outlet: A, poll_interval_s: {interval}}}\n")
    assert [f.poll_interval_s for f in load_registry(path)] == [interval]


@pytest.mark.parametrize(
    "make",
    [
        # A registry saved in Latin-1 rather than UTF-8.
        lambda tmp: _write_bytes(
            tmp / "feeds.yaml", "feeds:\n  - {name: a, url: x.xml, outlet: Café}\n".encode("latin-1")
        ),
        # A directory given where the file belongs.
        lambda tmp: tmp,
    ],
    ids=["not-utf8", "directory"],
)
def test_unreadable_registry_is_a_registry_error_naming_the_file(tmp_path: Path, make: MakePath) -> None:
    # `newswire` prints a FeedRegistryError as one line; anything else is a traceback that does not say
    # which file was wrong.
    path = make(tmp_path)
    with pytest.raises(FeedRegistryError) as caught:
        load_registry(path)
    assert str(path) in str(caught.value)
