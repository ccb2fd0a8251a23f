"""The ``llm`` namespace's prediction endpoints.

``predict`` (chat, and the Python client's text completion through its
``completeModeFormatting`` layer), ``completeRawText`` (the HEAD JS client's
completion) and ``applyPromptTemplate``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from . import _errors
from ._endpoint import Channel, Endpoint, Request, channel, rpc
from ._engines import TextEngine, TextRequest, call_engine
from ._generation import PredictionRun, PredictionSetup
from ._instances import LoadedInstance
from ._kvconfig import PredictionSettings, collapse, prediction_defaults
from ._models import resolve
from ._params import ApplyPromptTemplateParams, CompleteRawTextParams, PredictParams
from ._prompt import render_with_template, sets_prompt_template
from ._record import PredictionRecord

__all__ = ["predict_endpoints"]

Layers = list[list[dict[str, Any]]]


def _config_layers(req: Request, preset: str | None, client_layers: Layers) -> Layers:
    layers: Layers = []
    if preset is not None:
        fields = req.state.preset_fields(preset)
        if fields is None:
            raise _errors.preset_not_found(preset, req.state.preset_sample())
        layers.append(fields)
    return layers + client_layers


def _check_files(req: Request, inst: LoadedInstance, messages: Sequence[Mapping[str, Any]]) -> None:
    for message in messages:
        for part in message.get("content", []):
            if part.get("type") != "file":
                continue
            if part.get("fileType") == "image" and not inst.spec.vision:
                raise _errors.vision_not_supported()
            if req.state.files.get(req.client, str(part.get("identifier"))) is None:
                raise _errors.file_not_found(str(part.get("identifier")))


def _user_text(text: str) -> dict[str, Any]:
    return {"role": "user", "content": [{"type": "text", "text": text}]}


def _sets(layers: Layers, key: str) -> bool:
    """Whether a preset or client layer sets ``key``."""
    return any(f.get("key") == key and "value" in f for layer in layers for f in layer)


async def _render(
    engine: TextEngine, layers: Layers, settings: PredictionSettings, history: list[dict[str, Any]]
) -> tuple[str, str | None]:
    """The prompt text, and the raw prompt when the client's template rendered it.

    A template from the client (such as the Python client's ``completeModeFormatting``
    pass-through) produces the complete prompt: real engines complete it verbatim.
    """
    if sets_prompt_template(layers) and settings.prompt_template is not None:
        prompt = render_with_template(settings.prompt_template, history)
        return prompt, prompt
    rendered = await call_engine(engine, engine.apply_prompt_template, history, settings.tools)
    return rendered, None


def _text_request(
    inst: LoadedInstance,
    settings: PredictionSettings,
    messages: tuple[Mapping[str, Any], ...],
    raw_prompt: str | None,
    reply_tokens: int,
    temperature_set: bool,
) -> TextRequest:
    structured = settings.structured_type
    return TextRequest(
        model_key=inst.spec.model_key,
        messages=messages,
        tools=settings.tools if settings.tool_choice != "none" else (),
        tool_choice=settings.tool_choice,
        json_schema=settings.json_schema if structured == "json" else None,
        gbnf_grammar=settings.gbnf_grammar if structured == "gbnf" else None,
        reasoning=inst.spec.reasoning and settings.enable_thinking and structured == "none",
        reply_tokens=reply_tokens,
        seed=settings.seed,
        max_tokens=settings.max_tokens,
        # the schema default (0.8) would make real engines non-deterministic
        temperature=settings.temperature if temperature_set else None,
        stop_strings=settings.stop_strings,
        top_k=settings.top_k,
        top_p=settings.top_p,
        min_p=settings.min_p,
        repeat_penalty=settings.repeat_penalty,
        raw_prompt=raw_prompt,
    )


async def _serve(
    ch: Channel,
    inst: LoadedInstance,
    layers: Layers,
    history: list[dict[str, Any]],
    raw_prompt: str | None,
    stack: Mapping[str, Any],
) -> None:
    state = ch.state
    engine = state.engines.text(inst.spec)
    values = collapse(prediction_defaults(inst.spec), *layers)
    settings = PredictionSettings.from_values(values)
    if raw_prompt is None:
        prompt, raw_prompt = await _render(engine, layers, settings, history)
    else:
        prompt = raw_prompt
    messages = tuple(history) if raw_prompt is None else (_user_text(raw_prompt),)
    prompt_tokens = await call_engine(engine, engine.count_tokens, prompt)
    if prompt_tokens >= inst.context_length:
        raise _errors.context_overflow(prompt_tokens, inst.context_length)
    state.record.add_prediction(
        PredictionRecord(
            ch.endpoint,
            inst.identifier,
            inst.spec.model_key,
            history,
            dict(values),
            dict(stack),
            prompt,
            ch.client,
            ch.channel_id,
        )
    )
    state.logs.prediction_input(prompt, inst.spec.path, inst.identifier)
    temperature_set = _sets(layers, "llm.prediction.temperature")
    reply_tokens = state.settings.reply_tokens
    request = _text_request(inst, settings, messages, raw_prompt, reply_tokens, temperature_set)
    setup = PredictionSetup(inst, engine, request, settings, values, prompt_tokens)
    await PredictionRun(ch, setup).run()


async def _predict(ch: Channel, params: PredictParams) -> None:
    inst = resolve(ch, "llm", params.model_specifier)
    history = params.history.wire()
    _check_files(ch, inst, history)
    client_layers = params.prediction_config_stack.field_layers()
    layers = _config_layers(ch, params.fuzzy_preset_identifier, client_layers)
    stack = params.prediction_config_stack.model_dump(by_alias=True)
    await _serve(ch, inst, layers, history, None, stack)


async def _complete_raw_text(ch: Channel, params: CompleteRawTextParams) -> None:
    inst = resolve(ch, "llm", params.model_specifier)
    client_layers = params.prediction_config_stack.field_layers()
    layers = _config_layers(ch, params.fuzzy_preset_identifier, client_layers)
    stack = params.prediction_config_stack.model_dump(by_alias=True)
    await _serve(ch, inst, layers, [], params.raw_prompt, stack)


async def _apply_prompt_template(req: Request, params: ApplyPromptTemplateParams) -> Any:
    inst = resolve(req, "llm", params.specifier)
    engine = req.state.engines.text(inst.spec)
    layers = params.prediction_config_stack.field_layers()
    values = collapse(prediction_defaults(inst.spec), *layers)
    settings = PredictionSettings.from_values(values)
    history = params.history.wire()
    tools = params.opts.tool_definitions or ()
    if sets_prompt_template(layers) and settings.prompt_template is not None:
        return {"formatted": render_with_template(settings.prompt_template, history)}
    return {"formatted": await call_engine(engine, engine.apply_prompt_template, history, tools)}


def predict_endpoints() -> list[Endpoint]:
    return [
        channel("predict", PredictParams, _predict, counted_type="fragment"),
        channel(
            "completeRawText", CompleteRawTextParams, _complete_raw_text, counted_type="fragment"
        ),
        rpc("applyPromptTemplate", ApplyPromptTemplateParams, _apply_prompt_template),
    ]
