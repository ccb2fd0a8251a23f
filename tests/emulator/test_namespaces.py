"""embedding, system, files, diagnostics, and invalid requests."""

from __future__ import annotations

import base64
import math
from pathlib import Path

import pytest
from emulator_wire import EMBEDDING_KEY, LLM_KEY, Wire, WireFactory, predict_params, query
from lmstudio_core.emulator import EmulatorThread

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_embed_string_is_normalized_and_deterministic(wire: WireFactory) -> None:
    embedding = wire("embedding")
    params = {"modelSpecifier": query(EMBEDDING_KEY), "inputString": "The quick brown fox"}

    first = embedding.result("embedString", params)["embedding"]
    second = embedding.result("embedString", params)["embedding"]
    other = embedding.result("embedString", {**params, "inputString": "Something else"})

    assert len(first) == 768
    assert math.isclose(math.fsum(x * x for x in first), 1.0, rel_tol=1e-9)
    assert first == second
    assert other["embedding"] != first


def test_embed_string_with_an_llm_specifier_fails(wire: WireFactory) -> None:
    reply = wire("embedding").rpc(
        "embedString", {"modelSpecifier": query(LLM_KEY), "inputString": "x"}
    )
    assert reply["type"] == "rpcError"
    assert reply["error"]["displayData"]["code"] == "generic.noModelMatchingQuery"
    assert reply["error"]["displayData"]["loadedModelsSample"] == [EMBEDDING_KEY]


def test_system_endpoints(emu: EmulatorThread, wire: WireFactory) -> None:
    system = wire("system")

    downloaded = system.result("listDownloadedModels")
    version = system.result("version")
    notified = system.rpc("notify", {"title": "Done", "description": "Batch finished"})
    system.rpc("setExperimentFlag", {"code": "fancy", "value": True})

    assert {m["type"] for m in downloaded} == {"llm", "embedding"}
    assert all("identifier" not in m for m in downloaded)
    assert version == {"version": "0.3.31", "build": 7}
    assert "result" not in notified
    assert emu.record.notifications[0].title == "Done"
    assert emu.record.notifications[0].description == "Batch finished"
    assert system.result("getExperimentFlags") == ["fancy"]


def test_upload_file_types_and_paths(wire: WireFactory) -> None:
    files = wire("files")
    text = files.result(
        "uploadFileBase64", {"name": "example-file.txt", "contentBase64": _b64(b"hi")}
    )
    pdf = files.result("uploadFileBase64", {"name": "doc.pdf", "contentBase64": _b64(PDF)})
    blob = files.result(
        "uploadFileBase64", {"name": "x.bin", "contentBase64": _b64(b"\xff\xfe\x00")}
    )

    assert (text["fileType"], text["sizeBytes"]) == ("text/plain", 2)
    assert pdf["fileType"] == "application/pdf"
    assert blob["fileType"] == "unknown"
    for identifier in (text["identifier"], pdf["identifier"]):
        assert not set("/\\:") & set(identifier)
    path = files.result("getLocalFileAbsolutePath", {"fileName": text["identifier"]})["path"]
    assert Path(path).is_absolute()
    assert Path(path).read_bytes() == b"hi"


def test_files_belong_to_their_client(emu: EmulatorThread, wire: WireFactory) -> None:
    mine = wire("files", client="me", passkey="p")
    theirs = wire("files", client="them", passkey="q")
    uploaded = mine.result("uploadFileBase64", {"name": "a.txt", "contentBase64": _b64(b"a")})
    path = Path(
        mine.result("getLocalFileAbsolutePath", {"fileName": uploaded["identifier"]})["path"]
    )

    refused = theirs.rpc("getLocalFileAbsolutePath", {"fileName": uploaded["identifier"]})
    assert refused["type"] == "rpcError"
    mine.close()
    assert emu.record.wait_for(lambda _: not path.exists(), timeout=5)


def test_stream_logs_reports_prediction_inputs(wire: WireFactory) -> None:
    diagnostics = wire("diagnostics")
    channel_id = diagnostics.open("streamLogs")
    llm = wire("llm")
    llm.stream("predict", predict_params("Log me"))

    log = diagnostics.recv()["message"]
    assert log["type"] == "log"
    data = log["log"]["data"]
    assert data["type"] == "llm.prediction.input"
    assert "Log me" in data["input"]
    assert data["modelIdentifier"] == LLM_KEY
    assert data["modelPath"].endswith(".gguf")
    assert isinstance(log["log"]["timestamp"], int)

    diagnostics.channel_send(channel_id, {"type": "stop"})
    assert diagnostics.recv() == {"type": "channelClose", "channelId": channel_id}


def _warning(wire: Wire) -> dict[str, str]:
    message = wire.recv()
    assert message["type"] == "communicationWarning", message
    return message


@pytest.mark.parametrize("namespace", ["llm", "repository", "plugins", "runtime"])
def test_unknown_rpc_endpoint_gets_a_warning_only(wire: WireFactory, namespace: str) -> None:
    socket = wire(namespace)
    socket.call("definitelyNotAnEndpoint", {"x": 1})
    assert _warning(socket)["kind"] == "rpcEndpointUnknown"
    socket.send({"type": "keepAlive"})
    assert socket.recv() == {"type": "keepAliveAck"}  # nothing else was sent


