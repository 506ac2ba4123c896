"""The text encoding of a CSV file: decided from the whole file, never guessed line by line.

A file is UTF-8 when every byte of it is; Windows-1256 when every line that is not plain ASCII
fails as UTF-8; and refused when it mixes the two (some lines UTF-8 text, some not), because
either reading would store some of its text garbled. UTF-16 and UTF-32 are recognised by their
byte-order mark, or, without one, by the NUL bytes every ASCII character has in them. A forced
encoding must be a real text encoding (``rot13`` or ``base64`` are transforms, not encodings).
"""

from __future__ import annotations

import codecs
from pathlib import Path

from sanjeh.errors import ImportRefused, UserError

CHUNK = 8 * 1024 * 1024
HEAD = 65536

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def text_encoding(name: str) -> str:
    """The codec name of a forced encoding; a :class:`UserError` unless it is a real text encoding."""
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError):
        raise UserError(f"unknown encoding {name!r}; try utf-8 or cp1256", details={"encoding": name}) from None
    if not getattr(info, "_is_text_encoding", True):
        raise UserError(
            f"{name!r} is not a text encoding (it transforms bytes); try utf-8 or cp1256", details={"encoding": name}
        )
    return info.name


def is_wide(encoding: str) -> bool:
    """UTF-16 and UTF-32 text has NUL bytes in it (every ASCII character has some)."""
    return codecs.lookup(encoding).name.startswith(("utf-16", "utf-32"))


def sniff_wide(head: bytes) -> str | None:
    """``utf-16``/``utf-32`` (with a byte-order mark) or ``utf-16-le``/``utf-16-be`` (without one,
    when the NUL bytes sit where ASCII text in that encoding puts them); None otherwise."""
    for bom, enc in _BOMS:
        if head.startswith(bom):
            return enc
    if len(head) < 4 or b"\x00" not in head:
        return None
    even, odd = head[0::2].count(0), head[1::2].count(0)
    pairs = len(head) // 2
    for enc, nul, other in (("utf-16-le", odd, even), ("utf-16-be", even, odd)):
        if nul >= pairs * 0.3 and other <= nul * 0.02:
            try:
                codecs.getincrementaldecoder(enc)(errors="strict").decode(head[: pairs * 2], final=False)
            except UnicodeDecodeError:
                continue
            return enc
    return None


def head_is_utf8(path: Path) -> bool:
    """Are the first 64 KiB of the file valid UTF-8 (a character cut at the end is fine)?"""
    with path.open("rb") as fh:
        head = fh.read(HEAD)
    try:
        codecs.getincrementaldecoder("utf-8")(errors="strict").decode(head, final=False)
    except UnicodeDecodeError:
        return False
    return True


def first_utf8_error(path: Path) -> tuple[int, int] | None:
    """(line, byte) of the first byte that is not valid UTF-8, or None."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="strict")
    lines = 1
    with path.open("rb") as fh:
        while True:
            chunk = fh.read(CHUNK)
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                # exc.object is the decoder's few pending bytes (never a newline) + this chunk
                return lines + bytes(exc.object[: exc.start]).count(b"\n"), exc.object[exc.start]
            if not chunk:
                return None
            lines += chunk.count(b"\n")


def whole_file_encoding(path: Path) -> str:
    """``utf-8`` or ``cp1256`` for a CSV file, from every line of it; :class:`ImportRefused` when
    some lines are UTF-8 text and others are not (the one at fault is named).

    Plain ASCII lines read the same in both and do not count. Chunks of plain ASCII (most of a
    large file) are skipped at C speed; only the other lines are decoded.
    """
    utf8 = other = 0
    first_utf8 = first_other = 0
    line = 1
    tail = b""
    with path.open("rb") as fh:
        while True:
            chunk = fh.read(CHUNK)
            data = tail + chunk
            if chunk and data.isascii():
                line += data.count(b"\n")
                tail = b""
                continue
            pieces = data.split(b"\n")
            tail = pieces.pop() if chunk else b""
            for piece in pieces:
                if not piece.isascii():
                    try:
                        piece.decode("utf-8")
                    except UnicodeDecodeError:
                        other += 1
                        first_other = first_other or line
                    else:
                        utf8 += 1
                        first_utf8 = first_utf8 or line
                line += 1
            if not chunk:
                break
    if not other:
        return "utf-8"
    if not utf8:
        return "cp1256"
    if utf8 >= other:
        why = f"it is UTF-8 but line {first_other} is not (it may be Windows-1256)"
    else:
        why = f"it reads as Windows-1256 but line {first_utf8} is UTF-8"
    raise ImportRefused(
        f"{path.name} mixes encodings: {why}; save it in one encoding (or pass the encoding); nothing was imported",
        details={"file": path.name, "line": first_other if utf8 >= other else first_utf8},
    )


def transcode(path: Path, encoding: str, out: Path) -> None:
    """Write the file's text as UTF-8 to ``out``; :class:`ImportRefused` naming the line of the first
    byte that is not valid in ``encoding``, or of a NUL character."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    lines = 1
    with path.open("rb") as src, out.open("w", encoding="utf-8", newline="") as dst:
        while True:
            chunk = src.read(CHUNK)
            try:
                text = decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                line = lines + bytes(exc.object[: exc.start]).count(b"\n")
                raise ImportRefused(
                    f"{path.name} cannot be read as {encoding}: line {line} has a byte that is not valid in it; "
                    "nothing was imported",
                    details={"file": path.name, "line": line},
                ) from None
            nul = text.find("\x00")
            if nul >= 0:
                raise nul_refusal(path.name, lines + text.count("\n", 0, nul))
            dst.write(text)
            if not chunk:
                break
            lines += text.count("\n")


def nul_refusal(name: str, line: int) -> ImportRefused:
    return ImportRefused(
        f"{name} has a NUL byte on line {line}, which no text value may hold: it is not a CSV text file "
        "(or not in the encoding it was read with); nothing was imported",
        details={"file": name, "line": line},
    )


def first_nul_line(chunk: bytes, lines_before: int) -> int | None:
    """The line of the first NUL byte of ``chunk`` (whose first byte is on line ``lines_before + 1``)."""
    at = chunk.find(b"\x00")
    return None if at < 0 else lines_before + 1 + chunk.count(b"\n", 0, at)
