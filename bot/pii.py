"""Personal data in free text (SPEC §7): find it, name it, mask it.

Phone numbers follow libphonenumber's rules (`phonenumbers`), IBANs must pass their
checksum (`schwifty`), customer/contract numbers come from the configured patterns, and
e-mail and street addresses are regular expressions. Masking keeps enough of a finding
for an agent to recognise it (a prefix, the last three characters) and hides the rest
with `•`, one for each hidden character, so that text keeps its length and shape.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache

import phonenumbers
from schwifty import IBAN
from schwifty.exceptions import SchwiftyException

MASK = "•"

_LABELS = {
    "phone": "phone number",
    "email": "e-mail address",
    "iban": "IBAN",
    "contract": "customer/contract number",
    "address": "street address",
}

# Which kind names a group of overlapping candidates when they are equally long.
_SPECIFICITY = ("iban", "email", "contract", "phone", "address")

_DOMAIN_PART = r"(?:[^\W_][\w-]*\.)+[^\W\d_]{2,}(?![\w-])"
_DIGIT = re.compile(r"\d")  # any decimal digit, as phonenumbers reads them (also ０-９, ٠-٩)
_EMAIL = re.compile(rf"(?<![\w.%+-])[\w.%+-]+@{_DOMAIN_PART}")
_DOMAIN = re.compile(_DOMAIN_PART)

# An IBAN starts with a country code and two check digits; customers write the rest with
# or without single spaces. 15 to 34 letters and digits in all.
_IBAN_START = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2}[0-9]{2}")
_IBAN_RUN = re.compile(r"[A-Za-z]{2}[0-9]{2}(?:[ \u00a0]?[A-Za-z0-9]){11,30}")
_IBAN_MIN_LENGTH = 15

# Street addresses. German street names are capitalised words ending in a street word
# ("Musterstraße", "Goethe-Allee", "Berliner Platz", "Am Markt"), followed by a house
# number and maybe a postcode and town; English ones put the number first.
_CAP = r"[A-ZÄÖÜ][a-zäöüß]+"
_SUFFIX = r"(?:stra(?:ß|ss)e|str\.|weg|allee|platz|gasse|ring|damm|ufer|chaussee|pfad)"
_STREET_WORD = r"(?:Stra(?:ß|ss)e|Str\.|Weg|Allee|Platz|Gasse|Ring|Damm|Ufer|Chaussee|Pfad)"
# Street words that are rarely the end of an ordinary lower-case word.
_LOWER_SUFFIX = r"(?:stra(?:ß|ss)e|str\.|allee|gasse|chaussee|damm)"
# Compounds with a street word that are no streets but come with numbers in tweets.
_NOT_STREETS = (
    r"(?:Arbeits|Park|Stell|Sitz|Speicher|Steck|Spiel|Studien|Ausbildungs)platz"
    r"|(?:Rück|Um|Heim|Hin|Aus|Lösungs|Zahlungs|Rechts|Post|Liefer)weg"
    r"|(?:Ver)?[KkLl]äufer"
)
_NOT_ADJECTIVES = (
    r"(?:Die|Der|Das|Eine|Einer|Meine|Meiner|Deine|Deiner|Unsere|Unserer|Ihre|Ihrer|Seine"
    r"|Seiner|Diese|Dieser|Jede|Jeder|Keine|Keiner|Welche|Welcher|Jene|Alle|Andere|Anderer"
    r"|Aber|Oder|Über|Unter|Hinter|Wieder|Immer|Hier|Sie|Wie|Nie|Erste|Erster|Nächste"
    r"|Nächster|Letzte|Letzter)"
)
# "Am Montag 3 …", "Im Vertrag 2 …": prepositional street names need these kept out.
_NOT_PLACES = (
    r"(?:Montag|Dienstag|Mittwoch|Donnerstag|Freitag|Samstag|Sonnabend|Sonntag|Wochenende"
    r"|Januar|Jänner|Februar|März|April|Mai|Juni|Juli|August|September|Oktober|November"
    r"|Dezember|Anfang|Ende|Jahr|Monat|Tag|Moment|Schnitt|Durchschnitt|Vertrag|Tarif|Netz"
    r"|Shop|Laden|Router|Handy|Telefon|Test|Speedtest|Angebot|Paket|Chat|Ticket|Sommer"
    r"|Winter|Herbst|Frühjahr|Frühling|Morgen|Abend|Mittag|Vormittag|Nachmittag|Glück"
    r"|Prinzip|Grunde|Ganzen|Schluss|Vergleich|Voraus|Vorfeld)"
)


def _house(digits: int) -> str:
    """A house number such as 12, 5a, 12 b or 12-14, of up to `digits` digits."""
    number = rf"[0-9]{{1,{digits}}}"
    return rf"(?P<number>{number}(?:\s?[a-z](?!\w))?(?:\s?[-/]\s?{number}(?:[a-z](?!\w))?)?)(?!\w)"


_POSTCODE = (
    r"(?:,\s*|\s+)(?:D-)?(?P<postcode>[0-9]{5})\s+"
    rf"(?P<city>(?:Bad\s+|Sankt\s+|St\.\s+)?{_CAP}(?:-{_CAP})*"
    rf"(?:\s+(?:am|an\s+der|im|ob\s+der)\s+{_CAP})?)(?!\w)"
)
# A number followed by a unit, a time or a price is a count, not a house number.
_NOT_HOUSE = (
    r"(?![.,:][0-9]|\s*(?:[%€$£°]|(?i:uhr|mal|min|minuten|sek|sekunden|std|stunden|tage?n?"
    r"|wochen?|monate?n?|jahre?n?|euro?|cent|ct|mbit|gbit|kbit|mbps|mb|gb|tb|ghz|mhz|prozent"
    r"|stück|geräte?|sims?|leute|personen)\b))"
)
_TAIL = rf"(?:{_POSTCODE}|{_NOT_HOUSE})"
# After a prepositional name a capitalised word means "Im Shop 2 Geräte", not a street.
_STRICT_TAIL = rf"(?:{_POSTCODE}|{_NOT_HOUSE}(?!\s+[A-ZÄÖÜ]))"
_ADDRESSES = tuple(
    re.compile(pattern)
    for pattern in (
        # Musterstraße 12, Hauptstr. 5a, Goethe-Allee 7, Konrad-Adenauer-Str. 1
        rf"(?<![\w-])(?!{_NOT_STREETS}\b)(?P<name>{_CAP}(?:-{_CAP})*?)"
        rf"(?P<street>{_SUFFIX}|-{_STREET_WORD})\s*{_house(4)}{_TAIL}",
        # hauptstraße 12, as typed on a phone
        rf"(?<![\w-])(?P<name>[a-zäöüß]{{2,}}(?:-[a-zäöüß]+)*?)(?P<street>{_LOWER_SUFFIX})"
        rf"\s*{_house(4)}{_TAIL}",
        # Berliner Platz 1, Lange Straße 3, Alte Kölner Str. 9
        rf"(?<![\w-])(?!{_NOT_ADJECTIVES}\b)(?P<name>(?:{_CAP}\s+)?[A-ZÄÖÜ][a-zäöüß]*(?:e|er|en))"
        rf"\s+(?P<street>{_STREET_WORD})\s*{_house(4)}{_TAIL}",
        # Am Markt 3, An der Kirche 5, Am Alten Weg 2
        r"(?<![\w-])(?P<prep>Am|Im|Zum|Zur|Beim|(?:An|Auf|In|Hinter|Vor|Unter|Bei)\s+de[mnr])"
        rf"\s+(?!{_NOT_PLACES}\b)(?P<name>{_CAP}(?:[\s-]{_CAP})?)\s+"
        rf"{_house(3)}{_STRICT_TAIL}",
        # 221B Baker Street, 10 Downing St
        r"(?<![\w.,-])(?P<number>[0-9]{1,5}[A-Za-z]?)\s+(?P<name>[A-Z][a-z]+(?:\s+[A-Z][a-z]+){0,2})"
        r"\s+(?P<street>Street|St|Road|Rd|Avenue|Ave|Lane)\b",
    )
)
# In an address the house number and postcode are hidden whole, words but their first letter.
_ADDRESS_HIDDEN = re.compile(r"\d|(?<=\w)[^\W\d_]")
_FIRST_NUMBER_WORD = re.compile(r"[^\W\d_]*\d")


@dataclass(frozen=True)
class Finding:
    """One piece of personal data: what it is and where it is."""

    kind: str
    start: int
    end: int
    text: str

    @property
    def label(self) -> str:
        """Human words for the kind, as used in refusals."""
        return _LABELS[self.kind]


class PiiDetector:
    """Finds and masks personal data in customer and agent text."""

    def __init__(self, *, region: str = "DE", contract_patterns: Sequence[str] = ()) -> None:
        self._region = region.upper()
        self._contracts = tuple(re.compile(pattern) for pattern in contract_patterns)
        self._phone_digits = _fewest_phone_digits(self._region)

    def find(self, text: str) -> list[Finding]:
        """Every finding in `text`, sorted by start, none overlapping another."""
        # Phone numbers, IBANs and addresses (a house number) all have a digit and an
        # e-mail address its @: most tweets have neither, and the searches are the
        # expensive part of storing a tweet. Contract numbers follow their own patterns.
        count = len(_DIGIT.findall(text))
        digits = count > 0
        candidates = [
            *(self._phones(text) if count >= self._phone_digits else ()),
            *(_emails(text) if "@" in text else ()),
            *(_ibans(text) if digits else ()),
            *self._contract_numbers(text),
            *(_addresses(text) if digits else ()),
        ]
        return _without_overlaps(text, candidates)

    def mask(self, text: str) -> str:
        """`text` with every finding masked and everything else unchanged."""
        masked = text
        # A `•` ends a word where a letter did not, so what is left of a finding can read
        # as a new one next to its neighbours ("AaAa-Allee0" after a cut-short town name);
        # mask until nothing is found. Each round hides more, so this ends, almost always
        # after the first (and text without personal data is searched once).
        while (again := self._mask_once(masked)) != masked:
            masked = again
        return masked

    def contains(self, text: str) -> bool:
        """Whether `text` holds any personal data."""
        return bool(self.find(text))

    def _mask_once(self, text: str) -> str:
        pieces: list[str] = []
        position = 0
        for finding in self.find(text):
            pieces.append(text[position : finding.start])
            pieces.append(mask_value(finding.kind, finding.text, region=self._region))
            position = finding.end
        pieces.append(text[position:])
        return "".join(pieces)

    def _phones(self, text: str) -> Iterator[Finding]:
        # VALID: the number must be one that can be assigned, which keeps dates, prices,
        # tweet ids and version numbers out.
        matcher = phonenumbers.PhoneNumberMatcher(
            text, self._region, leniency=phonenumbers.Leniency.VALID
        )
        for match in matcher:
            yield Finding("phone", match.start, match.end, match.raw_string)

    def _contract_numbers(self, text: str) -> Iterator[Finding]:
        for pattern in self._contracts:
            for match in pattern.finditer(text):
                if match.end() > match.start():
                    yield Finding("contract", match.start(), match.end(), match.group())


@cache
def _fewest_phone_digits(region: str) -> int:
    """The fewest digits a valid phone number can have, from libphonenumber's metadata.

    Written nationally, the region's shortest number; internationally, a country code and
    the shortest number behind it. A text with fewer digits holds no phone number.
    """
    lengths = []
    for code, regions in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.items():
        for each in regions:
            metadata = phonenumbers.PhoneMetadata.metadata_for_region_or_calling_code(code, each)
            described = metadata.general_desc if metadata else None
            possible = [n for n in described.possible_length if n > 0] if described else []
            if possible:
                national = min(possible)
                lengths.append(national if each == region else len(str(code)) + national)
    return min(lengths, default=1)


def mask_value(kind: str, value: str, *, region: str = "DE") -> str:
    """How one finding of `kind` is shown once masked; `region` reads national phone numbers."""
    if kind == "phone":
        return _mask_phone(value, region)
    maskers: dict[str, Callable[[str], str]] = {
        "email": _mask_email,
        "iban": _mask_iban,
        "contract": _mask_contract,
        "address": _mask_address,
    }
    if kind not in maskers:
        raise ValueError(f"unknown kind of personal data: {kind!r}")
    return maskers[kind](value)


def _emails(text: str) -> Iterator[Finding]:
    for match in _EMAIL.finditer(text):
        yield Finding("email", match.start(), match.end(), match.group())


def _ibans(text: str) -> Iterator[Finding]:
    position = 0
    while start := _IBAN_START.search(text, position):
        run = _IBAN_RUN.match(text, start.start())
        end = _longest_iban(text, start.start(), run.end()) if run else None
        if end is None:
            position = start.start() + 1
            continue
        yield Finding("iban", start.start(), end, text[start.start() : end])
        position = end


def _longest_iban(text: str, start: int, stop: int) -> int | None:
    """Where the longest valid IBAN from `start` ends, trying each word end up to `stop`."""
    for end in range(stop, start + _IBAN_MIN_LENGTH - 1, -1):
        # Only whole words: an IBAN cut out of a longer number is no IBAN.
        if (end < len(text) and text[end].isalnum()) or not text[end - 1].isalnum():
            continue
        try:
            IBAN(text[start:end])
        except SchwiftyException:
            continue
        return end
    return None


def _addresses(text: str) -> Iterator[Finding]:
    for pattern in _ADDRESSES:
        for match in pattern.finditer(text):
            yield Finding("address", match.start(), match.end(), match.group())


def _without_overlaps(text: str, candidates: list[Finding]) -> list[Finding]:
    """One finding for each group of overlapping candidates, covering all of them."""
    groups: list[list[Finding]] = []
    for candidate in sorted(candidates, key=lambda finding: finding.start):
        if groups and candidate.start < max(other.end for other in groups[-1]):
            groups[-1].append(candidate)
        else:
            groups.append([candidate])
    return [_merged(text, group) for group in groups]


def _merged(text: str, group: list[Finding]) -> Finding:
    # The whole span is kept, so that no part of a losing candidate is left unmasked. It
    # is named after the best reading: an e-mail address (its @ is certain), else the
    # longest candidate, else the most specific kind.
    best = min(
        group,
        key=lambda finding: (
            finding.kind != "email",
            finding.start - finding.end,
            _SPECIFICITY.index(finding.kind),
        ),
    )
    start = min(finding.start for finding in group)
    end = max(finding.end for finding in group)
    return Finding(best.kind, start, end, text[start:end])


def _hide(
    value: str, *, head: int = 0, tail: int = 3, hideable: Callable[[str], bool] = str.isalnum
) -> str:
    """Replace the hideable characters of `value` with `•`, except `head` first and `tail` last."""
    count = sum(1 for char in value if hideable(char))
    # At least one character is always hidden, so that a short value is never shown whole.
    tail = min(tail, max(count - 1, 0))
    head = max(0, min(head, count - tail - 1))
    shown: list[str] = []
    seen = 0
    for char in value:
        if hideable(char):
            seen += 1
            if head < seen <= count - tail:
                char = MASK
        shown.append(char)
    return "".join(shown)


def _anything(_: str) -> bool:
    return True


def _mask_phone(value: str, region: str) -> str:
    prefix = _phone_prefix_digits(value, region)
    if prefix is None:
        return _hide(value)  # not one number alone: hide letters too, show nothing in front
    return _hide(value, head=prefix, hideable=str.isdecimal)


def _phone_prefix_digits(value: str, region: str) -> int | None:
    """How many leading digits are country code, trunk prefix and area or network code."""
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    national = phonenumbers.national_significant_number(number)
    subscriber = len(national) - phonenumbers.length_of_national_destination_code(number)
    digits = sum(1 for char in value if char.isdecimal())
    return max(0, digits - len(number.extension or "") - subscriber)


def _mask_email(value: str) -> str:
    local, at, rest = value.partition("@")
    if not at:
        return _hide(value)
    # The domain stays: it tells the agent which provider, and it is rarely personal.
    # Anything after it came from an overlapping finding and is hidden whole.
    domain = _DOMAIN.match(rest)
    kept = domain.end() if domain else 0
    hidden_local = _hide(local, head=1, tail=0, hideable=_anything)
    return hidden_local + at + rest[:kept] + _hide(rest[kept:], tail=0)


def _mask_iban(value: str) -> str:
    # Country code and check digits identify nobody; bank and account are hidden.
    return _hide(value, head=4)


def _mask_contract(value: str) -> str:
    # The keyword in front ("Kundennummer", "Vertragsnr.:") stays readable; from the first
    # word with a digit on everything belongs to the number.
    first = _FIRST_NUMBER_WORD.search(value)
    start = first.start() if first else 0
    return value[:start] + _hide(value[start:])


def _mask_address(value: str) -> str:
    match = next((m for p in _ADDRESSES if (m := p.fullmatch(value))), None)
    if match is None:
        return _ADDRESS_HIDDEN.sub(MASK, value)
    shown = value
    # Street word, preposition and town stay: they say "an address in Bonn", not whose.
    for group in ("name", "number", "postcode"):
        if group in match.re.groupindex and match.group(group) is not None:
            start, end = match.span(group)
            shown = shown[:start] + _ADDRESS_HIDDEN.sub(MASK, value[start:end]) + shown[end:]
    return shown
