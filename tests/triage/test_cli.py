"""``civicgrid triage train|eval`` exactly as an outside check calls it: csv with quoted multi-line cells and xlsx,
free-text labels, a per-class table, and the one last line ``accuracy=… macro_f1=… n=N``; clear errors."""

from __future__ import annotations

import csv
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from openpyxl import Workbook

from civicgrid.triage import synthetic

ROOT = Path(__file__).resolve().parents[2]
FINAL = re.compile(r"^accuracy=\d\.\d{3} macro_f1=\d\.\d{3} n=\d+$")


def civicgrid(*args, data_dir: Path) -> subprocess.CompletedProcess:
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(ROOT / "src"),
        "CIVICGRID_DATA_DIR": str(data_dir),
        "DJANGO_SETTINGS_MODULE": "civicgrid.settings",
        "HOME": str(data_dir),
    }
    return subprocess.run(
        [sys.executable, "-c", "import sys; from civicgrid.cli import main; main(sys.argv)", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def write_csv(path: Path, rows: list[dict]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["标题", "诉求内容", "类别"], quoting=csv.QUOTE_ALL)
        w.writeheader()
        w.writerows(rows)
    return path


def write_xlsx(path: Path, rows: list[dict]) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.append(["标题", "诉求内容", "类别"])
    for r in rows:
        ws.append([r["标题"], r["诉求内容"], r["类别"]])
    wb.save(path)
    return path


@pytest.fixture(scope="module")
def rows():
    data = synthetic.generate(
        240, seed=7, noise=0.0, classes=["油烟污染", "噪声扰民", "邻里纠纷", "道路破损", "路灯异常"]
    )
    assert any("\n" in r["诉求内容"] for r in data)  # multi-line cells are part of the test
    return data


def test_train_then_eval_on_csv_with_multiline_cells(tmp_path, rows):
    train = write_csv(tmp_path / "train.csv", rows[:180])
    test = write_csv(tmp_path / "test.csv", rows[180:])
    model = tmp_path / "m.npz"
    out = civicgrid(
        "triage",
        "train",
        "--from",
        str(train),
        "--text",
        "标题,诉求内容",
        "--label",
        "类别",
        "--model",
        str(model),
        data_dir=tmp_path / "data",
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert FINAL.match(lines[-1]), lines[-1]
    assert "油烟污染" in out.stdout and "precision" in out.stdout  # the cross-validated per-class table
    assert model.is_file()

    out = civicgrid(
        "triage",
        "eval",
        str(test),
        "--text",
        "标题,诉求内容",
        "--label",
        "类别",
        "--model",
        str(model),
        data_dir=tmp_path / "data",
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert FINAL.match(lines[-1]), lines[-1]
    assert lines[-1].endswith("n=60")
    assert float(lines[-1].split()[0].split("=")[1]) > 0.8
    for label in ("油烟污染", "噪声扰民", "邻里纠纷", "道路破损", "路灯异常"):
        assert any(line.startswith(label) for line in lines)
    assert not (tmp_path / "data" / "triage" / "models").exists()  # nothing stored by either


def test_train_on_xlsx_stores_a_version_and_eval_uses_the_newest(tmp_path, rows):
    book = write_xlsx(tmp_path / "labelled.xlsx", rows)
    data = tmp_path / "data"
    out = civicgrid(
        "triage", "train", "--from", str(book), "--text", "诉求内容", "--label", "类别", data_dir=data
    )
    assert out.returncode == 0, out.stderr
    assert (data / "triage" / "models" / "v0001.npz").is_file()
    out = civicgrid("triage", "eval", str(book), "--text", "诉求内容", "--label", "类别", data_dir=data)
    assert out.returncode == 0, out.stderr
    assert FINAL.match(out.stdout.strip().splitlines()[-1])
    assert sorted(p.name for p in (data / "triage" / "models").iterdir()) == ["v0001.npz"]


@pytest.mark.parametrize(
    "content,args,message",
    [
        ("标题,诉求内容,类别\n路灯,路灯不亮,路灯异常\n", ["--text", "正文", "--label", "类别"], "「正文」"),
        ("标题,诉求内容,类别\n路灯,路灯不亮,路灯异常\n", ["--text", "标题", "--label", "分类"], "「分类」"),
        ("", ["--text", "标题", "--label", "类别"], "空"),
        ("标题,诉求内容,类别\n", ["--text", "标题", "--label", "类别"], "没有数据行"),
        (
            "标题,类别\n路灯坏,路灯\n路灯不亮,路灯\n噪音,噪声\n",
            ["--text", "标题", "--label", "类别"],
            "「噪声」 只有 1 条样本",
        ),
        ("标题,类别\n路灯坏,路灯\n路灯不亮,路灯\n", ["--text", "标题", "--label", "类别"], "只有一个类别"),
        ("标题,类别\n路灯坏,路灯\n路灯不亮,\n", ["--text", "标题", "--label", "类别"], "第 3 行"),
    ],
)
def test_clear_errors_name_the_column_or_row(tmp_path, content, args, message):
    f = tmp_path / "bad.csv"
    f.write_text(content, encoding="utf-8")
    with pytest.raises(CommandError) as exc:
        call_command("triage", "train", "--from", str(f), *args)
    assert message in str(exc.value)
    with pytest.raises(CommandError) as exc:
        call_command("triage", "eval", str(f), *args, "--model", str(tmp_path / "none.npz"))
    assert "模型文件不存在" in str(exc.value)


def test_eval_without_any_model_says_so(tmp_path, rows, settings):
    settings.DATA_DIR = tmp_path / "data"
    f = write_csv(tmp_path / "t.csv", rows[:20])
    with pytest.raises(CommandError) as exc:
        call_command("triage", "eval", str(f), "--text", "标题", "--label", "类别")
    assert "还没有训练过模型" in str(exc.value)


def test_a_missing_model_or_file_is_an_error_not_a_traceback(tmp_path):
    out = civicgrid(
        "triage",
        "eval",
        str(tmp_path / "nothing.csv"),
        "--text",
        "标题",
        "--label",
        "类别",
        "--model",
        str(tmp_path / "m.npz"),
        data_dir=tmp_path / "data",
    )
    assert out.returncode != 0 and "模型文件不存在" in out.stderr and "Traceback" not in out.stderr
