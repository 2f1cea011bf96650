"""The cold start: score categories by the words of their own names, synonyms and admin keyword lists.

Every enabled 小类 contributes terms: its full name (weight 3), each synonym (2), each keyword (the list's weight,
default 2), and the jieba words of its name (1, shared ones count less: weight / number of categories sharing the
word, so 井盖 in twenty 井盖 categories points at none of them). All of them go into jieba's user dictionary.

A text's score for a category is the sum of the weights of its terms found in the text (each term once), times
0.8 for a 部件 (component) category. The reasons shown are the matched terms not contained in a longer one. The top three are
shown with ``score / (sum of all scores + 1)`` as their share — a rough confidence, never above 1.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from civicgrid.triage import engine

NAME_W, SYNONYM_W, PART_W = 3.0, 2.0, 1.0
PART_KIND_FACTOR = 0.8  # a complaint describes a matter (事项) more often than it names a component (部件)
_STRIP = re.compile(
    r"[（(][^)）]*[)）]|异常$"
)  # 变压器（箱）异常 → 变压器; "异常" says nothing of the matter


@dataclass
class Entry:
    category_id: int
    code: str
    name: str
    major: str
    department_id: int | None
    kind: str = ""
    terms: dict[str, float] = field(default_factory=dict)


@dataclass
class Catalogue:
    entries: list[Entry]
    tok: engine.Tokenizer | None = None

    @classmethod
    def build(cls, categories: list[dict], keywords: dict[int, tuple[list[str], float]]) -> Catalogue:
        """``categories``: dicts with id, code, name, major, synonyms, department_id; ``keywords``: id → (words, w)."""
        entries = []
        for c in categories:
            e = Entry(
                c["id"], c["code"], c["name"], c.get("major", ""), c.get("department_id"), c.get("kind", "")
            )
            name = engine.normalize(c["name"])
            core = engine.normalize(_STRIP.sub("", c["name"])) or name
            for t, w in ((name, NAME_W), (core, NAME_W)):
                if len(t) >= 2:
                    e.terms[t] = max(e.terms.get(t, 0), w)
            for s in c.get("synonyms") or []:
                s = engine.normalize(s)
                if len(s) >= 2 and s not in ("其他", "其它", "其他问题", "其它问题"):
                    e.terms[s] = max(e.terms.get(s, 0), SYNONYM_W)
            words, weight = keywords.get(c["id"], ([], 0.0))
            for k in words:
                k = engine.normalize(k)
                if k:
                    e.terms[k] = max(e.terms.get(k, 0), weight)
            entries.append(e)
        cat = cls(entries)
        # the jieba words of each name (jieba's own dictionary: with the names in it a name stays one word),
        # weighted down by how many categories share them
        plain = engine.tokenizer(())
        parts: dict[int, set[str]] = {}
        share: dict[str, int] = {}
        for e in entries:
            ws = {w for w in plain.words(engine.normalize(_STRIP.sub("", e.name))) if len(w) >= 2}
            parts[e.category_id] = ws
            for w in ws:
                share[w] = share.get(w, 0) + 1
        for e in entries:
            for w in parts[e.category_id]:
                if w not in e.terms:
                    e.terms[w] = PART_W / share[w]
        cat.tok = engine.tokenizer(sorted({t for e in entries for t in e.terms}))
        return cat

    def score(self, text: str, top: int = 3) -> list[tuple[Entry, float, list[str]]]:
        t = engine.normalize(text)
        words = set(self.tok.words(t)) if self.tok else set()
        scored = []
        for e in self.entries:
            hits: list[str] = []
            for term in sorted(e.terms, key=len, reverse=True):
                if term in t if len(term) >= 2 else term in words:
                    hits.append(term)
            if hits:
                score = sum(e.terms[h] for h in hits) * (PART_KIND_FACTOR if e.kind == "component" else 1.0)
                scored.append((e, score, [h for h in hits if not any(h != o and h in o for o in hits)]))
        total = sum(s for _, s, _ in scored)
        scored.sort(key=lambda x: (-x[1], x[0].code))
        return [(e, s / (total + 1.0), sorted(h, key=lambda h: -e.terms[h])) for e, s, h in scored[:top]]
