"""Text for matching: normalised words, reference keys and the lookup tokens of a bank line.

``normalize`` casefolds, strips accents and turns punctuation into spaces; ``key`` glues a
reference into one lower-case alphanumeric run ("FE-1234" → "fe1234"); ``tokens`` gives the keys
to look up in a line's text, gluing a word to the digit groups after it so that "FE 1234",
"FE-1234" and "fe1234" all give "fe1234", and "NIT 900.123.456-7" gives "9001234567".
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Iterable

from rapidfuzz.distance import Levenshtein

_WORD = re.compile(r"[^\W_]+")
# ASCII fast path of ``key``: drop everything that is not a letter or digit.
NOT_ALNUM = str.maketrans("", "", string.punctuation + string.whitespace)
MAX_GLUE = 4  # words glued into one token at most ("900 123 456 7")
TYPO_MIN_LENGTH = 6  # a reference tolerates one wrong or missing character from this length


_LATIN = str.maketrans("áàâäãåéèêëíìîïóòôöõúùûüñçý", "aaaaaaeeeeiiiiooooouuuuncy")


def _fold(text: str) -> str:
    folded = text.casefold()
    if folded.isascii():
        return folded
    folded = folded.translate(_LATIN)  # the common accents, fast
    if folded.isascii():
        return folded
    decomposed = unicodedata.normalize("NFKD", folded)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def words(text: str) -> list[str]:
    """Return the casefolded, accent-free alphanumeric words of ``text``."""
    return _WORD.findall(_fold(text))


def normalize(text: str) -> str:
    """Return ``text`` casefolded, without accents, its punctuation collapsed to single spaces."""
    return " ".join(words(text))


def key(text: str) -> str:
    """Return the lookup key of a reference, tax id or account: its letters and digits only."""
    glued = text.replace("-", "")
    if glued.isalnum() and glued.isascii():
        return glued.lower()  # the common shape ("FE-000123"), a quarter of the time
    if text.isascii():
        return text.translate(NOT_ALNUM).lower()
    return "".join(words(text))


_PUNCTUATION = re.compile("[" + re.escape(string.punctuation + string.whitespace) + "]+")


def keys(texts: list[str]) -> list[str]:
    """Return ``[key(t) for t in texts]``, a million at a time: ASCII texts are joined, cleaned
    and split again in one go."""
    joined = "\x00".join(texts)
    if not joined.isascii() or joined.count("\x00") != len(texts) - 1:
        return [key(t) for t in texts]
    if not texts:
        return []
    return _PUNCTUATION.sub("", joined).lower().split("\x00")


def tokens(text: str) -> list[str]:
    """Return the keys to look up in ``text``: each word, and each word glued to the next ones
    while those hold a digit (up to ``MAX_GLUE`` words)."""
    return glue(words(text))


def glue(atoms: list[str]) -> list[str]:
    """Return ``tokens`` of text already split into ``words``."""
    out: list[str] = []
    n = len(atoms)
    alpha = [atom.isalpha() for atom in atoms]
    for i, atom in enumerate(atoms):
        out.append(atom)
        if i + 1 < n and not alpha[i + 1]:
            glued = atom
            for j in range(i + 1, min(i + MAX_GLUE, n)):
                if alpha[j]:
                    break
                glued += atoms[j]
                out.append(glued)
    return out


def is_reference_like(token: str) -> bool:
    """Could ``token`` be a reference worth a typo check (long enough, with a digit)?"""
    return len(token) >= TYPO_MIN_LENGTH - 1 and not token.isalpha()


def near_reference(found: Iterable[str], reference_key: str) -> str | None:
    """Return the token of ``found`` one edit away from ``reference_key`` (≥ 6 characters)."""
    if len(reference_key) < TYPO_MIN_LENGTH:
        return None
    for token in found:
        if abs(len(token) - len(reference_key)) <= 1 and token != reference_key:
            if Levenshtein.distance(token, reference_key, score_cutoff=1) <= 1:
                return token
    return None
