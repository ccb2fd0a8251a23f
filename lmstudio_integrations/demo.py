"""A tour of LM Studio from Python: the core SDK, LangChain and LlamaIndex.

Run it with ``python -m lmstudio_integrations.demo`` (or ``./dev.sh demo``). It uses LM
Studio if one answers at ``LMSTUDIO_BASE_URL`` or on this machine. Otherwise it starts
the LM Studio emulator that ships with lmstudio-core: with real small models (SmolLM2-135M
through llama.cpp, all-MiniLM-L6-v2 through ONNX Runtime) when their optional packages
are installed, else with its deterministic engine.

Options: ``--emulator`` (do not look for LM Studio), ``--deterministic`` (emulator
without the real models), ``--base-url URL``. ``LMSTUDIO_MODEL`` and
``LMSTUDIO_EMBEDDING_MODEL`` choose the models when LM Studio is used.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass

from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from llama_index.core import Document, Settings, VectorStoreIndex
from lmstudio_core import (
    Client,
    ConnectError,
    LMStudioError,
    ReasoningFragment,
    TextFragment,
)
from lmstudio_core.emulator import EmulatorThread
from pydantic import BaseModel, Field

from .langchain import ChatLMStudio
from .llamaindex import LMStudio, LMStudioEmbedding

__all__ = ["main"]

EMULATOR_MAX_TOKENS = 64
"""Reply length unit on the emulator: keeps the tour short on a small CPU."""
LM_STUDIO_MAX_TOKENS = 256
"""Reply length unit with LM Studio: room for a reasoning model to think first."""

# The emulator's models: real ones when installed, else deterministic stand-ins.
REAL_LLM, REAL_EMBEDDING = "smollm2-135m-instruct", "all-minilm-l6-v2"
FAKE_LLM, FAKE_EMBEDDING = "qwen3-4b", "text-embedding-nomic-embed-text-v1.5"
EMULATOR_LOAD_SECONDS = 0.4  # a short simulated load, so that there is progress to show
EMULATOR_TOKENS_PER_SECOND = 60  # the deterministic engine streams at a readable pace

DOCUMENTS = [
    "LM Studio runs large language models locally; its server listens on port 1234.",
    "The lmstudio-core SDK talks to LM Studio over WebSockets, with sync and async clients.",
    "LangChain users get ChatLMStudio, LMStudioLLM and LMStudioEmbeddings.",
    "LlamaIndex users get the LMStudio LLM and the LMStudioEmbedding model.",
    "The LM Studio emulator lets tests and demos run on machines without LM Studio.",
]


@dataclass(frozen=True, slots=True)
class Backend:
    """Where the tour runs and with which models."""

    base_url: str
    description: str
    llm: str
    embedding: str | None
    max_tokens: int = EMULATOR_MAX_TOKENS
    """Reply length unit (sections use small multiples of it)."""


class City(BaseModel):
    """A city, for the structured-output section."""

    name: str = Field(max_length=40)
    country: str = Field(max_length=40)
    landmark: str = Field(max_length=60, description="A famous landmark of the city")


def heading(title: str) -> None:
    print(f"\n=== {title} ===")


class ProgressLine:
    """Load progress on one line: a bar redrawn in place on a terminal, else percentages."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.updates = 0
        self.redraw = sys.stdout.isatty()

    def __call__(self, fraction: float) -> None:
        self.updates += 1
        if self.redraw:
            bar = "#" * int(fraction * 24)
            print(f"\r{self.label} [{bar:<24}] {fraction:4.0%}", end="", flush=True)
        else:
            print(f"{self.label} ..." if self.updates == 1 else "", end="")
            print(f" {fraction:.0%}", end="", flush=True)

    def finish(self) -> None:
        print("" if self.updates else f"{self.label}: already loaded")


# -- choosing a backend ----------------------------------------------------------------------


def find_lm_studio(base_url: str | None) -> Client | None:
    """A client for LM Studio at ``base_url`` (or found locally), if one answers."""
    client = Client(base_url, timeout=5, max_retries=0)
    try:
        client.system.version()
    except ConnectError:
        client.close()
        return None
    return client


def lm_studio_backend(client: Client) -> Backend:
    version = client.system.version().version
    llm = os.environ.get("LMSTUDIO_MODEL") or _pick(client, "llm")
    embedding = os.environ.get("LMSTUDIO_EMBEDDING_MODEL") or _pick(client, "embedding")
    if llm is None:
        raise SystemExit("LM Studio has no LLM: download one (e.g. qwen3-4b) and run again.")
    description = f"LM Studio {version} at {client.base_url}"
    return Backend(str(client.base_url), description, llm, embedding, LM_STUDIO_MAX_TOKENS)


