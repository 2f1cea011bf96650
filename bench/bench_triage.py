"""Benchmark ``civicgrid triage train`` / ``eval`` on a generated labelled file, against the baseline model.

    .venv/bin/python bench/bench_triage.py              # 10,000 training rows + 2,000 held-out rows (csv)
    .venv/bin/python bench/bench_triage.py --quick      #  2,000 + 500 rows (< 1 min)
    .venv/bin/python bench/bench_triage.py --compare    # also the cross-validated table of every candidate model
    .venv/bin/python bench/bench_triage.py --xlsx       # the files as .xlsx instead of .csv

The rows come from :mod:`civicgrid.triage.synthetic` (28 classes of 街道 complaints, a title and a body with
multi-line cells, vague wordings that only name the family, typos, 3 % wrong labels). Both commands run exactly as
an outside check calls them — ``civicgrid triage train --from FILE --text 标题,诉求内容 --label 类别 --model PATH``
and ``civicgrid triage eval FILE … --model PATH`` — as child processes, timed wall-clock including start-up. The
baseline is the same command with ``--config char`` (character 1–3-gram TF-IDF + linear SVM, no class weights),
trained and evaluated in the same run on the same files, so both see the same machine load.

The last line is ``RESULT rows=N train_s=S eval_s=S accuracy=A macro_f1=F baseline_train_s=S
baseline_macro_f1=F time_ratio=R f1_delta=D`` (``time_ratio`` = train_s / baseline_train_s; the goal is train and
eval each under 60 s for 10 k rows on 2 cores).
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from civicgrid.triage import engine, synthetic  # noqa: E402

FINAL = re.compile(r"^accuracy=(\d\.\d{3}) macro_f1=(\d\.\d{3}) n=(\d+)$")


def write(path: Path, rows: list[dict]) -> Path:
    if path.suffix == ".xlsx":
        from openpyxl import Workbook

        wb = Workbook(write_only=True)
        ws = wb.create_sheet()
        ws.append(["标题", "诉求内容", "类别"])
        for r in rows:
            ws.append([r["标题"], r["诉求内容"], r["类别"]])
        wb.save(path)
    else:
        with open(path, "w", encoding="utf-8", newline="") as f:
            w = csv.DictWriter(f, fieldnames=["标题", "诉求内容", "类别"], quoting=csv.QUOTE_MINIMAL)
            w.writeheader()
            w.writerows(rows)
    return path


def run(args: list[str], data_dir: Path) -> tuple[float, str]:
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"), CIVICGRID_DATA_DIR=str(data_dir))
    env.setdefault("DJANGO_SETTINGS_MODULE", "civicgrid.settings")
    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "civicgrid.cli", "triage", *args], capture_output=True, text=True, env=env
    )
    seconds = time.perf_counter() - t0
    if out.returncode != 0:
        sys.exit(f"failed: civicgrid triage {' '.join(args)}\n{out.stderr}")
    return seconds, out.stdout


def final(stdout: str) -> tuple[float, float, int]:
    m = FINAL.match(stdout.strip().splitlines()[-1])
    if not m:
        sys.exit("the last line is not 'accuracy=… macro_f1=… n=N':\n" + stdout[-500:])
    return float(m.group(1)), float(m.group(2)), int(m.group(3))


def compare(rows: list[dict]) -> None:
    texts = [r["标题"] + "\n" + r["诉求内容"] for r in rows]
    labels = [r["类别"] for r in rows]
    print(f"\ncross-validated comparison on {len(rows)} rows ({engine.auto_folds(len(rows))}-fold):")
    print("| 模型 | 准确率 | macro-F1 | 对数损失（校准后） | 交叉验证耗时 s |")
    print("|---|---|---|---|---|")
    for cfg in engine.CANDIDATES:
        t0 = time.perf_counter()
        cv = engine.cross_validate(texts, labels, cfg, user_words=list(synthetic.PHRASES))
        print(
            f"| {cfg.name} | {cv.report.accuracy:.3f} | {cv.report.macro_f1:.3f} | {cv.report.log_loss:.3f} "
            f"| {time.perf_counter() - t0:.1f} |",
            flush=True,
        )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--rows", type=int, default=None)
    p.add_argument("--xlsx", action="store_true")
    p.add_argument("--compare", action="store_true")
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    n = a.rows or (2000 if a.quick else 10_000)
    test_n = max(200, n // 5)
    rows = synthetic.generate(n + test_n, seed=a.seed)
    train_rows, test_rows = rows[:n], rows[n:]
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    with tempfile.TemporaryDirectory(prefix="bench_triage_") as tmp:
        tmp = Path(tmp)
        ext = ".xlsx" if a.xlsx else ".csv"
        train_file, test_file = write(tmp / f"train{ext}", train_rows), write(tmp / f"test{ext}", test_rows)
        print(f"{n} training rows, {test_n} held-out rows, {len({r['类别'] for r in rows})} classes ({ext})")
        results = {}
        for name, extra in (("default", []), ("baseline", ["--config", "char"])):
            model = tmp / f"{name}.npz"
            t_train, out = run(
                [
                    "train",
                    "--from",
                    str(train_file),
                    "--text",
                    "标题,诉求内容",
                    "--label",
                    "类别",
                    "--model",
                    str(model),
                    *extra,
                ],
                tmp / "data",
            )
            cv_acc, cv_f1, _ = final(out)
            t_eval, out = run(
                ["eval", str(test_file), "--text", "标题,诉求内容", "--label", "类别", "--model", str(model)],
                tmp / "data",
            )
            acc, f1, rows_seen = final(out)
            assert rows_seen == test_n
            results[name] = (t_train, t_eval, acc, f1)
            size = model.stat().st_size / 1024
            print(
                f"{name:9s} train {t_train:5.1f} s (cv accuracy {cv_acc:.3f}, macro-F1 {cv_f1:.3f}), "
                f"eval {t_eval:4.1f} s: held-out accuracy {acc:.3f}, macro-F1 {f1:.3f}; model {size:.0f} KB",
                flush=True,
            )
    if a.compare:
        compare(train_rows)
    d, b = results["default"], results["baseline"]
    print(
        f"RESULT rows={n} train_s={d[0]:.1f} eval_s={d[1]:.1f} accuracy={d[2]:.3f} macro_f1={d[3]:.3f} "
        f"baseline_train_s={b[0]:.1f} baseline_macro_f1={b[3]:.3f} time_ratio={d[0] / b[0]:.2f} "
        f"f1_delta={d[3] - b[3]:+.3f}"
    )


if __name__ == "__main__":
    main()
