"""Rendering chats into prompt text.

Without a prompt template in the request the model's own template (the engine's) is
used. A template supplied by the client (e.g. the pass-through template of the Python
client's text completion) is honoured: manual templates are applied directly, Jinja
templates are rendered with ``jinja2`` in a sandbox when it is installed, otherwise
(and on any template error) the message contents are concatenated.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["message_text", "render_with_template", "sets_prompt_template"]

logger = logging.getLogger(__name__)

_TEMPLATE_KEY = "llm.prediction.promptTemplate"


def sets_prompt_template(layers: Sequence[Sequence[Mapping[str, Any]]]) -> bool:
    """Whether any layer overrides the prompt template."""
    return any(f.get("key") == _TEMPLATE_KEY and "value" in f for layer in layers for f in layer)


def message_text(message: Mapping[str, Any]) -> str:
    """The text of a wire chat message (text parts and tool results, in order)."""
    parts = []
    for part in message.get("content", []):
        if part.get("type") == "text":
            parts.append(str(part.get("text", "")))
        elif part.get("type") == "toolCallResult":
            parts.append(str(part.get("content", "")))
    return "".join(parts)


def render_with_template(template: Mapping[str, Any], messages: Sequence[Mapping[str, Any]]) -> str:
    """Render ``messages`` with a client-supplied ``llmPromptTemplate`` value."""
    simple = [{"role": m.get("role", "user"), "content": message_text(m)} for m in messages]
    if template.get("type") == "manual":
        manual = template.get("manualPromptTemplate")
        if isinstance(manual, Mapping):
            return _render_manual(manual, simple)
    jinja = template.get("jinjaPromptTemplate")
    if isinstance(jinja, Mapping) and isinstance(jinja.get("template"), str):
        rendered = _render_jinja(jinja["template"], simple)
        if rendered is not None:
            return rendered
    return "".join(m["content"] for m in simple)


def _render_manual(manual: Mapping[str, Any], messages: Sequence[Mapping[str, str]]) -> str:
    out = []
    for message in messages:
        role = message["role"]
        prefix = {"system": "System", "user": "User", "assistant": "Assistant"}.get(role, "User")
        before = str(manual.get(f"before{prefix}", ""))
        after = str(manual.get(f"after{prefix}", ""))
        out.append(f"{before}{message['content']}{after}")
    out.append(str(manual.get("beforeAssistant", "")))
    return "".join(out)


def _render_jinja(source: str, messages: Sequence[Mapping[str, str]]) -> str | None:
    try:
        sandbox = importlib.import_module("jinja2.sandbox")
    except ImportError:
        return None
    try:
        env = sandbox.ImmutableSandboxedEnvironment()
        rendered = env.from_string(source).render(
            messages=list(messages), add_generation_prompt=True, bos_token="", eos_token=""
        )
    except Exception:
        logger.debug("prompt template failed to render; concatenating messages")
        return None
    return str(rendered)
