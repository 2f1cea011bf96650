"""人民调解协议书 (.docx) generated from the template shipped with the app (``data/agreement.docx``).

The template holds ``{{ name }}`` placeholders (docxtpl's syntax for plain values). docxtpl is not in the
platform's environment, so this module fills them itself with lxml: per paragraph, the text of its runs is joined
(Word may split a placeholder over several runs after an edit), the placeholders are replaced, and the result is
written back into the paragraph's first run; a value with line breaks becomes several lines (``<w:br/>``). Values
are XML text nodes, never markup, so nothing a user typed can change the document's structure. An administrator
may edit the template in Word (keep the ``{{ … }}`` names); :data:`PLACEHOLDERS` lists them.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

from lxml import etree

from civicgrid.core import clock

TEMPLATE = Path(__file__).resolve().parent / "data" / "agreement.docx"
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
NS = {"w": W}
PLACEHOLDER_RE = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")
PLACEHOLDERS = {
    "agreement_no": "协议书编号",
    "org": "调解组织",
    "parties": "当事人（每人一行：身份、姓名、联系电话、住址）",
    "facts": "纠纷主要事实、争议事项",
    "terms": "协议内容",
    "mediators": "调解员",
    "signatures": "当事人签名栏（每人一行）",
    "date": "协议日期（中文）",
    "case_number": "案件编号",
}


def context(detail) -> dict[str, str]:
    """The placeholder values of ``detail``'s 协议书 (parties in full: only the 调解 desk may generate it)."""
    parties = list(detail.parties.all())
    sessions = list(detail.sessions.all())
    mediators = "、".join(
        dict.fromkeys(n for s in sessions for n in re.split(r"[、，,\s]+", s.mediators) if n)
    )
    day = detail.ended_on or clock.local_now().date()
    lines = []
    for p in parties:
        bits = [f"{p.get_role_display()}：{p.name}"]
        if p.phone:
            bits.append(f"联系电话 {p.phone}")
        if p.address:
            bits.append(f"住址 {p.address}")
        lines.append("，".join(bits))
    return {
        "agreement_no": detail.agreement_no or "（未编号）",
        "org": detail.org.name,
        "parties": "\n".join(lines),
        "facts": detail.case.description,
        "terms": detail.agreement_terms or "",
        "mediators": mediators,
        "signatures": "\n".join(f"{p.get_role_display()}：________________" for p in parties),
        "date": f"{day.year}年{day.month}月{day.day}日",
        "case_number": detail.case.number,
    }


def _fill_paragraph(p, values: dict[str, str]) -> None:
    texts = p.findall(".//w:t", NS)
    if not texts:
        return
    joined = "".join(t.text or "" for t in texts)
    if "{{" not in joined:
        return
    filled = PLACEHOLDER_RE.sub(lambda m: values.get(m.group(1), ""), joined)
    for t in texts[1:]:
        t.text = ""
    first = texts[0]
    lines = filled.split("\n")
    first.text = lines[0]
    first.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
    run = first.getparent()
    for line in lines[1:]:
        etree.SubElement(run, f"{{{W}}}br")
        t = etree.SubElement(run, f"{{{W}}}t")
        t.text = line
        t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")


_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def render(values: dict[str, str], template: Path = TEMPLATE) -> bytes:
    """The template with ``values`` filled in, as .docx bytes."""
    values = {k: _CONTROL.sub("", str(v or "")) for k, v in values.items()}
    out = io.BytesIO()
    with zipfile.ZipFile(template) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "word/document.xml":
                root = etree.fromstring(data, parser=etree.XMLParser(resolve_entities=False, no_network=True))
                for p in root.iter(f"{{{W}}}p"):
                    _fill_paragraph(p, values)
                data = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
            dst.writestr(item, data)
    return out.getvalue()


def agreement_docx(detail) -> tuple[bytes, str]:
    """(bytes, file name) of ``detail``'s 协议书."""
    return render(context(detail)), f"人民调解协议书_{detail.case.number}.docx"


def text_of(docx: bytes) -> str:
    """The plain text of a .docx (paragraphs on lines; tests and the print check read it)."""
    with zipfile.ZipFile(io.BytesIO(docx)) as z:
        root = etree.fromstring(z.read("word/document.xml"))
    lines = []
    for p in root.iter(f"{{{W}}}p"):
        parts = []
        for node in p.iter(f"{{{W}}}t", f"{{{W}}}br"):
            parts.append("\n" if node.tag == f"{{{W}}}br" else (node.text or ""))
        lines.append("".join(parts))
    return "\n".join(lines)
