"""Scripting the engine from the test's thread while the emulator's loop consumes the script."""

from __future__ import annotations

import threading

from emulator_wire import Wire, WireFactory, predict_params, text_of
from lmstudio_core.emulator import (
    DeterministicEngine,
    EmulatorThread,
    ScriptedTurn,
    ThreadSafeEngine,
)


class ThreadRecordingEngine(DeterministicEngine):
    """Remembers which thread queued or cleared scripted turns."""

    def __init__(self) -> None:
        super().__init__()
        self.threads: list[str] = []

    def script(self, model_key: str | None, turn: ScriptedTurn) -> None:
        self.threads.append(threading.current_thread().name)
        super().script(model_key, turn)

    def clear_script(self) -> None:
        self.threads.append(threading.current_thread().name)
        super().clear_script()


def test_scripting_runs_on_the_emulator_loop_thread() -> None:
    engine = ThreadRecordingEngine()
    with EmulatorThread(engine=engine) as emu:
        assert isinstance(emu.engine, ThreadSafeEngine)
        assert emu.engine.engine is engine
        emu.engine.script_reply("one")
        emu.engine.script(None, ScriptedTurn(text="two"))
        assert emu.engine.scripted_turns_pending == 2
        emu.engine.clear_script()
        assert emu.engine.scripted_turns_pending == 0
    assert engine.threads == ["lmstudio-emulator"] * 3


def test_scripting_works_before_start_and_after_stop() -> None:
    emu = EmulatorThread()
    emu.engine.script_reply("queued before start")
    assert emu.engine.scripted_turns_pending == 1
    with emu:
        wire = Wire(emu, "llm", "test-client", "passkey")
        try:
            assert text_of(wire.stream("predict", predict_params())[0]) == "queued before start"
        finally:
            wire.close()
    emu.engine.script_reply("after stop")
    assert emu.engine.scripted_turns_pending == 1


def test_engine_attributes_are_the_engines(emu: EmulatorThread) -> None:
    assert emu.engine.tokenizer is emu.emulator.engine.tokenizer
    assert emu.engine.apply_prompt_template([{"role": "user", "content": "hi"}])


def test_turns_queued_during_predictions_are_consumed_in_order(
    emu: EmulatorThread, wire: WireFactory
) -> None:
    total = 60
    llm = wire("llm")
    seen: list[str] = []
    errors: list[BaseException] = []

    def predict_until_all_seen() -> None:
        try:
            for _ in range(20 * total):
                packets, end = llm.stream("predict", predict_params("Hi"))
                assert end["type"] == "channelClose", end
                text = text_of(packets)
                if text.startswith("scripted "):
                    seen.append(text)
                    if len(seen) == total:
                        return
        except BaseException as exc:
            errors.append(exc)

    consumer = threading.Thread(target=predict_until_all_seen)
    consumer.start()
    for index in range(total):
        emu.engine.script_reply(f"scripted {index}")
    consumer.join(50)

    assert not errors
    assert seen == [f"scripted {index}" for index in range(total)]
    assert emu.engine.scripted_turns_pending == 0
