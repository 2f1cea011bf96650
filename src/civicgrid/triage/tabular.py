"""Read a labelled file (xlsx or CSV) for ``civicgrid triage train/eval``: texts from one or more columns, labels
from one; every problem is a :class:`FileProblem` whose message names the column or row."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

MAX_BYTES = 200 * 1024 * 1024


class FileProblem(ValueError):
    pass


@dataclass
class Labelled:
    texts: list[str]
    labels: list[str]
    skipped_blank: int  # rows with neither text nor label


def _rows_csv(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    for enc in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes any byte string
        raise FileProblem(f"{path.name}：无法识别文件编码（请另存为 UTF-8 CSV）")
    try:
        sample = text[:4096]
        dialect = csv.Sniffer().sniff(sample, delimiters=",\t;") if sample.strip() else csv.excel
    except csv.Error:
        dialect = csv.excel
    try:
        return [row for row in csv.reader(io.StringIO(text, newline=""), dialect)]
    except csv.Error as exc:
        raise FileProblem(f"{path.name}：CSV 格式错误（{exc}）") from None


def _rows_xlsx(path: Path) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # zip/xml errors of a broken file
        raise FileProblem(f"{path.name}：无法读取 Excel 文件（{type(exc).__name__}）") from None
    try:
        ws = wb.worksheets[0]
        return [["" if v is None else str(v) for v in row] for row in ws.iter_rows(values_only=True)]
    finally:
        wb.close()


def read(path: str | Path, text_cols: list[str], label_col: str) -> Labelled:
    path = Path(path)
    if not path.is_file():
        raise FileProblem(f"文件不存在：{path}")
    if path.stat().st_size == 0:
        raise FileProblem(f"{path.name}：文件是空的")
    if path.stat().st_size > MAX_BYTES:
        raise FileProblem(f"{path.name}：文件过大（超过 {MAX_BYTES // 1024 // 1024} MB）")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        rows = _rows_xlsx(path)
    elif suffix in (".csv", ".txt", ".tsv"):
        rows = _rows_csv(path)
    else:
        raise FileProblem(f"{path.name}：不支持的文件类型「{suffix or '无扩展名'}」，请使用 .xlsx 或 .csv")
    numbered = [(n, r) for n, r in enumerate(rows, start=1) if any((c or "").strip() for c in r)]
    if not numbered:
        raise FileProblem(f"{path.name}：文件是空的（没有表头）")
    header = [(h or "").strip().lstrip("\ufeff") for h in numbered[0][1]]
    index = {h: i for i, h in reversed(list(enumerate(header))) if h}
    wanted = [*text_cols, label_col]
    missing = [c for c in wanted if c not in index]
    if missing:
        raise FileProblem(
            f"{path.name}：找不到列 "
            + "、".join(f"「{c}」" for c in missing)
            + "；文件中的列："
            + "、".join(f"「{h}」" for h in header if h)
        )
    ti = [index[c] for c in text_cols]
    li = index[label_col]
    texts, labels, blank = [], [], 0
    for n, row in numbered[1:]:
        cells = [row[i].strip() if i < len(row) and row[i] else "" for i in ti]
        label = row[li].strip() if li < len(row) and row[li] else ""
        text = "\n".join(c for c in cells if c)
        if not text and not label:
            blank += 1
            continue
        if not label:
            raise FileProblem(f"{path.name} 第 {n} 行：标签列「{label_col}」为空")
        if not text:
            raise FileProblem(
                f"{path.name} 第 {n} 行：文本列 " + "、".join(f"「{c}」" for c in text_cols) + " 都为空"
            )
        texts.append(text)
        labels.append(label)
    if not texts:
        raise FileProblem(f"{path.name}：只有表头，没有数据行")
    return Labelled(texts, labels, blank)


def columns(spec: str, option: str) -> list[str]:
    cols = [c.strip() for c in (spec or "").split(",") if c.strip()]
    if not cols:
        raise FileProblem(f"{option} 需要列名")
    return cols
