"""The GBNF sampler parses llama.cpp grammars and produces strings of their language."""

from __future__ import annotations

import json
import re

import pytest
from lmstudio_core.emulator._engine import generate_from_gbnf, parse_gbnf

JSON_GRAMMAR = r"""
# A JSON grammar in the style of llama.cpp's grammars/json.gbnf
root   ::= object
value  ::= object | array | string | number | ("true" | "false" | "null") ws

object ::=
  "{" ws (
            string ":" ws value
    ("," ws string ":" ws value)*
  )? "}" ws

array  ::=
  "[" ws (
            value
    ("," ws value)*
  )? "]" ws

string ::=
  "\"" (
    [^"\\\x7F\x00-\x1F] |
    "\\" (["\\bfnrt] | "u" [0-9a-fA-F]{4}) # escapes
  )* "\"" ws

number ::= ("-"? ([0-9] | [1-9] [0-9]{0,15})) ("." [0-9]+)? ([eE] [-+]? [0-9]{1,3})? ws

ws ::= | " " | "\n" [ \t]{0,20}
"""


def test_yes_no_grammar_produces_both_answers_across_seeds() -> None:
    outputs = {generate_from_gbnf('root ::= "yes" | "no"', seed=seed) for seed in range(20)}

    assert outputs == {"yes", "no"}


def test_character_class_repetition_matches_the_equivalent_regex() -> None:
    grammar = 'root ::= "Oh no, " [a-z ]+ "!"'

    for seed in range(30):
        assert re.fullmatch(r"Oh no, [a-z ]+!", generate_from_gbnf(grammar, seed=seed))


def test_json_grammar_output_is_valid_json_object() -> None:
    for seed in range(40):
        text = generate_from_gbnf(JSON_GRAMMAR, seed=seed)
        assert isinstance(json.loads(text), dict)


def test_output_is_deterministic_for_a_seed() -> None:
    assert generate_from_gbnf(JSON_GRAMMAR, seed=7) == generate_from_gbnf(JSON_GRAMMAR, seed=7)


def test_bounded_repetitions_and_optional_items() -> None:
    grammar = r"""
    root  ::= digit{3} "-" digit{2,4} sign? word{,2}
    digit ::= [0-9]
    sign  ::= "+" | "-"
    word  ::= " " [a-zA-Z]+
    """

    for seed in range(30):
        text = generate_from_gbnf(grammar, seed=seed)
        assert re.fullmatch(r"[0-9]{3}-[0-9]{2,4}[+-]?( [a-zA-Z]+){0,2}", text), text


def test_negated_classes_escapes_and_any_character() -> None:
    grammar = r'root ::= "\x41\u00e9\t" [^"\\]{5} "\"" . "\\"'

    for seed in range(10):
        text = generate_from_gbnf(grammar, seed=seed)
        assert re.fullmatch(r'A\u00e9\t[^"\\]{5}".\\', text, re.DOTALL), text


def test_deep_recursion_terminates() -> None:
    grammar = 'root ::= "(" root ")" | "(" root root ")" | "x"'

    for seed in range(20):
        text = generate_from_gbnf(grammar, seed=seed)
        assert text.count("(") == text.count(")")
        assert len(text) < 5000


def test_rules_are_parsed_in_order_with_references() -> None:
    grammar = 'root ::= greeting " " name\ngreeting ::= "hi"\nname ::= [A-Z] [a-z]*'

    assert list(parse_gbnf(grammar)) == ["root", "greeting", "name"]
    assert re.fullmatch(r"hi [A-Z][a-z]*", generate_from_gbnf(grammar, seed=1))


@pytest.mark.parametrize(
    ("grammar", "message"),
    [
        ('greeting ::= "hi"', "no 'root' rule"),
        ("root ::= missing", "undefined rule 'missing'"),
        ('root ::= "unterminated', "unterminated string literal"),
        ('root = "x"', "expected '::='"),
        ('root ::= ( "a"', "expected ')'"),
        ("root ::= [a-", "unexpected end of grammar"),
        ('root ::= "a" root', "derives no finite string"),
        ('root ::= "a"\nroot ::= "b"', "defined twice"),
        ('root ::= "a"{3,1}', "invalid repetition"),
        ("root ::= @", "unexpected character"),
        ("", "no 'root' rule"),
    ],
)
def test_invalid_grammars_raise_a_clear_value_error(grammar: str, message: str) -> None:
    with pytest.raises(ValueError, match=rf"^invalid GBNF grammar: .*{re.escape(message)}"):
        generate_from_gbnf(grammar, seed=0)
