"""Images: send a picture with a question to a vision model.

The picture here is a small PNG drawn in memory (no image library needed); a path,
bytes, a binary file or a ``data:`` URI work the same way.

Prerequisites: LM Studio with its server running (or ``python -m lmstudio_core.emulator``)
and a vision model. Set ``LMSTUDIO_BASE_URL`` unless LM Studio runs on this machine;
``LMSTUDIO_VISION_MODEL`` selects the model (default ``qwen2-vl-2b-instruct``).
"""

from __future__ import annotations

import os
import struct
import zlib

from lmstudio_core import Chat, Client

BASE_URL = os.environ.get("LMSTUDIO_BASE_URL")  # None: find a local LM Studio
MODEL = os.environ.get("LMSTUDIO_VISION_MODEL", "qwen2-vl-2b-instruct")


def red_square_png(size: int = 32) -> bytes:
    """A ``size`` x ``size`` red square, as PNG bytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)  # 8-bit RGB
    rows = b"".join(b"\x00" + b"\xff\x00\x00" * size for _ in range(size))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def main() -> None:
    png = red_square_png()
    with Client(BASE_URL) as client:
        model = client.llm.model(MODEL)

        # Upload once, reuse the handle in as many messages as you like.
        image = client.files.prepare_image(png, name="red-square.png")
        print(f"Uploaded {image.name} ({image.size_bytes} bytes)")

        chat = Chat()
        chat.add_user_message("What colour is this square?", images=[image])
        result = model.respond(chat, max_tokens=100)
        print(f"Answer: {result.content}")


if __name__ == "__main__":
    main()
