"""Word lists used to build readable, realistic-looking generated values and sentences."""

from __future__ import annotations

NOUNS: tuple[str, ...] = tuple(
    """
    harbor river garden lantern meadow forest mountain village library journey window
    bridge orchard compass signal planet ocean island canyon valley castle market museum
    notebook picture melody summer winter morning evening shadow crystal feather pebble
    engine rocket voyage beacon circuit puzzle theory pattern project report update
    """.split()
)

ADJECTIVES: tuple[str, ...] = tuple(
    """
    quiet bright silver golden gentle clever brave calm rapid simple steady vivid warm
    ancient modern careful curious distant early hidden honest lively patient precise
    """.split()
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

VERBS: tuple[str, ...] = tuple(
    """
    explains describes covers highlights connects shapes supports reflects balances frames
    """.split()
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
    "{Topic} is closely related to {other}.",
    "When it comes to {topic}, the key point is the {adjective} {noun}.",
    "Most people think of {topic} as something {adjective}.",
    "{Topic} and {other} often go together.",
    "The idea behind {topic} {verb} a {adjective} {noun}.",
    "A {adjective} look at {topic} helps to understand {other}.",
    "You can think of {topic} like a {adjective} {noun}.",
    "It is worth noting that {topic} {verb} {other}.",
)

THINK_TEMPLATES: tuple[str, ...] = (
    "The user is asking about {topics}. I should answer briefly and mention {topic}.",
    "Let me think about {topics}. A short, clear answer about {topic} will do.",
    "Okay, the question is about {topics}. I will explain {topic} in a few sentences.",
)
