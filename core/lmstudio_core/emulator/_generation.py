"""Streaming one prediction onto a channel.

A :class:`PredictionRun` drives a text engine and turns its output into LM Studio's
``predict`` packets: prompt-processing progress, fragments (with reasoning types and
stop-string handling), tool-call packets, and the final ``success`` with statistics and
effective configs. It honours cancellation, the token rate, ``maxPredictedTokens``, the
context length (``stopAtLimit``) and model unloads.

At an unlimited token rate the run yields to the event loop every
:data:`YIELD_EVERY` fragments (and whenever the socket's write buffer is full, since
sending then waits for it to drain), not after every fragment: a ``cancel`` is still seen
within a few fragments and other connections are served in between, but a fast stream
no longer pays a full event-loop cycle per token. Fragments are encoded straight to JSON
text (the same text the generic path produces) instead of through a dict per token, and
queued on the session; the queue is written with one system call before every yield
(before every pause at a limited rate) and ahead of any other packet.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..protocol import encode_json
from ._endpoint import Channel
from ._engines import TextChunk, TextEngine, TextRequest, ToolCallChunk
from ._instances import LoadedInstance
from ._kvconfig import PredictionSettings, kvconfig
from ._pieces import Finished, PieceSource
from ._textflow import ReasoningClassifier, StopStringScanner

__all__ = ["YIELD_EVERY", "PredictionRun", "PredictionSetup", "fragment_json"]

YIELD_EVERY = 16
"""Fragments sent between two yields to the event loop at an unlimited token rate."""

_ENGINE_STOP_REASONS = ("maxPredictedTokensReached", "contextLengthReached", "stopStringFound")
_REASONING_TYPES = ("none", "reasoning", "reasoningStartTag", "reasoningEndTag")
_ENCODED_TYPES = {name: encode_json(name) for name in _REASONING_TYPES}


def fragment_json(text: str, tokens: int, reasoning_type: str) -> str:
    """The ``fragment`` packet, encoded as ``encode_json`` encodes the equivalent dict."""
    encoded_type = _ENCODED_TYPES.get(reasoning_type) or encode_json(reasoning_type)
    return (
        '{"type":"fragment","fragment":{"content":'
        f'{encode_json(text)},"tokensCount":{int(tokens)},"containsDrafted":false,'
        f'"reasoningType":{encoded_type},"isStructural":false}}}}'
    )


@dataclass(frozen=True, slots=True)
class PredictionSetup:
    """Everything a run needs, prepared by the endpoint."""

    instance: LoadedInstance
    engine: TextEngine
    request: TextRequest
    settings: PredictionSettings
    config_values: Mapping[str, Any]
    prompt_tokens: int


class PredictionRun:
    """Generate one reply onto ``channel``."""

    def __init__(self, channel: Channel, setup: PredictionSetup) -> None:
        self.ch = channel
        self.setup = setup
        s = setup.settings
        self.scanner = StopStringScanner(s.stop_strings)
        self.reasoning = ReasoningClassifier(
            s.reasoning_parsing, s.reasoning_start, s.reasoning_end
        )
        self.predicted = 0
        self.pending_tokens = 0
        self.tool_calls = 0
        self.stop_reason: str | None = None
        self.stop_string: str | None = None
        self.started = time.monotonic()
        self.first_token: float | None = None
        self.engine_stats: Any = None
        model_key = setup.instance.spec.model_key
        self.rate = channel.state.faults.tokens_per_second(model_key)
        self.first_delay = channel.state.faults.first_token_delay(model_key)
        self.limit = self._token_limit()
        self._until_yield = YIELD_EVERY

    async def run(self) -> None:
        inst = self.setup.instance
        inst.busy += 1
        try:
            await self._prompt_progress()
            await self._generate()
        finally:
            inst.busy -= 1
            inst.touch()
        await self.ch.send(self._success())

    # -- phases ------------------------------------------------------------------------

    async def _prompt_progress(self) -> None:
        total = self.setup.prompt_tokens
        for progress in (0.0, 1.0):
            done = int(total * progress)
            details = {
                "cachedTokenCount": 0,
                "totalPromptTokenCount": total,
                "processedPromptTokenCount": done,
                "unprocessedPromptTokenCount": total - done,
            }
            await self.ch.send(
                {"type": "promptProcessingProgress", "progress": progress, "details": details}
            )

    async def _generate(self) -> None:
        blocking = self.setup.engine.blocking
        source = PieceSource(self.setup.engine.generate(self.setup.request), blocking)
        try:
            if self.first_delay > 0:
                await self._pause(self.first_delay)
            while self.stop_reason is None:
                if self._interrupted():
                    break
                if blocking:
                    await self.ch.flush()
                piece = await source.next()
                if isinstance(piece, Finished):
                    await self._emit_text(self.scanner.flush(), final=True)
                    self.stop_reason = "toolCalls" if self.tool_calls else "eosFound"
                    self._take_engine_stats(piece.value, ended=True)
                    break
                if isinstance(piece, ToolCallChunk):
                    await self._emit_tool_call(piece)
                elif isinstance(piece, TextChunk):
                    await self._on_text(piece.text, piece.tokens)
                await self._pace()
            if blocking and self.stop_reason == "maxPredictedTokensReached":
                # the engine was given the limit too and normally ends right here
                last = await source.next()
                if isinstance(last, Finished):
                    self._take_engine_stats(last.value, ended=False)
        finally:
            source.close()

    def _take_engine_stats(self, value: Any, *, ended: bool) -> None:
        """Use a real engine's statistics (the generator's return value), if any."""
        if value is None or getattr(value, "predicted_tokens", None) is None:
            return
        self.engine_stats = value
        reason = getattr(value, "stop_reason", None)
        if ended and self.stop_reason == "eosFound" and reason in _ENGINE_STOP_REASONS:
            self.stop_reason = str(reason)

    def _interrupted(self) -> bool:
        if self.ch.cancelled.is_set():
            self.stop_reason = "userStopped"
        elif self.setup.instance not in self.ch.state.store.instances:
            self.stop_reason = "modelUnloaded"
        return self.stop_reason is not None

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.ch.cancelled.wait(), seconds)

    async def _pace(self) -> None:
        if self.rate is not None and self.rate > 0:
            await self.ch.flush()
            await self._pause(1.0 / self.rate)
            return
        self._until_yield -= 1
        if self._until_yield <= 0:
            self._until_yield = YIELD_EVERY
            await self.ch.flush()
            await asyncio.sleep(0)

    # -- text --------------------------------------------------------------------------

    async def _on_text(self, text: str, tokens: int = 1) -> None:
        tokens = max(1, tokens)
        self.predicted += tokens
        self.pending_tokens += tokens
        emit, stop = self.scanner.feed(text)
        if stop is not None:
            await self._emit_text(emit, final=True)
            self.stop_reason, self.stop_string = "stopStringFound", stop
            return
        await self._emit_text(emit)
        limit = self.limit
        if limit is not None and self.predicted >= limit[0]:
            await self._emit_text(self.scanner.flush(), final=True)
            self.stop_reason = limit[1]

    def _token_limit(self) -> tuple[int, str] | None:
        limits = []
        max_tokens = self.setup.settings.max_tokens
        if max_tokens is not None:
            limits.append((max_tokens, "maxPredictedTokensReached"))
        if self.setup.settings.overflow_policy == "stopAtLimit":
            room = self.setup.instance.context_length - self.setup.prompt_tokens
            limits.append((max(room, 1), "contextLengthReached"))
        return min(limits) if limits else None

    async def _emit_text(self, text: str, *, final: bool = False) -> None:
        if not text:
            return
        if self.first_token is None:
            self.first_token = time.monotonic()
        tokens = self.pending_tokens if self.pending_tokens > 1 else 1
        self.pending_tokens = 0
        packet = fragment_json(text, tokens, self.reasoning.classify(text))
        await self.ch.send_encoded("fragment", packet)

    # -- tool calls --------------------------------------------------------------------

    async def _emit_tool_call(self, call: ToolCallChunk) -> None:
        await self._emit_text(self.scanner.flush())
        if self.first_token is None:
            self.first_token = time.monotonic()
        self.tool_calls += 1
        raw = json.dumps({"name": call.name, "arguments": _loads(call.arguments_json)})
        raw_content = f"<tool_call>\n{raw}\n</tool_call>"
        tokenizer = self.setup.engine
        self.predicted += max(tokenizer.count_tokens(raw_content), 1)
        await self.ch.send({"type": "toolCallGenerationStart", "toolCallId": call.call_id})
        await self.ch.send({"type": "toolCallGenerationNameReceived", "name": call.name})
        for chunk in _chunks(call.arguments_json):
            await self.ch.send(
                {"type": "toolCallGenerationArgumentFragmentGenerated", "content": chunk}
            )
        arguments = _loads(call.arguments_json)
        if not isinstance(arguments, dict):
            error = {"title": "Failed to parse tool call", "rootTitle": "Failed to parse tool call"}
            await self.ch.send(
                {"type": "toolCallGenerationFailed", "error": error, "rawContent": raw_content}
            )
            return
        request = {
            "type": "function",
            "id": call.call_id,
            "name": call.name,
            "arguments": arguments,
        }
        await self.ch.send(
            {"type": "toolCallGenerationEnd", "toolCallRequest": request, "rawContent": raw_content}
        )

    # -- result ------------------------------------------------------------------------

    def _success(self) -> dict[str, Any]:
        inst = self.setup.instance
        return {
            "type": "success",
            "stats": self._stats(),
            "modelInfo": inst.to_wire(),
            "loadModelConfig": kvconfig(inst.load_config),
            "predictionConfig": kvconfig(self.setup.config_values),
        }

    def _stats(self) -> dict[str, Any]:
        now = time.monotonic()
        first = self.first_token if self.first_token is not None else now
        stats: dict[str, Any] = {"stopReason": self.stop_reason or "eosFound"}
        if self.stop_string is not None:
            stats["stopString"] = self.stop_string
        generating = now - first
        if self.predicted and generating > 0:
            stats["tokensPerSecond"] = round(self.predicted / generating, 3)
        stats["numGpuLayers"] = -1
        stats["timeToFirstTokenSec"] = round(first - self.started, 6)
        stats["totalTimeSec"] = round(now - self.started, 6)
        stats["promptTokensCount"] = self.setup.prompt_tokens
        stats["predictedTokensCount"] = self.predicted
        stats["totalTokensCount"] = self.setup.prompt_tokens + self.predicted
        if self.engine_stats is not None:
            _apply_engine_stats(stats, self.engine_stats)
        return stats


def _apply_engine_stats(stats: dict[str, Any], engine: Any) -> None:
    """Replace the emulator's estimates by what the engine measured."""
    prompt = getattr(engine, "prompt_tokens", None)
    if isinstance(prompt, int):
        stats["promptTokensCount"] = prompt
    predicted = int(engine.predicted_tokens)
    stats["predictedTokensCount"] = predicted
    stats["totalTokensCount"] = stats["promptTokensCount"] + predicted
    speed = getattr(engine, "tokens_per_second", None)
    if isinstance(speed, int | float) and speed > 0:
        stats["tokensPerSecond"] = round(float(speed), 3)
    first = getattr(engine, "time_to_first_token_sec", None)
    if isinstance(first, int | float):
        stats["timeToFirstTokenSec"] = round(float(first), 6)


def _loads(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _chunks(text: str, size: int = 8) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]
