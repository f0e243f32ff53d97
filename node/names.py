"""User names: what is allowed, and the folded form that makes them unique.

A name is 1-32 characters: letters of any script, digits, ``_``, ``-`` and ``.``.
Uniqueness is case-insensitive, decided on ``fold_name`` (Unicode case folding),
so ``Alice``, ``alice`` and ``ALICE`` are one name.
"""

import unicodedata

MAX_NAME_LENGTH = 32
_PUNCTUATION = frozenset("_-.")


def _allowed(char: str) -> bool:
    if char in _PUNCTUATION:
        return True
    category = unicodedata.category(char)
    # L* are letters of any script, Nd decimal digits; M* combining marks keep
    # names in scripts such as Devanagari spellable.
    return category.startswith("L") or category == "Nd" or category.startswith("M")


def name_problem(name: str) -> str | None:
    """Why ``name`` is not a valid user name, or None when it is."""
    if not name:
        return "a name needs at least one character"
    if len(name) > MAX_NAME_LENGTH:
        return f"a name has at most {MAX_NAME_LENGTH} characters"
    if unicodedata.category(name[0]).startswith("M"):
        return "a name cannot start with a combining mark"
    for char in name:
        if not _allowed(char):
            return f"{char!r} is not allowed; use letters, digits, '_', '-' and '.'"
    return None


def fold_name(name: str) -> str:
    """The case-insensitive identity of a name: Unicode canonical caseless matching
    (decompose, casefold, recompose), since casefold alone can un-normalise text."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFD", name).casefold())


def sort_names(names: list[str]) -> list[str]:
    """Names in the order users see them: case-insensitive, ties broken by exact text."""
    return sorted(names, key=lambda name: (fold_name(name), name))
