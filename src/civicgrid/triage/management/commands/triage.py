"""``civicgrid triage train|eval`` — fit and evaluate the 智能分拨 classifier.

    civicgrid triage train                                   # on this deployment's closed cases (final category)
    civicgrid triage train --from FILE --text COL[,COL] --label COL [--model PATH]
    civicgrid triage eval FILE --text COL[,COL] --label COL [--model PATH]

``train`` cross-validates (per-class table, accuracy, macro-F1), fits on all rows and stores the model: the next
version under ``CIVICGRID_DATA_DIR/triage/models/`` (every server switches to it on its next use), or ``--model
PATH``. ``eval`` scores a stored model (the newest, or ``--model PATH``) on a labelled file and stores nothing; its
last line is ``accuracy=0.xxx macro_f1=0.xxx n=N``. FILE is .xlsx or .csv (UTF-8, quoted multi-line cells).
"""

from __future__ import annotations

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

CONFIGS = None  # filled lazily (engine import is heavy)


class Command(BaseCommand):
    help = "智能分拨模型：train 训练（交叉验证并保存新版本）；eval 在带标签的文件上评估（不保存任何东西）"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="verb", required=True, metavar="train|eval")
        tr = sub.add_parser("train", help="训练并保存模型")
        tr.add_argument(
            "--from", dest="source", default=None, help="带标签的 .xlsx/.csv（不给：用本系统已结案工单）"
        )
        tr.add_argument("--text", default=None, help="文本列，多个用逗号分隔，如 标题,诉求内容")
        tr.add_argument("--label", default=None, help="标签列（类别名称）")
        tr.add_argument("--model", default=None, help="保存到此路径（默认：数据目录下的新版本）")
        tr.add_argument("--config", default=None, help="候选模型名，char 为基线（默认：交叉验证胜出的配置）")
        ev = sub.add_parser("eval", help="评估模型（不保存）")
        ev.add_argument("file", help="带标签的 .xlsx/.csv")
        ev.add_argument("--text", required=True, help="文本列，多个用逗号分隔")
        ev.add_argument("--label", required=True, help="标签列")
        ev.add_argument("--model", default=None, help="模型文件（默认：最新版本）")

    def handle(self, *args, verb, **opts):
        from civicgrid.triage import engine, tabular

        try:
            if verb == "train":
                self._train(engine, tabular, **opts)
            else:
                self._eval(engine, tabular, **opts)
        except (tabular.FileProblem, engine.TrainingError) as exc:
            raise CommandError(str(exc)) from None

    def _config(self, engine, name):
        if not name:
            return engine.DEFAULT
        if name == "char":  # the baseline
            return engine.BASELINE
        for c in engine.CANDIDATES:
            if c.name == name or c.name.split("（")[0] == name:
                return c
        choices = "、".join(c.name for c in engine.CANDIDATES)
        raise CommandError(f"未知配置「{name}」；可选：{choices}")

    def _train(self, engine, tabular, *, source, text, label, model, config, **_):
        from civicgrid.triage import modelstore

        cfg = self._config(engine, config)
        t0 = time.perf_counter()
        if source is None:
            if text or label:
                raise CommandError("--text/--label 只与 --from FILE 一起使用")
            from civicgrid.triage import services

            if model:
                raise CommandError("--model 只与 --from FILE 一起使用（本系统的模型按版本保存）")
            version, cv = services.train_from_cases(actor=None, cfg=cfg)
            self._print_cv(cv)
            self.stdout.write(
                f"已保存模型 {version.name}：{version.path}（{time.perf_counter() - t0:.1f} 秒）"
            )
            self.stdout.write(cv.report.final_line())
            return
        if not text:
            raise CommandError("缺少 --text 列名")
        if not label:
            raise CommandError("缺少 --label 列名")
        data = tabular.read(source, tabular.columns(text, "--text"), label.strip())
        engine.check_labels(data.labels)
        user_words = []
        try:
            from civicgrid.triage import selectors

            user_words = [t for e in selectors.catalogue().entries for t in e.terms]
        except Exception:  # no database (an offline machine): jieba's own dictionary only
            user_words = []
        fitted, cv = engine.train(data.texts, data.labels, cfg, user_words=user_words)
        fitted.meta.update(source=Path(source).name, label_kind="file", text_columns=text, label_column=label)
        self._print_cv(cv)
        if model:
            path = Path(model)
            fitted.meta["version"] = path.stem
            fitted.save(path)
            where = str(path)
        else:
            v = modelstore.save(fitted)
            where = f"{v.name}：{v.path}"
        self.stdout.write(
            f"已保存模型 {where}（{len(data.texts)} 行、{len(fitted.labels)} 类，{time.perf_counter() - t0:.1f} 秒）"
        )
        self.stdout.write(cv.report.final_line())

    def _print_cv(self, cv):
        self.stdout.write(f"交叉验证（{cv.cfg.name}）：")
        self.stdout.write(cv.report.table())

    def _eval(self, engine, tabular, *, file, text, label, model, **_):
        from civicgrid.triage import modelstore

        if model:
            path = Path(model)
            if not path.is_file():
                raise CommandError(f"模型文件不存在：{path}")
        else:
            vs = modelstore.versions()
            if not vs:
                raise CommandError(
                    "还没有训练过模型：先运行 civicgrid triage train，或用 --model 指定模型文件"
                )
            path = vs[-1].path
        try:
            fitted = engine.Model.load(path)
        except Exception as exc:
            raise CommandError(f"无法读取模型 {path}（{type(exc).__name__}）") from None
        data = tabular.read(file, tabular.columns(text, "--text"), label.strip())
        pred = fitted.predict(data.texts)
        rep = engine.report(data.labels, pred)
        unknown = sorted(set(data.labels) - set(fitted.labels))
        self.stdout.write(f"模型 {path.name}（{len(fitted.labels)} 类）")
        self.stdout.write(rep.table())
        if unknown:
            self.stdout.write("模型未见过的类别（全部计为错误）：" + "、".join(unknown[:20]))
        self.stdout.write(rep.final_line())