def _pick(client: Client, domain: str) -> str | None:
    """A loaded model of ``domain``, else the smallest downloaded one."""
    namespace = client.llm if domain == "llm" else client.embedding
    loaded = namespace.list_loaded()
    if loaded:
        return loaded[0].identifier
    downloaded = sorted(namespace.list_downloaded(), key=lambda info: info.size_bytes)
    return downloaded[0].model_key if downloaded else None


def start_emulator(stack: contextlib.ExitStack, *, deterministic: bool) -> Backend:
    """Start the emulator (real engines when available) for the rest of the tour."""
    if not deterministic:
        from lmstudio_core.emulator.real import INSTALL_COMMAND, real_engines_available

        if real_engines_available():
            return _start_real_emulator(stack)
        print(f"The real engines are not installed ({INSTALL_COMMAND}).")
    emulator = stack.enter_context(
        EmulatorThread(
            load_seconds=EMULATOR_LOAD_SECONDS, tokens_per_second=EMULATOR_TOKENS_PER_SECOND
        )
    )
    description = (
        f"the LM Studio emulator at {emulator.base_url}, deterministic engine "
        "(replies are placeholders, not a model's)"
    )
    return Backend(emulator.base_url, description, FAKE_LLM, FAKE_EMBEDDING)


def _start_real_emulator(stack: contextlib.ExitStack) -> Backend:
    from lmstudio_core.emulator.real import real_engines

    real = real_engines(threads=2)
    stack.callback(real.close)
    started = time.perf_counter()
    real.load()  # read both models from disk now rather than during the first reply
    emulator = stack.enter_context(
        EmulatorThread(**real.emulator_options(), load_seconds=EMULATOR_LOAD_SECONDS)
    )
    description = (
        f"the LM Studio emulator at {emulator.base_url} with real models: SmolLM2-135M "
        f"(llama.cpp) and all-MiniLM-L6-v2 (ONNX Runtime), ready in "
        f"{time.perf_counter() - started:.1f} s"
    )
    return Backend(emulator.base_url, description, REAL_LLM, REAL_EMBEDDING)


# -- the sections ----------------------------------------------------------------------------


def core_streaming(client: Client, backend: Backend) -> None:
    heading("1. Core SDK: load with progress, stream reasoning and answer, statistics")
    progress = ProgressLine(f"Loading {backend.llm}")
    model = client.llm.model(backend.llm, progress=progress)
    progress.finish()
    print(f"Context length: {model.get_context_length()} tokens")
    if backend.embedding is not None:
        load_embedding_model(client, backend.embedding)

    shown = ""
    prompt = "In two short sentences: why is the sky blue?"
    with model.respond_stream(prompt, temperature=0.3, max_tokens=backend.max_tokens * 2) as stream:
        for event in stream:
            if isinstance(event, ReasoningFragment | TextFragment):
                kind = "Thinking" if isinstance(event, ReasoningFragment) else "Answer"
                if kind != shown:
                    shown = kind
                    print(f"\n{kind}: ", end="")
                print(event.text, end="", flush=True)
        result = stream.result()
    print()
    if not result.reasoning:
        print("(This model answers without a reasoning phase; a reasoning model's thinking")
        print(" would stream first, apart from the answer.)")
    stats = result.stats
    print(
        f"Stats: {stats.predicted_tokens} tokens, {stats.tokens_per_second or 0:.1f} tok/s, "
        f"first token after {stats.time_to_first_token or 0:.2f} s, "
        f"stop reason {result.stop_reason}"
    )


def load_embedding_model(client: Client, key: str) -> None:
    """Load the embedding model explicitly, unless it is loaded already.

    LM Studio's JIT auto-evict keeps one *JIT-loaded* model at a time: had both models been
    loaded on demand, loading the LLM would unload the embedding model. An explicit load
    is exempt; this one lasts as long as the demo's connection.
    """
    instances = client.embedding.list_loaded()
    loaded = {m.identifier for m in instances} | {m.info.model_key for m in instances if m.info}
    if key in loaded:
        print(f"{key}: already loaded")
        return
    progress = ProgressLine(f"Loading {key}")
    client.embedding.load(key, progress=progress)
    progress.finish()


