"""names.py: which user names are allowed, and when two names are the same name."""

import unicodedata

import pytest

from node.names import MAX_NAME_LENGTH, fold_name, name_problem, sort_names

DECOMPOSED_E = "e\u0301"  # 'e' + COMBINING ACUTE ACCENT
COMPOSED_E = "\u00e9"  # 'é' as one code point


@pytest.mark.parametrize("name", [
    pytest.param("a", id="one-char"),
    pytest.param("alice", id="latin"),
    pytest.param("Alice_01", id="mixed-case-digit-underscore"),
    pytest.param("bob.smith-jr", id="dot-and-dash"),
    pytest.param("._-", id="only-punctuation"),
    pytest.param("x" * MAX_NAME_LENGTH, id="exactly-32"),
    pytest.param(COMPOSED_E * MAX_NAME_LENGTH, id="32-two-byte-chars"),
    pytest.param("Борис", id="cyrillic"),
    pytest.param("李小龙", id="cjk"),
    pytest.param("नमस्ते", id="devanagari-combining-marks"),
    pytest.param("Jos" + DECOMPOSED_E, id="latin-combining-accent"),
    pytest.param("Ελένη", id="greek"),
    pytest.param("محمد٣", id="arabic-with-arabic-digit"),
])
def test_allowed_names(name: str) -> None:
    assert name_problem(name) is None


@pytest.mark.parametrize("name", [
    pytest.param("", id="empty"),
    pytest.param("x" * (MAX_NAME_LENGTH + 1), id="33-chars"),
    pytest.param("alice bob", id="space"),
    pytest.param(" alice", id="leading-space"),
    pytest.param("a@b", id="at-sign"),
    pytest.param("a:b", id="colon-redis-key-separator"),
    pytest.param("a/b", id="slash"),
    pytest.param("a,b", id="comma"),
    pytest.param("a\tb", id="tab"),
    pytest.param("a\nb", id="newline"),
    pytest.param("a\x00b", id="nul"),
    pytest.param("😀", id="emoji"),
    pytest.param("bob😀", id="name-with-emoji"),
    pytest.param("\u0301a", id="starts-with-combining-mark"),
    pytest.param("a\u200bb", id="zero-width-space"),
    pytest.param("a\u00a0b", id="no-break-space"),
])
def test_refused_names(name: str) -> None:
    problem = name_problem(name)
    assert isinstance(problem, str) and problem


@pytest.mark.parametrize("left, right", [
    pytest.param("Alice", "alice", id="title-vs-lower"),
    pytest.param("ALICE", "alice", id="upper-vs-lower"),
    pytest.param("straße", "STRASSE", id="german-sharp-s"),
    pytest.param("Jos" + COMPOSED_E, "jos" + DECOMPOSED_E, id="composed-vs-decomposed"),
    pytest.param("JOS\u00c9", "jos" + DECOMPOSED_E, id="upper-composed-vs-lower-decomposed"),
    pytest.param("Борис", "БОРИС", id="cyrillic"),
    pytest.param("ΣΟΦΙΑ", "σοφια", id="greek-sigma"),
    # U+0390 is the lower case of U+03AA + U+0301; NFC leaves the capital form
    # partly composed, so folding must normalise after casefolding too.
    pytest.param("\u0390", "\u03aa\u0301", id="greek-iota-dialytika-tonos"),
])
def test_fold_makes_case_and_normalisation_variants_one_name(left: str, right: str) -> None:
    assert fold_name(left) == fold_name(right)


@pytest.mark.parametrize("left, right", [
    pytest.param("alice", "alicia", id="different-letters"),
    pytest.param("a.b", "a-b", id="different-punctuation"),
    pytest.param("e", COMPOSED_E, id="accent-matters"),
    pytest.param("i", "\u0131", id="dotless-i"),
])
def test_fold_keeps_different_names_apart(left: str, right: str) -> None:
    assert fold_name(left) != fold_name(right)


@pytest.mark.parametrize("name", ["Alice", "straße", "Jos" + DECOMPOSED_E, "\u03aa\u0301"])
def test_fold_is_idempotent_and_normalised(name: str) -> None:
    folded = fold_name(name)
    assert fold_name(folded) == folded
    assert unicodedata.is_normalized("NFC", folded)


@pytest.mark.parametrize("names, expected", [
    pytest.param([], [], id="empty"),
    pytest.param(["carol", "Alice", "bob"], ["Alice", "bob", "carol"], id="case-insensitive"),
    pytest.param(["alice", "Alice", "ALICE"], ["ALICE", "Alice", "alice"], id="ties-by-exact-text"),
    pytest.param(["Zed", "adam", "Bea"], ["adam", "Bea", "Zed"], id="upper-does-not-sort-first"),
])
def test_sort_names(names: list[str], expected: list[str]) -> None:
    assert sort_names(names) == expected
