"""Chat history: messages, images, tool calls and results, and their wire form.

:class:`Chat` accepts LM Studio's own message shape, OpenAI-style dicts
(``{"role": "user", "content": "hi"}``, ``tool_calls``, ``tool_call_id``), LangChain-style
``(role, text)`` tuples and :class:`ChatMessage` values. Images may be file paths, bytes,
file objects, data URIs or already uploaded :class:`FileHandle` values; the clients upload
pending images through the ``files`` namespace before a prediction and this module only
describes what to upload (:meth:`Chat.pending_images`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import mimetypes
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal, cast

from .tools import ToolCallRequest, new_tool_call_id

__all__ = [
    "REASONING_END",
    "REASONING_START",
    "Chat",
    "ChatMessage",
    "FileHandle",
    "HistoryLike",
    "ImageData",
    "ImageInput",
    "MessageLike",
    "Role",
    "image_data",
]

Role = Literal["system", "user", "assistant", "tool"]
_ROLE_ALIASES: dict[str, Role] = {
    "system": "system",
    "developer": "system",
    "user": "user",
    "human": "user",
    "assistant": "assistant",
    "ai": "assistant",
    "tool": "tool",
}


@dataclass(frozen=True, slots=True)
class FileHandle:
    """A file uploaded to LM Studio (valid while this client stays connected)."""

    name: str
    identifier: str
    size_bytes: int
    file_type: str = "image"

    def to_wire(self) -> dict[str, Any]:
        return {
            "type": "file",
            "name": self.name,
            "identifier": self.identifier,
            "sizeBytes": self.size_bytes,
            "fileType": self.file_type,
        }

    @classmethod
    def from_upload(cls, name: str, result: Mapping[str, Any]) -> FileHandle:
        return cls(
            name,
            str(result["identifier"]),
            int(result.get("sizeBytes", 0)),
            str(result.get("fileType", "unknown")),
        )


@dataclass(frozen=True, slots=True)
class ImageData:
    """Image bytes not uploaded yet."""

    name: str
    content: bytes = field(repr=False)

    @property
    def key(self) -> str:
        """Content hash: identical images are uploaded once per request."""
        return hashlib.sha256(self.content).hexdigest()

    def upload_parameter(self) -> dict[str, Any]:
        encoded = base64.b64encode(self.content).decode("ascii")
        return {"name": self.name, "contentBase64": encoded}


ImageInput = str | os.PathLike[str] | bytes | IO[bytes] | FileHandle | ImageData


def _from_data_uri(uri: str) -> ImageData:
    header, _, payload = uri.partition(",")
    if ";base64" not in header:
        raise ValueError("image data URIs must be base64-encoded ('data:image/png;base64,...')")
    mime = header[len("data:") :].split(";")[0] or "image/png"
    extension = mimetypes.guess_extension(mime) or ".png"
    try:
        content = base64.b64decode(payload, validate=True)
    except binascii.Error as exc:
        raise ValueError(f"invalid base64 in image data URI: {exc}") from None
    return ImageData(f"image{extension}", content)


def image_data(source: ImageInput, name: str | None = None) -> ImageData | FileHandle:
    """Normalise an image source: path, bytes, file object, data URI or handle."""
    if isinstance(source, FileHandle | ImageData):
        return source
    if isinstance(source, bytes | bytearray):
        return ImageData(name or f"image-{hashlib.sha256(source).hexdigest()[:12]}", bytes(source))
    if isinstance(source, str) and source.startswith("data:"):
        data = _from_data_uri(source)
        return ImageData(name or data.name, data.content)
    if isinstance(source, str) and source.startswith(("http://", "https://")):
        raise ValueError("LM Studio cannot fetch image URLs: download the image and pass its bytes")
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"image file not found: {path}")
        return ImageData(name or path.name, path.read_bytes())
    read = getattr(source, "read", None)
    if callable(read):
        content = read()
        if not isinstance(content, bytes):
            raise TypeError("image file objects must be opened in binary mode ('rb')")
        default = Path(str(getattr(source, "name", "image"))).name
        return ImageData(name or default, content)
    raise TypeError(
        f"an image must be a path, bytes, a binary file object or a data URI, "
        f"not {type(source).__name__}"
    )


@dataclass(slots=True)
class ChatMessage:
    """One message of a chat.

    Attributes:
        role: ``system``, ``user``, ``assistant`` or ``tool``.
        content: The text (for ``tool``: the tool's output).
        images: Images attached to a user message.
        tool_calls: Tool calls requested in an assistant message.
        tool_call_id: For ``tool`` messages, the request this answers.
        name: For ``tool`` messages, the tool's name.
        reasoning: For ``assistant`` messages, the model's reasoning before its answer.
            It is sent the way LM Studio keeps it in its own chats: wrapped in
            ``<think>``...``</think>`` before the answer text; the model's prompt template
            decides what to keep of earlier turns.
    """

    role: Role
    content: str = ""
    images: list[FileHandle | ImageData] = field(default_factory=list)
    tool_calls: list[ToolCallRequest] = field(default_factory=list)
    tool_call_id: str | None = None
    name: str | None = None
    reasoning: str | None = None

    def __post_init__(self) -> None:
        if self.reasoning and self.role != "assistant":
            raise ValueError(f"only assistant messages carry reasoning, not {self.role} messages")

    def wire_text(self) -> str:
        """The text part sent to LM Studio: the reasoning (if any), then the answer."""
        if not self.reasoning:
            return self.content
        return f"{REASONING_START}{self.reasoning}{REASONING_END}{self.content}"


REASONING_START = "<think>"
REASONING_END = "</think>"
"""How an assistant message's reasoning is written back into the history."""

MessageLike = ChatMessage | Mapping[str, Any] | tuple[str, Any]


def _role(value: Any) -> Role:
    role = _ROLE_ALIASES.get(str(value).lower())
    if role is None:
        raise ValueError(f"unknown message role {value!r}: use system, user, assistant or tool")
    return role


def _parse_tool_call(data: Mapping[str, Any]) -> ToolCallRequest:
    if data.get("type") == "toolCallRequest":
        data = data.get("toolCallRequest") or {}
    function = data.get("function")
    if isinstance(function, Mapping):  # OpenAI
        arguments: Any = function.get("arguments") or {}
        name = function.get("name")
    else:  # LangChain ("args") or LM Studio ("arguments")
        arguments = data.get("args", data.get("arguments")) or {}
        name = data.get("name")
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments)
        except ValueError as exc:
            raise ValueError(f"tool call arguments are not valid JSON: {exc}") from None
    if not isinstance(name, str) or not isinstance(arguments, Mapping):
        raise ValueError(f"cannot read tool call {dict(data)!r}: it needs a name and arguments")
    return ToolCallRequest(str(data.get("id") or new_tool_call_id()), name, dict(arguments))


