"""The text classifier behind 智能分拨: features, a linear model (scikit-learn), cross-validation, storage.

No Django here (the CLI, the bench and the services share it).

* features: character n-grams (1–3) and jieba words of the normalised text, hashed to ``2**20`` buckets with
  CRC32 (stable across processes, so a stored model maps a term to its weight and back to the words behind it),
  weighted ``(1 + ln tf) · idf`` with ``idf = ln((1 + n) / (1 + df)) + 1`` (scikit-learn's smooth, sublinear
  TF-IDF), features seen in fewer than ``min_df`` training texts dropped, rows L2-normalised;
* ``svm``: scikit-learn's ``LinearSVC`` (liblinear; one-vs-rest, L2-regularised squared hinge), or ``softmax``:
  ``LogisticRegression`` (multinomial) — on the sparse matrix;
* optional ``balanced`` class weights ``n / (k · n_c)``;
* calibrated scores: a softmax over the decision values with one temperature fitted on out-of-fold scores
  (minimum negative log-likelihood), so "置信度 0.8" means about 8 in 10 are right;
* stratified k-fold cross-validation and the per-class report (scikit-learn's splitter and metrics).

A trained model is stored as its weights (one ``.npz``, no pickles) and scored with numpy: a server never
imports scikit-learn to suggest.
"""

from __future__ import annotations

import io
import json
import logging
import math
import re
import time
import unicodedata
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

FORMAT = 1
N_BUCKETS = 1 << 20
_SPACE = re.compile(r"\s+")
# tokens that carry no meaning as words (punctuation, digits only)
_JUNK = re.compile(r"^[\W\d_]+$")
STOPWORDS = frozenset(
    [
        "的",
        "了",
        "在",
        "是",
        "我",
        "有",
        "和",
        "就",
        "不",
        "人",
        "都",
        "一",
        "一个",
        "上",
        "也",
        "很",
        "到",
        "说",
        "要",
        "去",
        "你",
        "会",
        "着",
        "没有",
        "看",
        "好",
        "自己",
        "这",
        "那",
        "请",
        "您",
        "我们",
        "他们",
        "反映",
        "来电",
        "市民",
        "群众",
        "称",
        "表示",
        "希望",
        "要求",
        "尽快",
        "处理",
        "解决",
        "问题",
        "情况",
        "现在",
        "目前",
        "已经",
        "一直",
        "多次",
        "附近",
        "门口",
    ]
)


def normalize(text: str) -> str:
    """NFKC (full-width → half-width), lower case, whitespace runs → one space."""
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text or "")).strip().lower()


@dataclass(frozen=True)
class Config:
    """One candidate model; ``name`` is what the comparison table shows."""

    name: str = "word+char·svm·balanced"
    char: tuple[int, int] | None = (1, 3)
    words: bool = True
    loss: str = "svm"  # svm | softmax
    class_weight: str | None = "balanced"
    c: float = 1.0  # inverse regularisation strength (liblinear's C)
    min_df: int = 2


BASELINE = Config(name="char 1-3·svm（基线）", char=(1, 3), words=False, class_weight=None)
CANDIDATES = (
    BASELINE,
    Config(name="char 1-3·svm·balanced", char=(1, 3), words=False),
    Config(name="word·svm·balanced", char=None, words=True),
    Config(name="word+char·svm", class_weight=None),
    Config(name="word+char·svm·balanced"),
    Config(name="word+char·softmax·balanced", loss="softmax", c=10.0),
)
# the winner of the cross-validated comparison in docs/triage.md (macro-F1, then speed)
DEFAULT = CANDIDATES[2]


class TrainingError(ValueError):
    """Bad training input (a class with one example, one class only, no text …), with a message for people."""


