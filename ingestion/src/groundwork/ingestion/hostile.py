"""A corpus of hostile files (zip bombs, decompression bombs, huge and deeply nested documents, binary data
under text names), generated on demand for the robustness tests and `bench/hostile.py`. Nothing is stored."""

from __future__ import annotations

import io
import random
import zipfile
import zlib
from collections.abc import Callable

from pypdf import PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, StreamObject

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="word/document.xml"/></Relationships>'
)
_W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def _docx(document_xml: bytes, extra: dict[str, bytes] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _RELS)
        archive.writestr("word/document.xml", document_xml)
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


def docx_zip_bomb(expanded_mib: int = 1024) -> bytes:
    """~1 MB on disk, `expanded_mib` MiB once its document part is inflated."""
    body = b"<w:document " + _W.encode() + b"><w:body><w:p><w:r><w:t>"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _RELS)
        with archive.open("word/document.xml", "w", force_zip64=True) as part:
            part.write(body)
            block = b"A" * (1024 * 1024)
            for _ in range(expanded_mib):
                part.write(block)
            part.write(b"</w:t></w:r></w:p></w:body></w:document>")
    return buffer.getvalue()


def docx_nested_zip_bomb(expanded_mib: int = 1024) -> bytes:
    """A small valid DOCX that carries a zip bomb inside it (an embedded package)."""
    inner = docx_zip_bomb(expanded_mib)
    xml = f"<w:document {_W}><w:body><w:p><w:r><w:t>Hello nested</w:t></w:r></w:p></w:body></w:document>"
    return _docx(xml.encode(), {"word/embeddings/package.docx": inner})


def docx_entity_expansion(levels: int = 10) -> bytes:
    """The "billion laughs": entities that expand to 10**levels copies of a word."""
    entities = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{"".join(f"&lol{i - 1};" for _ in range(10))}">' for i in range(1, levels)
    ]
    xml = (
        f'<?xml version="1.0"?><!DOCTYPE w:document [{"".join(entities)}]>'
        f"<w:document {_W}><w:body><w:p><w:r><w:t>&lol{levels - 1};</w:t></w:r></w:p></w:body></w:document>"
    )
    return _docx(xml.encode())


def _pdf(pages: int, content: bytes, *, compress: bool = False) -> bytes:
    writer = PdfWriter()
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
        }
    )
    resources = DictionaryObject({NameObject("/Font"): DictionaryObject({NameObject("/F1"): writer._add_object(font)})})
    stream = StreamObject()
    if compress:
        stream[NameObject("/Filter")] = NameObject("/FlateDecode")
        stream._data = zlib.compress(content, 9)
    else:
        stream._data = content
    contents = writer._add_object(stream)
    for _ in range(pages):
        page = writer.add_blank_page(612, 792)
        page[NameObject("/Contents")] = ArrayObject([contents])
        page[NameObject("/Resources")] = resources
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def pdf_pages(pages: int = 2000) -> bytes:
    """A PDF of `pages` pages of text."""
    return _pdf(pages, b"BT /F1 12 Tf 72 720 Td (Every page of this long report says the same thing.) Tj ET")


def pdf_decompression_bomb(expanded_mib: int = 100) -> bytes:
    """One page whose content stream inflates to `expanded_mib` MiB."""
    text = b"BT /F1 12 Tf 72 720 Td (" + b"A" * (expanded_mib * 1024 * 1024) + b") Tj ET"
    return _pdf(1, text, compress=True)


def huge_text(mib: int = 49) -> bytes:
    line = b"The quick brown fox jumps over the lazy dog; a long line of plain text for the test.\n"
    return line * (mib * 1024 * 1024 // len(line))


def random_binary(size: int = 256 * 1024, seed: int = 15) -> bytes:
    return random.Random(seed).randbytes(size)


def deep_html(depth: int = 100_000) -> bytes:
    return b"<html><body>" + b"<div>" * depth + b"deep" + b"</div>" * depth + b"</body></html>"


def deep_markdown(depth: int = 100_000) -> bytes:
    return b"> " * depth + b"deep\n\n" + b"".join(b"  " * i + b"- item\n" for i in range(2000))


def corpus(scale: float = 1.0) -> dict[str, Callable[[], bytes]]:
    """name -> generator of the hostile files; `scale` < 1 makes smaller (faster) versions for CI."""

    def big(value: int) -> int:
        return max(1, int(value * scale))

    return {
        "bomb.docx": lambda: docx_zip_bomb(big(1024)),
        "nested-bomb.docx": lambda: docx_nested_zip_bomb(big(1024)),
        "laughs.docx": lambda: docx_entity_expansion(),
        "huge.txt": lambda: huge_text(big(49)),
        "pages.pdf": lambda: pdf_pages(big(2000)),
        "stream-bomb.pdf": lambda: pdf_decompression_bomb(max(80, big(100))),
        "random.md": lambda: random_binary(),
        "random.txt": lambda: random_binary(seed=16),
        "random.html": lambda: random_binary(seed=17),
        "deep.html": lambda: deep_html(big(100_000)),
        "deep.md": lambda: deep_markdown(big(100_000)),
    }
