"""User names: which are allowed, which are the same name, and which look alike.

Allowed (docs/protocol.md, "Names"): 1-32 code points of letters of any script,
combining marks (not first), decimal digits, ``_``, ``-`` and ``.``; and the name must
pass the PRECIS ``UsernameCaseMapped`` profile (RFC 8265, via precis-i18n: no
invisible or default-ignorable code points, no compatibility characters, the bidi
rule) and ICU's UTS #39 checks (one script, or a combination Unicode calls "highly
restrictive" such as Han with Kana; no mixed number systems; no invisible repeated
marks).

Two keys make a name unique while its holder is online:
- ``fold_name``: its identity, the PRECIS form case-folded (``Alice`` = ``ALICE`` =
  ``ａｌｉｃｅ``, ``Straße`` = ``STRASSE``);
- ``skeleton``: what it looks like, the UTS #39 confusable skeleton with accents of the
  Combining Diacritical Marks block dropped, case-folded (``аlice`` with a Cyrillic а,
  ``aIice`` with a capital I, ``alicè`` and ``alice`` look alike).
A name is refused while another online name shares either key.
"""

import unicodedata
from functools import lru_cache

import icu
import precis_i18n

MAX_NAME_LENGTH = 32
_PUNCTUATION = frozenset("_-.")
_PROFILE = precis_i18n.get_profile("UsernameCaseMapped")
_CHECKS = (icu.USpoofChecks.RESTRICTION_LEVEL | icu.USpoofChecks.MIXED_NUMBERS
           | icu.USpoofChecks.INVISIBLE)
_SPOOF = icu.SpoofChecker()
_SPOOF.setRestrictionLevel(icu.URestrictionLevel.HIGHLY_RESTRICTIVE)
_SPOOF.setChecks(_CHECKS)
# Accents that sit on Latin, Greek and Cyrillic letters (U+0300-U+036F): a name that
# differs from another only by them looks like it at a glance.
_DIACRITICS = range(0x0300, 0x0370)
_WHY_PRECIS = {
    "precis_ignorable_properties": "is invisible (a default-ignorable code point)",
    "old_hangul_jamo": "is invisible (a Hangul filler)",
    "has_compat": "is a compatibility form; type the plain character",
    "unassigned": "is not an assigned Unicode character",
    "controls": "is a control character",
}


def _allowed(char: str) -> bool:
    if char in _PUNCTUATION:
        return True
    category = unicodedata.category(char)
    # L* are letters of any script, Nd decimal digits; M* combining marks keep
    # names in scripts such as Devanagari spellable.
    return category.startswith("L") or category == "Nd" or category.startswith("M")


@lru_cache(maxsize=4096)
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
    return _precis_problem(name) or _spoof_problem(name)


def _precis_problem(name: str) -> str | None:
    try:
        _PROFILE.enforce(name)
    except UnicodeEncodeError as exc:
        rule = exc.reason.removeprefix("DISALLOWED/")
        if rule == "bidi_rule":
            return "it mixes right-to-left and left-to-right text in a misleading order"
        char = name[exc.start:exc.end][:1]
        why = _WHY_PRECIS.get(rule, f"is not allowed in user names ({rule}, RFC 8265)")
        return f"{code_point(char)} {why}"
    return None


def code_point(char: str) -> str:
    """``U+034F COMBINING GRAPHEME JOINER``: a character that may not show when printed."""
    return f"U+{ord(char):04X} {unicodedata.name(char, '(unnamed)')}"


def _spoof_problem(name: str) -> str | None:
    found = _SPOOF.check(name)
    if found & icu.USpoofChecks.RESTRICTION_LEVEL:
        return f"it mixes scripts ({', '.join(scripts(name))}); use one script"
    if found & icu.USpoofChecks.MIXED_NUMBERS:
        return "it mixes digits of different number systems"
    if found & icu.USpoofChecks.INVISIBLE:
        return "it repeats an invisible combining mark"
    return None


def scripts(name: str) -> list[str]:
    """The scripts of a name's letters, in order of appearance (Common, Inherited left out)."""
    seen: dict[str, None] = {}
    for char in name:
        script = icu.Script.getScript(char).getName()
        if script not in ("Common", "Inherited"):
            seen[script] = None
    return list(seen)


@lru_cache(maxsize=65536)
def fold_name(name: str) -> str:
    """The identity of a name: the PRECIS UsernameCaseMapped form, then Unicode case
    folding (so ``ß`` = ``ss``). Strings PRECIS refuses (never a valid name, but a peer
    node's envelope may carry anything) fall back to canonical caseless matching."""
    try:
        mapped = _PROFILE.enforce(name)
    except UnicodeEncodeError:
        mapped = unicodedata.normalize("NFD", name)
    return unicodedata.normalize("NFC", unicodedata.normalize("NFD", mapped).casefold())


@lru_cache(maxsize=65536)
def skeleton(name: str) -> str:
    """What a name looks like: equal for names a reader could take for one another."""
    shape = unicodedata.normalize("NFD", _SPOOF.getSkeleton(0, name))
    shape = "".join(char for char in shape if ord(char) not in _DIACRITICS)
    return unicodedata.normalize("NFC", shape.casefold())


def name_order(name: str) -> tuple[str, str]:
    """Where a name goes in the order users see: case-insensitive, ties by exact text."""
    return fold_name(name), name


def sort_names(names: list[str]) -> list[str]:
    """Names in the order users see them (``name_order``)."""
    return sorted(names, key=name_order)