# --------------------------------------------------------------------------------------------------- tokenizing
class Tokenizer:
    """jieba with our own user dictionary (category names, synonyms, keywords): ``words(text)`` → tokens."""

    def __init__(self, user_words: Iterable[str] = ()):
        import jieba

        jieba.setLogLevel(logging.WARNING)
        self._jieba = jieba.Tokenizer()
        base = _TOKENIZERS.get(frozenset())
        if base is not None and user_words:  # copy the loaded dictionary instead of reading it again
            self._jieba.FREQ = dict(base._jieba.FREQ)
            self._jieba.total = base._jieba.total
            self._jieba.initialized = True
        else:
            self._jieba.initialize()
        for w in sorted({normalize(w) for w in user_words if w and len(w.strip()) > 1}):
            self._jieba.add_word(w, freq=20000)
        self.user_words = frozenset(normalize(w) for w in user_words if w)

    def words(self, text: str) -> list[str]:
        out = []
        for tok in self._jieba.lcut(text, HMM=True):
            tok = tok.strip()
            if tok and tok not in STOPWORDS and not _JUNK.match(tok):
                out.append(tok)
        return out


_TOKENIZERS: dict[frozenset, Tokenizer] = {}


def tokenizer(user_words: Iterable[str] = ()) -> Tokenizer:
    key = frozenset(user_words)
    tok = _TOKENIZERS.get(key)
    if tok is None:
        if key and frozenset() not in _TOKENIZERS:
            _TOKENIZERS[frozenset()] = Tokenizer(())
        if len(_TOKENIZERS) > 4:
            for k in [k for k in _TOKENIZERS if k]:
                del _TOKENIZERS[k]
        tok = _TOKENIZERS[key] = Tokenizer(key)
    return tok


def features(text: str, cfg: Config, tok: Tokenizer | None) -> list[str]:
    """The feature strings of one text: ``c:xyz`` character n-grams, ``w:词`` words."""
    t = normalize(text)
    out: list[str] = []
    if cfg.char:
        lo, hi = cfg.char
        s = t.replace(" ", "")
        for n in range(lo, hi + 1):
            out.extend("c:" + s[i : i + n] for i in range(len(s) - n + 1))
    if cfg.words and tok is not None:
        out.extend("w:" + w for w in tok.words(t))
    return out


def hash_feature(f: str) -> int:
    return zlib.crc32(f.encode("utf-8")) & (N_BUCKETS - 1)


@dataclass
class Docs:
    """Hashed term counts of many texts as CSR (``indptr``, ``cols`` bucket ids, ``counts``)."""

    indptr: np.ndarray
    cols: np.ndarray
    counts: np.ndarray

    def __len__(self) -> int:
        return len(self.indptr) - 1

    def take(self, rows: np.ndarray) -> Docs:
        starts, ends = self.indptr[rows], self.indptr[rows + 1]
        lens = ends - starts
        indptr = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(lens, out=indptr[1:])
        idx = np.repeat(starts - indptr[:-1], lens) + np.arange(indptr[-1])
        return Docs(indptr, self.cols[idx], self.counts[idx])


def hash_docs(texts: Sequence[str], cfg: Config, tok: Tokenizer | None) -> Docs:
    cache: dict[str, int] = {}
    indptr = [0]
    cols: list[int] = []
    counts: list[int] = []
    for text in texts:
        row: dict[int, int] = {}
        for f in features(text, cfg, tok):
            h = cache.get(f)
            if h is None:
                h = cache[f] = hash_feature(f)
            row[h] = row.get(h, 0) + 1
        cols.extend(row.keys())
        counts.extend(row.values())
        indptr.append(len(cols))
    return Docs(
        np.asarray(indptr, dtype=np.int64),
        np.asarray(cols, dtype=np.int64),
        np.asarray(counts, dtype=np.float32),
    )


