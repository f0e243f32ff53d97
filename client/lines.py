"""A byte stream cut into lines, for the console client, the load generator and the
test clients: the one place they split what they read. Pure: bytes in, lines out.

A line ends at ``\\n``; a ``\\r`` before it stays in the line (a reader that accepts
CRLF strips it itself). Bytes after the last ``\\n`` are held by the caller until the
next read. Elsewhere: the node's own reader, with its length limit, is
``node.linebuffer``; the comparison load generator's ``loadgen_wire.LineSplitter``
decodes a whole buffer in one go (its receiver's slow path, where that is faster)."""


def split_lines(pending: bytes, data: bytes | bytearray) -> tuple[list[bytes], bytes]:
    """The complete lines of ``pending + data``, without their ``\\n``, and the bytes
    after the last ``\\n`` (the new ``pending``)."""
    lines = (pending + data).split(b"\n")
    return lines, lines.pop()
