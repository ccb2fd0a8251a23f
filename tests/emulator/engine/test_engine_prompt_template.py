"""The ChatML-style prompt template and prompt token counts."""

from __future__ import annotations

from engine_wire import ADD, assistant, system, tool_results, user
from lmstudio_core.emulator._engine import DeterministicEngine, Tokenizer, apply_prompt_template


def test_messages_render_as_chatml_blocks_ending_with_the_assistant_header() -> None:
    prompt = apply_prompt_template([system("Be brief."), user("Hi")])

    assert prompt == (
        "<|im_start|>system\nBe brief.<|im_end|>\n"
        "<|im_start|>user\nHi<|im_end|>\n"
        "<|im_start|>assistant\n"
    )


def test_tools_calls_results_and_images_are_rendered_readably() -> None:
    image = {
        "type": "file",
        "name": "a.png",
        "identifier": "f1",
        "sizeBytes": 3,
        "fileType": "image",
    }
    document = {**image, "name": "notes.txt", "fileType": "text/plain"}
    history = [
        {"role": "user", "content": [{"type": "text", "text": "Add these"}, image, document]},
        assistant("", {"type": "function", "id": "c1", "name": "add", "arguments": {"a": 1}}),
        tool_results(("c1", "3")),
    ]

    prompt = apply_prompt_template(history, [ADD])

    assert prompt.startswith("<|im_start|>system\n# Tools")
    assert '"name": "add"' in prompt
    assert "Add these\n<image>\n<file:notes.txt>" in prompt
    assert '<tool_call>\n{"name": "add", "arguments": {"a": 1}}\n</tool_call>' in prompt
    assert "<|im_start|>tool\n<tool_response>\n3\n</tool_response><|im_end|>" in prompt
    assert prompt.endswith("<|im_start|>assistant\n")


def test_prompt_token_count_uses_the_template_and_tokenizer() -> None:
    engine = DeterministicEngine()
    short = [user("Hi")]
    longer = [user("Hi"), assistant("Hello! How can I help you today?"), user("Tell me more")]

    assert engine.count_prompt_tokens(short) == Tokenizer().count(apply_prompt_template(short))
    assert engine.count_prompt_tokens(longer) > engine.count_prompt_tokens(short)
    assert engine.count_prompt_tokens(short, [ADD]) > engine.count_prompt_tokens(short)
    assert engine.apply_prompt_template(short) == apply_prompt_template(short)