@dataclass
class Matrix:
    """A CSR matrix over a compact column space (``vocab`` = the bucket of each column)."""

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    n_cols: int

    @property
    def n_rows(self) -> int:
        return len(self.indptr) - 1

    def rows(self, lo: int, hi: int) -> Matrix:
        a, b = self.indptr[lo], self.indptr[hi]
        return Matrix(self.indptr[lo : hi + 1] - a, self.indices[a:b], self.data[a:b], self.n_cols)

    def take(self, rows: np.ndarray) -> Matrix:
        d = Docs(self.indptr, self.indices, self.data).take(rows)
        return Matrix(d.indptr, d.cols, d.counts, self.n_cols)

    def row_ids(self) -> np.ndarray:
        return np.repeat(np.arange(self.n_rows), np.diff(self.indptr))


@dataclass
class Vectorizer:
    vocab: np.ndarray  # sorted bucket ids kept
    idf: np.ndarray  # float32, per kept bucket

    @classmethod
    def fit(cls, docs: Docs, min_df: int) -> Vectorizer:
        n = len(docs)
        buckets, df = np.unique(docs.cols, return_counts=True)
        keep = df >= min_df
        if not keep.any():
            keep = df >= 1
        buckets, df = buckets[keep], df[keep]
        idf = (np.log((1.0 + n) / (1.0 + df)) + 1.0).astype(np.float32)
        return cls(buckets, idf)

    def transform(self, docs: Docs) -> Matrix:
        pos = np.searchsorted(self.vocab, docs.cols)
        pos = np.minimum(pos, len(self.vocab) - 1)
        known = self.vocab[pos] == docs.cols
        rows = np.repeat(np.arange(len(docs)), np.diff(docs.indptr))
        rows, pos, counts = rows[known], pos[known], docs.counts[known]
        vals = (1.0 + np.log(counts)) * self.idf[pos]
        norms = np.zeros(len(docs), dtype=np.float64)
        np.add.at(norms, rows, vals.astype(np.float64) ** 2)
        norms = np.sqrt(norms)
        norms[norms == 0] = 1.0
        vals = (vals / norms[rows]).astype(np.float32)
        indptr = np.zeros(len(docs) + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=len(docs)), out=indptr[1:])
        return Matrix(indptr, pos.astype(np.int64), vals, len(self.vocab))


# --------------------------------------------------------------------------------------------------- the model
def _dense(x: Matrix) -> tuple[np.ndarray, np.ndarray]:
    """The rows of a CSR block as a dense (rows × touched columns) array, and those columns."""
    cols, local = np.unique(x.indices, return_inverse=True)
    dense = np.zeros((x.n_rows, len(cols)), dtype=np.float32)
    dense[x.row_ids(), local] = x.data
    return dense, cols


