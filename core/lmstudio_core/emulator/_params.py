"""Pydantic models of the endpoint parameters the emulator accepts.

Like LM Studio's validators: camelCase on the wire, unknown keys ignored, optional
members may be absent (``None`` here means "absent"), discriminators must be known.
A parameter that fails validation is answered with a ``communicationWarning``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from pydantic.alias_generators import to_camel

__all__ = [
    "ApplyPromptTemplateParams",
    "ChatHistory",
    "CompleteRawTextParams",
    "DownloadModelParams",
    "DownloadOptionsParams",
    "EmbedStringParams",
    "FileNameParams",
    "GetModelInfoParams",
    "GetOrLoadParams",
    "KVConfigData",
    "KVConfigStackData",
    "LoadModelParams",
    "ModelSpecifier",
    "NotifyParams",
    "PredictParams",
    "SearchModelsParams",
    "SetExperimentFlagParams",
    "SpecifierParams",
    "TextParams",
    "UnloadParams",
    "UploadFileParams",
]

KeyString = Annotated[str, StringConstraints(min_length=1, max_length=1024)]
LayerName = Literal[
    "currentlyEditing",
    "currentlyLoaded",
    "apiOverride",
    "conversationSpecific",
    "conversationGlobal",
    "preset",
    "serverSession",
    "httpServerRequestOverride",
    "completeModeFormatting",
    "instance",
    "userModelDefault",
    "virtualModel",
    "modelDefault",
    "hardware",
]
DomainType = Literal["llm", "embedding", "drafter", "imageGen", "transcription", "tts"]
FileType = Literal[
    "image", "text/plain", "application/pdf", "application/word", "text/other", "unknown"
]


class WireParams(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="ignore", frozen=True
    )


class KVField(WireParams):
    key: str
    value: Any = None

    def as_field(self) -> dict[str, Any]:
        field: dict[str, Any] = {"key": self.key}
        if "value" in self.model_fields_set:
            field["value"] = self.value
        return field


class KVConfigData(WireParams):
    fields: list[KVField]

    def as_fields(self) -> list[dict[str, Any]]:
        return [f.as_field() for f in self.fields]


class KVLayer(WireParams):
    layer_name: LayerName
    config: KVConfigData


class KVConfigStackData(WireParams):
    layers: list[KVLayer]

    def field_layers(self) -> list[list[dict[str, Any]]]:
        return [layer.config.as_fields() for layer in self.layers]


class ModelQuery(WireParams):
    domain: DomainType | None = None
    identifier: KeyString | None = None
    path: KeyString | None = None
    vision: bool | None = None
    device_identifier: str | None = None

    def wire(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, exclude_unset=True)


class QuerySpecifier(WireParams):
    type: Literal["query"]
    query: ModelQuery


class ReferenceSpecifier(WireParams):
    type: Literal["instanceReference"]
    instance_reference: str


ModelSpecifier = Annotated[QuerySpecifier | ReferenceSpecifier, Field(discriminator="type")]


class TextPart(WireParams):
    type: Literal["text"]
    text: str


class FilePart(WireParams):
    type: Literal["file"]
    name: str
    identifier: str
    size_bytes: int
    file_type: FileType


class ToolCallRequestData(WireParams):
    type: Literal["function"]
    name: str
    id: str | None = None
    arguments: dict[str, Any] | None = None


class ToolCallRequestPart(WireParams):
    type: Literal["toolCallRequest"]
    tool_call_request: ToolCallRequestData


class ToolCallResultPart(WireParams):
    type: Literal["toolCallResult"]
    content: str
    tool_call_id: str | None = None
    name: str | None = None


UserPart = Annotated[TextPart | FilePart, Field(discriminator="type")]
AssistantPart = Annotated[TextPart | FilePart | ToolCallRequestPart, Field(discriminator="type")]


class SystemMessage(WireParams):
    role: Literal["system"]
    content: list[UserPart]


class UserMessage(WireParams):
    role: Literal["user"]
    content: list[UserPart]


class AssistantMessage(WireParams):
    role: Literal["assistant"]
    content: list[AssistantPart]


class ToolMessage(WireParams):
    role: Literal["tool"]
    content: list[ToolCallResultPart]


ChatMessage = Annotated[
    SystemMessage | UserMessage | AssistantMessage | ToolMessage, Field(discriminator="role")
]


class ChatHistory(WireParams):
    messages: list[ChatMessage]

    def wire(self) -> list[dict[str, Any]]:
        """The messages as wire dicts (validated, unknown keys stripped)."""
        return [m.model_dump(by_alias=True, exclude_none=True) for m in self.messages]


class SpecifierParams(WireParams):
    specifier: ModelSpecifier


class GetModelInfoParams(SpecifierParams):
    throw_if_not_found: bool = False


class TextParams(SpecifierParams):
    input_string: str


class UnloadParams(WireParams):
    identifier: KeyString
    device_identifier: str | None = None


class LoadModelParams(WireParams):
    model_key: KeyString
    identifier: KeyString | None = None
    device_identifier: str | None = None
    ttl_ms: int | None = Field(default=None, ge=1)
    load_config_stack: KVConfigStackData


class GetOrLoadParams(WireParams):
    identifier: KeyString
    device_identifier: str | None = None
    load_ttl_ms: int | None = Field(default=None, ge=1)
    load_config_stack: KVConfigStackData


class PredictParams(WireParams):
    model_specifier: ModelSpecifier
    history: ChatHistory
    prediction_config_stack: KVConfigStackData
    fuzzy_preset_identifier: str | None = None
    ignore_server_session_config: bool | None = None


class CompleteRawTextParams(WireParams):
    model_specifier: ModelSpecifier
    raw_prompt: str
    prediction_config_stack: KVConfigStackData
    fuzzy_preset_identifier: str | None = None
    ignore_server_session_config: bool | None = None


class PromptTemplateOpts(WireParams):
    omit_bos_token: bool | None = None
    omit_eos_token: bool | None = None
    tool_definitions: list[dict[str, Any]] | None = None


class ApplyPromptTemplateParams(SpecifierParams):
    history: ChatHistory
    prediction_config_stack: KVConfigStackData
    opts: PromptTemplateOpts


class BasePredictionConfigParams(SpecifierParams):
    ignore_server_session_config: bool | None = None


class EmbedStringParams(WireParams):
    model_specifier: ModelSpecifier
    input_string: str


class NotifyParams(WireParams):
    title: str
    description: str | None = None
    no_auto_dismiss: bool | None = None


class SetExperimentFlagParams(WireParams):
    code: str
    value: bool


class UploadFileParams(WireParams):
    name: str
    content_base64: str


class FileNameParams(WireParams):
    file_name: str


class CancelPacket(WireParams):
    type: Literal["cancel"]


class StopPacket(WireParams):
    type: Literal["stop"]


class SearchOpts(WireParams):
    search_term: str | None = None
    limit: int | None = Field(default=None, ge=1, le=25)
    compatibility_types: list[str] | None = None


class SearchModelsParams(WireParams):
    opts: SearchOpts


class SearchResultIdentifier(WireParams):
    type: Literal["catalog", "hf"]
    identifier: str


class DownloadOptionsParams(WireParams):
    model_search_result_identifier: SearchResultIdentifier


class DownloadModelParams(WireParams):
    download_identifier: str