def test_invalid_requests_get_the_right_warning_kinds(llm: Wire) -> None:
    llm.call("listLoaded", {})
    assert _warning(llm)["kind"] == "rpcParameterTypeError"
    llm.call("getModelInfo", {"specifier": {"type": "bogus"}, "throwIfNotFound": True})
    assert _warning(llm)["kind"] == "rpcParameterTypeError"
    llm.open("nonexistent", {})
    assert _warning(llm)["kind"] == "channelEndpointUnknown"
    llm.open("predict", {"history": "nope"})
    assert _warning(llm)["kind"] == "channelCreationParameterTypeError"
    llm.send({"type": "definitelyNotAType"})
    assert _warning(llm)["kind"] == "unknown"
    # at most five warnings per connection: the sixth problem is silent
    llm.call("listLoaded", {})
    llm.send({"type": "keepAlive"})
    assert llm.recv() == {"type": "keepAliveAck"}


def test_unknown_keys_are_ignored_and_optional_members_may_be_absent(llm: Wire) -> None:
    params = {"specifier": query(LLM_KEY), "throwIfNotFound": True, "futureField": 1}
    assert llm.result("getModelInfo", params)["identifier"] == LLM_KEY
    assert llm.result("getModelInfo", {"specifier": query(LLM_KEY)})["identifier"] == LLM_KEY


def test_channel_message_of_unknown_type_is_warned(emu: EmulatorThread, llm: Wire) -> None:
    emu.faults.set_tokens_per_second(50)
    channel_id = llm.open("predict", predict_params("Long story"))
    llm.channel_send(channel_id, {"type": "pause"})
    message = llm.recv()
    while message["type"] != "communicationWarning":
        message = llm.recv()
    assert message["kind"] == "channelMessageTypeError"
    llm.channel_send(channel_id, {"type": "cancel"})
    packets, _end = llm.drain(channel_id)
    assert packets[-1]["stats"]["stopReason"] == "userStopped"


def test_duplicate_open_channel_id_is_warned(emu: EmulatorThread, llm: Wire) -> None:
    emu.faults.set_tokens_per_second(50)
    params = predict_params("Long story")
    llm.send(
        {
            "type": "channelCreate",
            "endpoint": "predict",
            "channelId": 7,
            "creationParameter": params,
        }
    )
    llm.send(
        {
            "type": "channelCreate",
            "endpoint": "predict",
            "channelId": 7,
            "creationParameter": params,
        }
    )
    message = llm.recv()
    while message["type"] != "communicationWarning":
        message = llm.recv()
    assert message["kind"] == "channelAlreadyOpen"


@pytest.mark.parametrize("lmstudio_emulator_options", [{"strict": True}])
def test_strict_mode_also_answers_invalid_requests(llm: Wire) -> None:
    call_id = llm.call("noSuchEndpoint")
    assert _warning(llm)["kind"] == "rpcEndpointUnknown"
    error = llm.recv()
    assert (error["type"], error["callId"]) == ("rpcError", call_id)
    channel_id = llm.open("predict", {"bad": True})
    assert _warning(llm)["kind"] == "channelCreationParameterTypeError"
    error = llm.recv()
    assert (error["type"], error["channelId"]) == ("channelError", channel_id)


def test_signals_are_not_supported(llm: Wire) -> None:
    llm.send({"type": "signalSubscribe", "endpoint": "whatever", "subscribeId": 0})
    assert _warning(llm)["kind"] == "signalEndpointUnknown"


def test_repository_search_options_and_download(wire: WireFactory) -> None:
    repository = wire("repository")
    found = repository.result("searchModels", {"opts": {"searchTerm": "smollm2"}})["results"]
    assert found == [
        {
            "name": "lmstudio-community/SmolLM2-135M-Instruct-GGUF",
            "identifier": {
                "type": "hf",
                "identifier": "lmstudio-community/SmolLM2-135M-Instruct-GGUF",
            },
            "exact": False,
            "staffPick": True,
        }
    ]
    options = repository.result(
        "getModelDownloadOptions", {"modelSearchResultIdentifier": found[0]["identifier"]}
    )["results"]
    assert options[0]["recommended"] is True
    assert "smollm2-135m-instruct" not in [
        m["modelKey"] for m in wire("system").result("listDownloadedModels")
    ]

    packets, end = repository.stream(
        "downloadModel", {"downloadIdentifier": options[0]["downloadIdentifier"]}
    )

    types = [p["type"] for p in packets]
    assert types[-2:] == ["startFinalizing", "success"]
    assert set(types[:-2]) == {"downloadProgress"}
    assert packets[-1]["defaultIdentifier"] == "smollm2-135m-instruct"
    assert end["type"] == "channelClose"
    assert "smollm2-135m-instruct" in [
        m["modelKey"] for m in wire("system").result("listDownloadedModels")
    ]
    assert repository.result("searchModels", {"opts": {"limit": 25}})["results"]