def decision(x: Matrix, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """X · W + b for a CSR X (dense blocks of rows: BLAS does the work)."""
    scores = np.empty((x.n_rows, w.shape[1]), dtype=np.float32)
    step = 512
    for lo in range(0, x.n_rows, step):
        part = x.rows(lo, min(lo + step, x.n_rows))
        dense, cols = _dense(part)
        scores[lo : lo + part.n_rows] = dense @ w[cols] + b
    return scores


def _csr(x: Matrix):
    from scipy.sparse import csr_matrix

    return csr_matrix((x.data, x.indices, x.indptr), shape=(x.n_rows, x.n_cols))


def fit_linear(
    x: Matrix, y: np.ndarray, n_classes: int, cfg: Config, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """``LinearSVC`` (squared hinge, one-vs-rest) or multinomial ``LogisticRegression`` on ``x``; returns
    (W: features × classes, b). ``y`` holds class numbers 0 … n_classes-1, every one of them present."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import LinearSVC

    weight = "balanced" if cfg.class_weight == "balanced" else None
    if cfg.loss == "softmax":
        clf = LogisticRegression(C=cfg.c, class_weight=weight, max_iter=300, random_state=seed)
    else:
        clf = LinearSVC(C=cfg.c, class_weight=weight, random_state=seed)
    with warnings.catch_warnings():
        # a few more iterations would move the weights in the fourth decimal; the scores are cross-validated
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(_csr(x), y)
    coef = np.asarray(clf.coef_, dtype=np.float32)
    intercept = np.asarray(clf.intercept_, dtype=np.float32)
    if n_classes == 2 and coef.shape[0] == 1:  # one decision value s for class 1: scores (−s, s)
        return np.stack([-coef[0], coef[0]], axis=1), np.array(
            [-intercept[0], intercept[0]], dtype=np.float32
        )
    return coef.T.copy(), intercept


def softmax(scores: np.ndarray, temperature: float) -> np.ndarray:
    z = scores / temperature
    z = z - z.max(axis=1, keepdims=True)
    p = np.exp(z)
    return p / p.sum(axis=1, keepdims=True)


def fit_temperature(scores: np.ndarray, y: np.ndarray) -> float:
    """The softmax temperature with the least negative log-likelihood on held-out decision values."""
    best, best_nll = 1.0, math.inf
    for t in np.geomspace(0.02, 5.0, 40):
        p = softmax(scores, float(t))
        nll = -float(np.mean(np.log(np.maximum(p[np.arange(len(y)), y], 1e-12))))
        if nll < best_nll:
            best, best_nll = float(t), nll
    return best


# --------------------------------------------------------------------------------------------------- metrics
@dataclass
class ClassReport:
    label: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass
class Report:
    accuracy: float
    macro_f1: float
    n: int
    classes: list[ClassReport]
    log_loss: float | None = None

    def final_line(self) -> str:
        return f"accuracy={self.accuracy:.3f} macro_f1={self.macro_f1:.3f} n={self.n}"

    def table(self) -> str:
        width = max([4] + [_width(c.label) for c in self.classes])
        lines = [f"{_pad('类别', width)}  precision  recall     f1  support"]
        for c in self.classes:
            lines.append(
                f"{_pad(c.label, width)}  {c.precision:9.3f}  {c.recall:6.3f}  {c.f1:5.3f}  {c.support:7d}"
            )
        return "\n".join(lines)


def _width(s: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)


def _pad(s: str, width: int) -> str:
    return s + " " * max(0, width - _width(s))


def report(y_true: Sequence[str], y_pred: Sequence[str], log_loss: float | None = None) -> Report:
    """Accuracy and per-class precision/recall/F1; macro-F1 averages over the classes present in ``y_true``."""
    from sklearn.metrics import accuracy_score, precision_recall_fscore_support

    n = len(y_true)
    labels = sorted(set(y_true))
    if not n:
        return Report(0.0, 0.0, 0, [], log_loss)
    prec, rec, f1, sup = precision_recall_fscore_support(
        list(y_true), list(y_pred), labels=labels, zero_division=0
    )
    classes = [
        ClassReport(lab, float(p), float(r), float(f), int(s))
        for lab, p, r, f, s in zip(labels, prec, rec, f1, sup, strict=True)
    ]
    acc = float(accuracy_score(list(y_true), list(y_pred)))
    macro = float(np.mean(f1)) if len(labels) else 0.0
    return Report(acc, macro, n, classes, log_loss)


# --------------------------------------------------------------------------------------------------- the model
@dataclass
class Model:
    cfg: Config
    labels: list[str]
    vectorizer: Vectorizer
    w: np.ndarray
    b: np.ndarray
    temperature: float = 1.0
    user_words: list[str] = field(default_factory=list)
    meta: dict = field(default_factory=dict)
    _tok: Tokenizer | None = field(default=None, repr=False)

    def tok(self) -> Tokenizer | None:
        if self.cfg.words and self._tok is None:
            self._tok = tokenizer(self.user_words)
        return self._tok

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        x = self.vectorizer.transform(hash_docs(texts, self.cfg, self.tok()))
        return decision(x, self.w, self.b)

    def proba(self, texts: Sequence[str]) -> np.ndarray:
        return softmax(self.scores(texts), self.temperature)

    def predict(self, texts: Sequence[str]) -> list[str]:
        return [self.labels[i] for i in self.scores(texts).argmax(axis=1)]

    def explain(self, text: str, top: int = 3, terms: int = 5) -> list[tuple[str, float, list[str]]]:
        """The ``top`` labels with calibrated probabilities and the terms that pushed each up most."""
        feats = features(text, self.cfg, self.tok())
        by_bucket: dict[int, list[str]] = {}
        for f in feats:
            by_bucket.setdefault(hash_feature(f), []).append(f)
        docs = hash_docs([text], self.cfg, self.tok())
        x = self.vectorizer.transform(docs)
        s = decision(x, self.w, self.b)
        p = softmax(s, self.temperature)[0]
        out = []
        for ci in np.argsort(-p)[:top]:
            contrib = x.data * self.w[x.indices, ci]
            picked: list[str] = []
            for j in np.argsort(-contrib):
                if contrib[j] <= 0 or len(picked) >= terms:
                    break
                bucket = int(self.vectorizer.vocab[x.indices[j]])
                names = by_bucket.get(bucket, [])
                for name in names[:1]:
                    term = name[2:]
                    if len(term) < 2 and name.startswith("c:"):
                        continue
                    if term in picked or any(term in other for other in picked):
                        continue
                    picked = [o for o in picked if o not in term] + [term]
            out.append((self.labels[int(ci)], float(p[ci]), picked))
        return out

    # -- storage: one .npz, no pickles
    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = {
            "format": FORMAT,
            "cfg": asdict(self.cfg),
            "labels": self.labels,
            "temperature": self.temperature,
            "user_words": self.user_words,
            "meta": self.meta,
        }
        buf = io.BytesIO()
        np.savez_compressed(
            buf,
            meta=np.frombuffer(json.dumps(meta, ensure_ascii=False).encode("utf-8"), dtype=np.uint8),
            vocab=self.vectorizer.vocab.astype(np.int64),
            idf=self.vectorizer.idf,
            w=self.w.astype(np.float16 if self.w.size > 4_000_000 else np.float32),
            b=self.b,
        )
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(buf.getvalue())
        tmp.replace(path)  # a server never sees half a file

    @classmethod
    def load(cls, path: Path) -> Model:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(bytes(z["meta"]).decode("utf-8"))
            if meta.get("format") != FORMAT:
                raise ValueError(f"不支持的模型格式：{path}")
            known = set(Config.__dataclass_fields__)
            cfg_d = {k: v for k, v in meta["cfg"].items() if k in known}
            if cfg_d.get("char") is not None:
                cfg_d["char"] = tuple(cfg_d["char"])
            return cls(
                cfg=Config(**cfg_d),
                labels=list(meta["labels"]),
                vectorizer=Vectorizer(z["vocab"], z["idf"].astype(np.float32)),
                w=z["w"].astype(np.float32),
                b=z["b"].astype(np.float32),
                temperature=float(meta["temperature"]),
                user_words=list(meta.get("user_words", [])),
                meta=meta.get("meta", {}),
            )


# --------------------------------------------------------------------------------------------------- training
def check_labels(labels: Sequence[str], folds: int = 5) -> None:
    counts: dict[str, int] = {}
    for lab in labels:
        counts[lab] = counts.get(lab, 0) + 1
    if not counts:
        raise TrainingError("没有可用于训练的数据行")
    if len(counts) < 2:
        raise TrainingError(f"只有一个类别「{next(iter(counts))}」，至少需要两个类别")
    single = sorted(lab for lab, c in counts.items() if c < 2)
    if single:
        shown = "、".join(f"「{s}」" for s in single[:10]) + ("等" if len(single) > 10 else "")
        raise TrainingError(
            f"类别 {shown} 只有 1 条样本，每个类别至少需要 2 条（交叉验证要求）；请补充样本或删去这些行"
        )


def auto_folds(n: int) -> int:
    """5-fold cross-validation, 3-fold above 4,000 rows (keeps ``train`` under a minute for 10 k rows)."""
    return 5 if n <= 4000 else 3


def stratified_folds(y: np.ndarray, k: int, seed: int = 0) -> np.ndarray:
    """A fold number per row (scikit-learn's ``StratifiedKFold``, shuffled with ``seed``)."""
    from sklearn.model_selection import StratifiedKFold

    fold = np.empty(len(y), dtype=np.int64)
    splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    for f, (_, test) in enumerate(splitter.split(np.zeros(len(y)), y)):
        fold[test] = f
    return fold


@dataclass
class CVResult:
    cfg: Config
    report: Report
    seconds: float
    temperature: float
    oof_scores: np.ndarray = field(repr=False, default=None)


def _fit_on(docs: Docs, y: np.ndarray, n_classes: int, cfg: Config, seed: int):
    vec = Vectorizer.fit(docs, cfg.min_df)
    x = vec.transform(docs)
    w, b = fit_linear(x, y, n_classes, cfg, seed=seed)
    return vec, w, b


def cross_validate(
    texts: Sequence[str],
    labels: Sequence[str],
    cfg: Config = DEFAULT,
    *,
    folds: int | None = None,
    user_words: Iterable[str] = (),
    seed: int = 0,
    docs: Docs | None = None,
) -> CVResult:
    check_labels(labels)
    folds = folds or auto_folds(len(labels))
    t0 = time.perf_counter()
    classes = sorted(set(labels))
    index = {c: i for i, c in enumerate(classes)}
    y = np.asarray([index[lab] for lab in labels], dtype=np.int64)
    k = max(2, min(folds, int(np.bincount(y).min())))
    tok = tokenizer(user_words) if cfg.words else None
    if docs is None:
        docs = hash_docs(texts, cfg, tok)
    fold = stratified_folds(y, k, seed)
    oof = np.zeros((len(y), len(classes)), dtype=np.float32)
    for f in range(k):
        tr, te = np.flatnonzero(fold != f), np.flatnonzero(fold == f)
        vec, w, b = _fit_on(docs.take(tr), y[tr], len(classes), cfg, seed + f)
        oof[te] = decision(vec.transform(docs.take(te)), w, b)
    temp = fit_temperature(oof, y)
    p = softmax(oof, temp)
    ll = -float(np.mean(np.log(np.maximum(p[np.arange(len(y)), y], 1e-12))))
    pred = [classes[i] for i in oof.argmax(axis=1)]
    rep = report(list(labels), pred, log_loss=ll)
    return CVResult(cfg, rep, time.perf_counter() - t0, temp, oof)


def train(
    texts: Sequence[str],
    labels: Sequence[str],
    cfg: Config = DEFAULT,
    *,
    folds: int | None = None,
    user_words: Iterable[str] = (),
    seed: int = 0,
) -> tuple[Model, CVResult]:
    folds = folds or auto_folds(len(labels))
    """Cross-validate ``cfg`` (scores and the calibration temperature), then fit it on everything."""
    user_words = sorted(set(user_words))
    tok = tokenizer(user_words) if cfg.words else None
    docs = hash_docs(texts, cfg, tok)
    cv = cross_validate(texts, labels, cfg, folds=folds, user_words=user_words, seed=seed, docs=docs)
    classes = sorted(set(labels))
    index = {c: i for i, c in enumerate(classes)}
    y = np.asarray([index[lab] for lab in labels], dtype=np.int64)
    vec, w, b = _fit_on(docs, y, len(classes), cfg, seed)
    model = Model(cfg, classes, vec, w, b, cv.temperature, user_words)
    model.meta = {
        "n": len(labels),
        "cv_accuracy": round(cv.report.accuracy, 4),
        "cv_macro_f1": round(cv.report.macro_f1, 4),
        "cv_folds": int(max(2, min(folds, int(np.bincount(y).min())))),
    }
    return model, cv