def langchain_chain(backend: Backend) -> None:
    heading("2. LangChain: prompt | ChatLMStudio | StrOutputParser, streamed")
    llm = ChatLMStudio(
        model=backend.llm,
        base_url=backend.base_url,
        temperature=0.7,
        max_tokens=backend.max_tokens,
        reasoning=False,  # models that can switch thinking off answer at once
    )
    prompt = ChatPromptTemplate.from_messages(
        [
            ("system", "You are a poet. Reply with a two-line poem and nothing else."),
            ("human", "Write about {topic}."),
        ]
    )
    chain = prompt | llm | StrOutputParser()
    print("Topic: the sea\n")
    try:
        for piece in chain.stream({"topic": "the sea"}):
            print(piece, end="", flush=True)
    finally:
        llm.close()
    print()


def langchain_structured(backend: Backend) -> None:
    heading("3. LangChain: structured output (with_structured_output, pydantic)")
    llm = ChatLMStudio(
        model=backend.llm,
        base_url=backend.base_url,
        temperature=0,
        max_tokens=backend.max_tokens * 3,
        reasoning=False,
    )
    try:
        city = llm.with_structured_output(City).invoke("Describe Paris.")
    finally:
        llm.close()
    print(f"{city!r}")


def llamaindex_rag(backend: Backend) -> None:
    heading("4. LlamaIndex: VectorStoreIndex query over local documents")
    if backend.embedding is None:
        print("Skipped: LM Studio has no embedding model (download one, e.g. nomic-embed-text).")
        return
    llm = LMStudio(
        model_name=backend.llm,
        base_url=backend.base_url,
        temperature=0,
        max_tokens=backend.max_tokens,
        thinking=False,
    )
    embed_model = LMStudioEmbedding(model_name=backend.embedding, base_url=backend.base_url)
    Settings.llm, Settings.embed_model = llm, embed_model  # no fallback to a hosted model
    question = "Which port does the LM Studio server listen on?"
    try:
        index = VectorStoreIndex.from_documents([Document(text=text) for text in DOCUMENTS])
        print(f"Indexed {len(DOCUMENTS)} documents with {backend.embedding}")
        response = index.as_query_engine(similarity_top_k=2).query(question)
    finally:
        llm.close()
        embed_model.close()
    for node in response.source_nodes:
        print(f"  retrieved ({node.score or 0:.3f}): {node.node.get_content()}")
    print(f"Q: {question}\nA: {str(response).strip()}")


def cancelled_stream(client: Client, backend: Backend) -> None:
    heading("5. Cancelling a stream")
    model = client.llm.model(backend.llm)
    prompt = "Tell me a long story about a lighthouse keeper."
    with model.respond_stream(prompt, max_tokens=backend.max_tokens * 4) as stream:
        for count, text in enumerate(stream.text_stream, start=1):
            print(text, end="", flush=True)
            if count == 12:
                stream.cancel()  # LM Studio stops; the fragments in flight still arrive
        result = stream.result()
    outcome = "cancelled" if result.stop_reason == "userStopped" else "finished before the cancel"
    print(f" [{outcome}]\nStop reason: {result.stop_reason} after {len(result.content)} chars")


# -- main ------------------------------------------------------------------------------------


def run(backend: Backend) -> None:
    print(f"Backend: {backend.description}")
    print(f"Models: {backend.llm} (LLM), {backend.embedding or 'none'} (embeddings)")
    with Client(backend.base_url) as client:
        core_streaming(client, backend)
        langchain_chain(backend)
        langchain_structured(backend)
        llamaindex_rag(backend)
        cancelled_stream(client, backend)


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m lmstudio_integrations.demo",
        description="A tour of LM Studio from Python: core SDK, LangChain and LlamaIndex.",
    )
    parser.add_argument("--base-url", help="LM Studio's address (default: LMSTUDIO_BASE_URL)")
    parser.add_argument("--emulator", action="store_true", help="do not look for LM Studio")
    parser.add_argument(
        "--deterministic", action="store_true", help="emulator without the real models"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    started = time.perf_counter()
    print("LM Studio from Python: core SDK, LangChain and LlamaIndex")
    with contextlib.ExitStack() as stack:
        client = None
        if not (arguments.emulator or arguments.deterministic):
            base_url = arguments.base_url or os.environ.get("LMSTUDIO_BASE_URL") or None
            client = find_lm_studio(base_url)
            if client is None:
                where = base_url or "this machine"
                print(f"No LM Studio answers on {where}: starting the emulator.")
        if client is not None:
            with client:
                backend = lm_studio_backend(client)
        else:
            backend = start_emulator(stack, deterministic=arguments.deterministic)
        try:
            run(backend)
        except LMStudioError as exc:
            print(f"\nLM Studio error: {exc}", file=sys.stderr)
            return 1
    print(f"\nDone in {time.perf_counter() - started:.1f} s.")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
