"""The fuzzy address scan takes its shortlist among the candidates sharing a character bigram with the address
(not all of them): every address the full scan placed is still placed on the same building, with the same score.

Checked on the demo street's own buildings and units (its plan, no database) and on typo'd variants of their
addresses: a character dropped, doubled, replaced or swapped, a prefix or a suffix added, 号 left out. Addresses
that match nothing may report another best score (documented in ``AddressIndex._pool``)."""

from __future__ import annotations

import random

import pytest

from civicgrid.demo.buildings import plan_places
from civicgrid.demo.geography import plan_street
from civicgrid.places import addressindex
from civicgrid.places.addressindex import ADDRESS_MIN_SCORE, AddressIndex, AddressMatch, address_score


def _full_scan(index: AddressIndex, query: str, query_roads) -> AddressMatch:
    """The scan as it was: WRatio top 30 (≥ 40) over every candidate, plus the exact road + number."""
    from rapidfuzz import fuzz, process

    shortlist = {
        i
        for _s, _sc, i in process.extract(query, index.strings, scorer=fuzz.WRatio, limit=30, score_cutoff=40)
    }
    for road in query_roads:
        shortlist.update(index.by_road.get(road, ()))
    best_i, best = None, 0.0
    for i in sorted(shortlist):
        score = address_score(query, query_roads, index.strings[i], index.roads[i])
        if score > best:
            best_i, best = i, score
    if best_i is None or best < ADDRESS_MIN_SCORE:
        return AddressMatch(None, None, round(best, 1))
    building_id, grid_id = index.owners[best_i]
    return AddressMatch(grid_id, building_id, round(best, 1))


def _demo_index(seed: int) -> tuple[AddressIndex, list[str]]:
    plan = plan_street(random.Random(f"{seed}:geography"))
    buildings, units = plan_places(plan, random.Random(f"{seed}:places"))
    grid_ids = {g.code: n for n, g in enumerate(plan.grids, start=1)}
    candidates, texts = [], []
    for b in buildings:
        for raw in (b.address, b.name, *b.aliases):
            candidates.append((raw, b.key, grid_ids[b.grid_code]))
        texts.append(b.address)
    for u in units:
        owner = u.building_key
        for raw in (u.address, u.name):
            candidates.append((raw, owner, grid_ids[u.grid_code]))
        texts.append(u.address)
        texts.append(u.name)
    return AddressIndex(candidates), texts


def _typos(text: str, rnd: random.Random) -> list[str]:
    """A few misspellings of one address, as 12345 operators type them."""
    chars = list(text)
    out = [f"杭州市西湖区{text}", f"{text}附近", f"{text}门口东侧", text.replace("号", "")]
    if len(chars) > 2:
        k = rnd.randrange(len(chars))
        out.append("".join(chars[:k] + chars[k + 1 :]))  # one dropped
        out.append("".join(chars[:k] + [chars[k]] + chars[k:]))  # one doubled
        out.append(
            "".join(chars[:k] + [rnd.choice("的一号楼幢路街弄巷0123456789")] + chars[k + 1 :])
        )  # replaced
        j = rnd.randrange(len(chars) - 1)
        swapped = chars[:]
        swapped[j], swapped[j + 1] = swapped[j + 1], swapped[j]
        out.append("".join(swapped))  # two swapped
        out.append("".join(c for c in chars if not c.isdigit()) + "".join(c for c in chars if c.isdigit()))
    return out


@pytest.mark.parametrize("seed", [20260101, 7])
def test_the_pooled_scan_places_every_address_the_full_scan_placed_on_the_same_building(seed):
    index, texts = _demo_index(seed)
    rnd = random.Random(seed)
    queries = set()
    for text in rnd.sample(texts, min(len(texts), 70)):
        queries.update(_typos(text, rnd))
    queries.update(f"无名巷{n}弄" for n in range(0, 500, 25))  # nowhere in the street
    compared = placed = pooled = 0
    for text in sorted(queries):
        query = addressindex.normalise_address(text)
        if len(query) < 2:
            continue
        roads = addressindex.road_numbers(query)
        if any(index.by_road.get(road) for road in roads) or query in index.first_exact:
            continue  # answered without any fuzzy scan
        old = _full_scan(index, query, roads)
        new = index._fuzzy_best(query, roads)
        compared += 1
        pooled += index._pool(query) is not None
        if old.grid_id is not None:
            placed += 1
            assert new == old, text
        else:
            assert new.grid_id is None, text
            assert new.score <= old.score, text
    # the comparison covered both kinds, and the pool (not the full scan) answered most of them
    assert compared > 250 and placed > 100 and compared - placed > 20
    assert pooled > compared * 0.5


def test_a_small_pool_holds_the_building_an_address_names():
    index = AddressIndex(
        [(f"幸福路{n}号", n, 1 + n % 3) for n in range(1, 400)]
        + [("翠苑一区3幢", 1000, 9), ("翠苑二区3幢", 1001, 8), ("古荡新村东区", 1002, 7)]
    )
    assert index.best("翠苑一区3栋").building_id == 1000  # no such road + number: the fuzzy scan
    pool = index._pool(addressindex.normalise_address("翠苑一区3栋"))
    assert pool is not None and index.strings.index("翠苑一区3幢") in pool and len(pool) < 10
    assert index.best("古荡新村东").building_id == 1002
    nowhere = index.best("无名巷7弄")
    assert nowhere.grid_id is None
