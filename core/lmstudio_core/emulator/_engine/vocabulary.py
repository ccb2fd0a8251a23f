"""Word lists used to build readable, realistic-looking generated values and sentences."""

from __future__ import annotations


def word_list(text: str) -> tuple[str, ...]:
    """Split a whitespace-separated list of words."""
    return tuple(text.split())


NOUNS: tuple[str, ...] = word_list(
    """
    harbor river garden lantern meadow forest mountain village library journey window
    bridge orchard compass signal planet ocean island canyon valley castle market museum
    notebook picture melody summer winter morning evening shadow crystal feather pebble
    engine rocket voyage beacon circuit puzzle theory pattern project report update
    """
)

ADJECTIVES: tuple[str, ...] = word_list(
    """
    quiet bright silver golden gentle clever brave calm rapid simple steady vivid warm
    ancient modern careful curious distant early hidden honest lively patient precise
    """
)

FIRST_NAMES: tuple[str, ...] = (
    "Ada", "Alan", "Grace", "Linus", "Marie", "Nikola", "Rosalind", "Emmy", "Carl", "Hedy",
    "Katherine", "Tim", "Barbara", "Edsger", "Frances", "Claude",
)  # fmt: skip

LAST_NAMES: tuple[str, ...] = (
    "Lovelace", "Turing", "Hopper", "Torvalds", "Curie", "Tesla", "Franklin", "Noether",
    "Sagan", "Lamarr", "Johnson", "Berners-Lee", "Liskov", "Dijkstra", "Allen", "Shannon",
)  # fmt: skip

CITIES: tuple[str, ...] = (
    "Paris", "Tokyo", "Lisbon", "Nairobi", "Toronto", "Oslo", "Seoul", "Lima", "Cairo",
    "Sydney", "Berlin", "Montreal", "Madrid", "Mumbai", "Dublin", "Vienna",
)  # fmt: skip

COUNTRIES: tuple[str, ...] = (
    "France", "Japan", "Portugal", "Kenya", "Canada", "Norway", "Korea", "Peru", "Egypt",
    "Australia", "Germany", "Spain", "India", "Ireland", "Austria", "Chile",
)  # fmt: skip

COLORS: tuple[str, ...] = (
    "red", "blue", "green", "amber", "violet", "teal", "crimson", "indigo", "silver", "olive",
)  # fmt: skip

LANGUAGES: tuple[str, ...] = (
    "English", "French", "Spanish", "German", "Japanese", "Portuguese", "Italian", "Korean",
)  # fmt: skip

CATEGORIES: tuple[str, ...] = (
    "general", "science", "travel", "history", "music", "technology", "nature", "sports",
)  # fmt: skip

STATUSES: tuple[str, ...] = ("active", "pending", "completed", "draft", "archived")

DOMAINS: tuple[str, ...] = ("example.com", "example.org", "example.net")

VERBS: tuple[str, ...] = word_list(
    """
    explains describes covers highlights connects shapes supports reflects balances frames
    """
)

CONNECTORS: tuple[str, ...] = (
    "In short,", "Put simply,", "Overall,", "As a result,", "In practice,", "Notably,",
    "For example,", "On balance,",
)  # fmt: skip

OPENERS: tuple[str, ...] = (
    "Sure.", "Good question.", "Here is a short answer.", "Happy to help.", "Of course.",
    "Let me explain.", "Great question.", "Here is what I can tell you.",
)  # fmt: skip

REPLY_TEMPLATES: tuple[str, ...] = (
    "When it comes to {topic}, the key point is {a_adjective} {noun}.",
    "{A_adjective} look at {topic} helps to understand {other}.",
    "You can think of {topic} like {a_adjective} {noun}.",
    "It is worth noting that {topic} and {other} are often connected.",
    "Many people find {topic} {adjective} and worth exploring.",
    "There is {a_adjective} link between {topic} and {other}.",
    "In the context of {topic}, {other} plays {a_adjective} role.",
    "Understanding {topic} starts with {a_adjective} {noun}.",
    "The short version is that {topic} {verb} {other}.",
)

THINK_TEMPLATES: tuple[str, ...] = (
    "The user is asking about {topics}. I should answer briefly and mention {topic}.",
    "Let me think about {topics}. A short, clear answer about {topic} will do.",
    "Okay, the question is about {topics}. I will explain {topic} in a few sentences.",
)