def _parse_part(part: Any, message: ChatMessage) -> None:
    if isinstance(part, str):
        message.content += part
        return
    if not isinstance(part, Mapping):
        raise TypeError(f"unsupported message content part {part!r}")
    kind = part.get("type")
    if kind == "text":
        message.content += str(part.get("text", ""))
    elif kind == "image_url":
        url = part.get("image_url")
        url = url.get("url") if isinstance(url, Mapping) else url
        if not isinstance(url, str):
            raise ValueError("an image_url part needs a URL string (a data URI)")
        message.images.append(image_data(url))
    elif kind == "image":
        source = part.get("base64") or part.get("data")
        if source is not None:
            message.images.append(image_data(base64.b64decode(source)))
        else:
            message.images.append(image_data(part.get("url") or part.get("path") or ""))
    elif kind == "file":
        message.images.append(
            FileHandle(
                str(part["name"]), str(part["identifier"]), int(part.get("sizeBytes", 0)),
                str(part.get("fileType", "image")),
            )
        )  # fmt: skip
    elif kind == "toolCallRequest":
        message.tool_calls.append(_parse_tool_call(part))
    elif kind == "toolCallResult":
        message.content += str(part.get("content", ""))
        message.tool_call_id = part.get("toolCallId")
        message.name = part.get("name")
    else:
        raise ValueError(f"unsupported message content part type {kind!r}")


def message_from(data: MessageLike) -> ChatMessage:
    """Convert a dict, ``(role, content)`` tuple or message to a :class:`ChatMessage`."""
    if isinstance(data, ChatMessage):
        return data
    if isinstance(data, tuple):
        if len(data) != 2:
            raise ValueError("message tuples must be (role, content)")
        data = {"role": data[0], "content": data[1]}
    if not isinstance(data, Mapping):
        raise TypeError(f"a message must be a dict, a (role, content) tuple or a ChatMessage, "
                        f"not {type(data).__name__}")  # fmt: skip
    if "role" not in data:
        raise ValueError(f"message {dict(data)!r} has no 'role'")
    message = ChatMessage(_role(data["role"]))
    content = data.get("content")
    if message.role == "tool" and content is not None and not isinstance(content, str | list):
        content = json.dumps(content, ensure_ascii=False, default=str)
    for part in content if isinstance(content, list) else [content or ""]:
        _parse_part(part, message)
    for call in data.get("tool_calls") or []:
        message.tool_calls.append(_parse_tool_call(call))
    message.tool_call_id = data.get("tool_call_id", message.tool_call_id)
    message.name = data.get("name", message.name)
    reasoning = data.get("reasoning_content", data.get("reasoning"))
    if reasoning:
        if message.role != "assistant":
            raise ValueError("only assistant messages carry reasoning ('reasoning_content')")
        message.reasoning = str(reasoning)
    if message.role == "tool" and not message.tool_call_id:
        raise ValueError("a tool message needs the 'tool_call_id' of the call it answers")
    for image in data.get("images") or []:
        message.images.append(image_data(image))
    return message


