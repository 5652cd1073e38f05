"""Names that must read as what they are: metric names in runs and policies.

A check matches a policy rule to a run's metric by exact string, so a look-alike name cannot
satisfy a rule; but a report listing ``accuracy`` twice (once with a Cyrillic ``а``) misleads the
person reading it. Refused here, per UTS #39's "highly restrictive" profile, simplified:

- a name must be in Unicode NFKC form (no fullwidth ``ａ``, ligatures, mathematical letters);
- it holds no invisible formatting characters (zero-width spaces and joiners, bidi overrides);
- its letters come from one script, or only from Latin with Han and the Japanese kana, with Han
  and Bopomofo, or with Han and Hangul.

A name written entirely in another script (``точность``) is allowed: it is no look-alike of a
Latin name, and a rule written for the Latin name does not match it.
"""

from __future__ import annotations

import unicodedata

_HIGHLY_RESTRICTIVE = (
    frozenset({"LATIN", "HAN", "HIRAGANA", "KATAKANA"}),
    frozenset({"LATIN", "HAN", "BOPOMOFO"}),
    frozenset({"LATIN", "HAN", "HANGUL"}),
)
# First words of Unicode character names that are not a script of their own.
_SCRIPT_ALIASES = {"CJK": "HAN", "IDEOGRAPHIC": "HAN", "KATAKANA-HIRAGANA": "KATAKANA"}


def _script(ch: str) -> str | None:
    """The script of a letter (or of a non-ASCII digit), from its Unicode name; None for what
    any script uses (ASCII digits, punctuation, combining marks)."""
    category = unicodedata.category(ch)
    if not (category.startswith("L") or (category == "Nd" and ord(ch) > 0x7F)):
        return None
    first = unicodedata.name(ch, "UNKNOWN").split(" ", 1)[0]
    return _SCRIPT_ALIASES.get(first, first)


def name_problem(name: str) -> str | None:
    """Why ``name`` is not acceptable as a metric name, or None."""
    normal = unicodedata.normalize("NFKC", name)
    if normal != name:
        return f"is not in Unicode NFKC form (it reads as {normal!r}); write it plainly"
    hidden = [ch for ch in name if unicodedata.category(ch) == "Cf"]
    if hidden:
        return (f"holds the invisible formatting character U+{ord(hidden[0]):04X} "
                f"({unicodedata.name(hidden[0], 'unnamed')})")
    scripts = {s for s in map(_script, name) if s is not None}
    if len(scripts) > 1 and not any(scripts <= allowed for allowed in _HIGHLY_RESTRICTIVE):
        return (f"mixes the scripts {', '.join(sorted(s.title() for s in scripts))}, as "
                "look-alike names do; use one script")
    return None
