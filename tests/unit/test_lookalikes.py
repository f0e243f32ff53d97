"""Look-alike and invisible names (PRECIS UsernameCaseMapped + UTS #39): the names
an attacker used to pass for someone else, and the names of real people that must
stay allowed. The registry refuses a name while another online name has the same
``fold_name`` or the same ``skeleton``; these tests pin down both keys."""

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from node.names import MAX_NAME_LENGTH, fold_name, name_problem, skeleton

CYRILLIC_A, CYRILLIC_E, GREEK_ALPHA, CYRILLIC_A_CAPITAL = "\u0430", "\u0435", "\u0391", "\u0410"


@pytest.mark.parametrize("name, why", [
    pytest.param(CYRILLIC_A + "lice", "mixes scripts (Cyrillic, Latin)", id="cyrillic-a"),
    pytest.param("alic" + CYRILLIC_E, "mixes scripts (Latin, Cyrillic)", id="cyrillic-e"),
    pytest.param(GREEK_ALPHA + "dmin", "mixes scripts (Greek, Latin)", id="greek-capital-alpha"),
    pytest.param(CYRILLIC_A_CAPITAL + "dmin", "mixes scripts (Cyrillic, Latin)",
                 id="cyrillic-capital-a"),
    pytest.param("alice\u034f", "is invisible", id="combining-grapheme-joiner"),
    pytest.param("alice\ufe0f", "is invisible", id="variation-selector-16"),
    pytest.param("\u3164", "is invisible", id="hangul-filler-alone"),
    pytest.param("\u115f", "is invisible", id="hangul-choseong-filler-alone"),
    pytest.param("bob\u3164", "is invisible", id="hangul-filler-trailing"),
    pytest.param("a\u200db", "not allowed", id="zero-width-joiner"),
    pytest.param("\ufb01re", "compatibility form", id="fi-ligature"),
    pytest.param("\u01c4emal", "compatibility form", id="dz-digraph"),
    pytest.param("x\u0661\u0662", "right-to-left", id="bidi-mix"),
    pytest.param("a1\u0661", "mixes", id="mixed-number-systems"),
    pytest.param("e\u0301\u0301", "invisible", id="repeated-combining-mark"),
])
def test_refused_lookalike_and_invisible_names(name: str, why: str) -> None:
    problem = name_problem(name)
    assert problem is not None and why in problem, problem


@pytest.mark.parametrize("name", [
    pytest.param("\u0410\u043b\u0438\u0441\u0430", id="Алиса"),
    pytest.param("\u592a\u90ce", id="太郎"),
    pytest.param("Zo\u00eb", id="Zoë"),
    pytest.param("Zoe\u0308", id="Zoë-decomposed"),
    pytest.param("\u6771\u4eac\u30bf\u30ef\u30fc", id="han-with-katakana"),
    pytest.param("\ud55c\uad6d\uc5b4", id="hangul"),
    pytest.param("\u0395\u03bb\u03ad\u03bd\u03b7", id="Ελένη"),
    pytest.param("\uff41\uff4c\uff49\uff43\uff45", id="fullwidth-alice-when-alone"),
    pytest.param("\u0645\u062d\u0645\u062f\u0663", id="arabic-with-arabic-digit"),
    pytest.param("r2-d2.bot_1", id="latin-digits-punctuation"),
])
def test_names_of_any_single_script_stay_allowed(name: str) -> None:
    assert name_problem(name) is None


@pytest.mark.parametrize("online, newcomer", [
    pytest.param("alice", "ALICE", id="case"),
    pytest.param("alice", "\uff41\uff4c\uff49\uff43\uff45", id="fullwidth"),
    pytest.param("Straße", "STRASSE", id="sharp-s"),
])
def test_same_identity(online: str, newcomer: str) -> None:
    assert fold_name(online) == fold_name(newcomer)


@pytest.mark.parametrize("online, newcomer", [
    pytest.param("alice", "aIice", id="capital-i-for-l"),
    pytest.param("alice", "a1ice", id="digit-one-for-l"),
    pytest.param("alice", "alic\u00e8", id="trailing-grave-accent"),
    pytest.param("alice", "alice\u0300", id="combining-grave-accent"),
    pytest.param("Admin", "Adrnin", id="rn-for-m"),
    pytest.param("ace", "\u0430\u0441\u0435", id="whole-script-cyrillic"),
    pytest.param("paypal", "\u0440\u0430\u0443\u0440\u0430l", id="mostly-cyrillic"),
    pytest.param("Zoe", "Zo\u00eb", id="diaeresis"),
    pytest.param("bob0", "bobO", id="zero-for-o"),
])
def test_lookalikes_share_a_skeleton(online: str, newcomer: str) -> None:
    assert fold_name(online) != fold_name(newcomer)
    assert skeleton(online) == skeleton(newcomer)


@pytest.mark.parametrize("left, right", [
    pytest.param("alice", "alicia", id="other-letters"),
    pytest.param("bob", "rob", id="one-letter"),
    pytest.param("\u592a\u90ce", "\u6b21\u90ce", id="taro-jiro"),
    pytest.param("\u0410\u043b\u0438\u0441\u0430", "\u0410\u043b\u0435\u043a\u0441", id="cyrillic"),
])
def test_different_looking_names_keep_different_skeletons(left: str, right: str) -> None:
    assert skeleton(left) != skeleton(right)


# -- properties ----------------------------------------------------------------------

# Letters that each have a look-alike elsewhere: (Latin, its twin in another script).
TWINS = {"a": "\u0430", "e": "\u0435", "o": "\u043e", "p": "\u0440", "c": "\u0441",
         "x": "\u0445", "y": "\u0443", "i": "\u0456", "s": "\u0455", "j": "\u0458"}
latin_names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_-.", min_size=1,
                      max_size=MAX_NAME_LENGTH)


@given(latin_names)
def test_case_variants_are_one_identity(name: str) -> None:
    assert fold_name(name.upper()) == fold_name(name) == fold_name(name.title())


@given(latin_names)
def test_folding_is_idempotent_and_normalised(name: str) -> None:
    folded = fold_name(name)
    assert fold_name(folded) == folded and unicodedata.is_normalized("NFC", folded)


@given(st.text(alphabet="".join(TWINS), min_size=1, max_size=MAX_NAME_LENGTH))
def test_a_name_spelled_with_twins_from_another_script_looks_the_same(name: str) -> None:
    cyrillic = "".join(TWINS[char] for char in name)
    assert name_problem(name) is None and name_problem(cyrillic) is None  # one script each
    assert skeleton(cyrillic) == skeleton(name)


@given(latin_names, st.data())
def test_swapping_one_letter_for_its_twin_is_refused_or_looks_the_same(
        name: str, data: st.DataObject) -> None:
    swappable = [index for index, char in enumerate(name) if char in TWINS]
    if not swappable:
        return
    index = data.draw(st.sampled_from(swappable))
    spoof = name[:index] + TWINS[name[index]] + name[index + 1:]
    # Either it mixes scripts (refused outright) or it looks like the original.
    assert name_problem(spoof) is not None or skeleton(spoof) == skeleton(name)


@given(st.text(min_size=1, max_size=40))
def test_any_text_gets_an_answer_and_keys_never_raise(text: str) -> None:
    problem = name_problem(text)
    assert problem is None or isinstance(problem, str)
    assert isinstance(fold_name(text), str) and isinstance(skeleton(text), str)