class Chat:
    """A conversation to send to an LLM."""

    def __init__(
        self, system_prompt: str | None = None, messages: Iterable[MessageLike] = ()
    ) -> None:
        self.messages: list[ChatMessage] = []
        if system_prompt is not None:
            self.add_system_prompt(system_prompt)
        for message in messages:
            self.append(message)

    @classmethod
    def from_history(cls, history: Chat | str | Sequence[MessageLike] | Mapping[str, Any]) -> Chat:
        """Build a chat from a prompt, a list of messages, ``{"messages": [...]}`` or a Chat."""
        if isinstance(history, Chat):
            return history.copy()
        if isinstance(history, str):
            return cls(messages=[{"role": "user", "content": history}])
        if isinstance(history, Mapping):
            if "messages" in history:
                return cls(messages=history["messages"])
            return cls(messages=[history])
        if isinstance(history, Sequence):
            return cls(messages=cast("Sequence[MessageLike]", history))
        raise TypeError(
            f"history must be a string, a Chat, a list of messages or a dict, "
            f"not {type(history).__name__}"
        )

    def copy(self) -> Chat:
        chat = Chat()
        chat.messages = [
            ChatMessage(m.role, m.content, list(m.images), list(m.tool_calls), m.tool_call_id,
                        m.name, m.reasoning)
            for m in self.messages
        ]  # fmt: skip
        return chat

    def __len__(self) -> int:
        return len(self.messages)

    def __iter__(self) -> Iterator[ChatMessage]:
        return iter(self.messages)

    def __repr__(self) -> str:
        return f"Chat({len(self.messages)} messages)"

    def append(self, message: MessageLike) -> ChatMessage:
        converted = message_from(message)
        self.messages.append(converted)
        return converted

    def add_system_prompt(self, text: str) -> ChatMessage:
        return self.append(ChatMessage("system", text))

    def add_user_message(self, text: str = "", *, images: Iterable[ImageInput] = ()) -> ChatMessage:
        return self.append(ChatMessage("user", text, [image_data(i) for i in images]))

    def add_assistant_response(
        self,
        response: Any = "",
        tool_calls: Iterable[ToolCallRequest] = (),
        *,
        reasoning: str | None = None,
    ) -> ChatMessage:
        """Append the model's reply: a string or a prediction result (text, tool calls
        and reasoning)."""
        if isinstance(response, str):
            return self.append(
                ChatMessage("assistant", response, tool_calls=list(tool_calls), reasoning=reasoning)
            )
        calls = list(tool_calls) or list(getattr(response, "tool_calls", []))
        if reasoning is None:
            reasoning = getattr(response, "reasoning", None) or None
        return self.append(
            ChatMessage("assistant", str(response.content), tool_calls=calls, reasoning=reasoning)
        )

    def add_tool_result(
        self, request: ToolCallRequest | str, content: Any, *, name: str | None = None
    ) -> ChatMessage:
        """Append a tool's output for ``request`` (a ToolCallRequest or its id)."""
        if isinstance(request, ToolCallRequest):
            call_id, name = request.id, name or request.name
        else:
            call_id = request
        text = content if isinstance(content, str) else json.dumps(content, default=str)
        return self.append(ChatMessage("tool", text, tool_call_id=call_id, name=name))

    def with_uploads(self, uploads: Mapping[str, FileHandle]) -> Chat:
        """A copy whose pending images are replaced by their uploaded handles."""
        chat = self.copy()
        for message in chat.messages:
            message.images = [
                uploads.get(image.key, image) if isinstance(image, ImageData) else image
                for image in message.images
            ]
        return chat

    def pending_images(self) -> list[ImageData]:
        """Images that must be uploaded before this chat can be sent (deduplicated)."""
        seen: dict[str, ImageData] = {}
        for message in self.messages:
            for image in message.images:
                if isinstance(image, ImageData):
                    seen.setdefault(image.key, image)
        return list(seen.values())

    def to_wire(self, uploaded: Mapping[str, FileHandle] | None = None) -> dict[str, Any]:
        """The wire ``ChatHistoryData``; ``uploaded`` maps image keys to their handles."""
        messages: list[dict[str, Any]] = []
        for message in self.messages:
            if message.role == "tool":
                part = {"type": "toolCallResult", "content": message.content}
                if message.tool_call_id:
                    part["toolCallId"] = message.tool_call_id
                if message.name:
                    part["name"] = message.name
                if messages and messages[-1]["role"] == "tool":
                    messages[-1]["content"].append(part)
                else:
                    messages.append({"role": "tool", "content": [part]})
                continue
            content: list[dict[str, Any]] = []
            text = message.wire_text()
            if text or not (message.images and message.role == "user"):
                content.append({"type": "text", "text": text})
            for image in message.images:
                content.append(_image_part(image, uploaded or {}))
            for call in message.tool_calls:
                content.append({"type": "toolCallRequest", "toolCallRequest": call.to_wire()})
            messages.append({"role": message.role, "content": content})
        return {"messages": messages}


HistoryLike = Chat | str | Sequence[MessageLike] | Mapping[str, Any]
"""Anything a prediction accepts as its conversation."""


def _image_part(image: FileHandle | ImageData, uploaded: Mapping[str, FileHandle]) -> Any:
    if isinstance(image, FileHandle):
        return image.to_wire()
    handle = uploaded.get(image.key)
    if handle is None:
        raise RuntimeError(f"image {image.name!r} was not uploaded before sending the chat")
    return handle.to_wire()
