"""Personal data (SPEC §7): what is found, what is not, and how it is masked."""

from __future__ import annotations

import re
from itertools import pairwise

import phonenumbers
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from schwifty import IBAN

from bot.config import DEFAULT_CONTRACT_NUMBER_PATTERNS
from bot.pii import Finding, PiiDetector, _fewest_phone_digits, mask_value

GERMAN_CONTRACT_PATTERNS = DEFAULT_CONTRACT_NUMBER_PATTERNS.split(";")
DETECTOR = PiiDetector(region="DE", contract_patterns=GERMAN_CONTRACT_PATTERNS)

FOUND = [
    # phone numbers, German notations and international ones
    ("Ruft mich bitte an: 0171 2345678", ["phone"]),
    ("Handy 0171/2345678, danke", ["phone"]),
    ("call me on +49 171 2345678", ["phone"]),
    ("Festnetz (030) 1234567", ["phone"]),
    ("Büro 0221-12345678", ["phone"]),
    ("oder 0049 171 2345678", ["phone"]),
    ("reach me at +1 650 253 0000 after work", ["phone"]),
    ("my UK number is +44 20 7946 0958", ["phone"]),
    ("Die Hotline 0800 330 1000 hilft", ["phone"]),
    ("Zwei Nummern: 0171 2345678 und 030 1234567", ["phone", "phone"]),
    # e-mail addresses
    ("Schreibt mir an anna.k@example.com.", ["email"]),
    ("mail: Max.Mustermann+telekom@t-online.de", ["email"]),
    # IBANs with a valid checksum, with and without spaces
    ("IBAN DE89 3704 0044 0532 0130 00 bitte prüfen", ["iban"]),
    ("IBAN: DE89370400440532013000.", ["iban"]),
    ("my IBAN is GB82 WEST 1234 5698 7654 32", ["iban"]),
    # customer and contract numbers, from the German default patterns
    ("Kundennummer 123456789", ["contract"]),
    ("Vertragsnr.: 1234567890 – seit Tagen kein Netz", ["contract"]),
    ("Meine Kunden-Nr. 12345678 hilft euch?", ["contract"]),
    ("Buchungskonto 123-456-7890", ["contract"]),
    ("customer number: AB123456", ["contract"]),
    # street addresses
    ("Ich wohne in der Musterstraße 12", ["address"]),
    ("Der Anschluss liegt in der Hauptstr. 5a", ["address"]),
    ("Adresse: Am Markt 3", ["address"]),
    ("Goethe-Allee 7, 2. OG", ["address"]),
    ("Lindenweg 12b", ["address"]),
    ("Treffpunkt Berliner Platz 1", ["address"]),
    ("Musterstraße 12, 53113 Bonn", ["address"]),
    ("Techniker kam nicht: Konrad-Adenauer-Str. 1, 60311 Frankfurt am Main", ["address"]),
    ("wohne in der hauptstraße 5", ["address"]),
    ("I live at 221B Baker Street, London", ["address"]),
    ("Send it to 10 Downing St please", ["address"]),
    # several kinds, and overlaps decided for the more telling one
    ("Anna, anna.k@example.com, 0171 2345678, Musterstraße 12", ["email", "phone", "address"]),
    ("Kundennummer 0171 2345678", ["contract"]),
    ("IBAN DE89 3704 0044 0532 0130 00, Kundennummer 123456789", ["iban", "contract"]),
    ("account number DE89 3704 0044 0532 0130 00", ["contract"]),
    ("Kundennummer 12345678 IBAN DE89 3704 0044 0532 0130 00", ["contract", "iban"]),
    ("Meine Kundennummer ist 1234567890", ["contract"]),
    ("Schreibt an 01712345678@example.com", ["email"]),
    ("call +1 201-555-0123", ["phone"]),
]

NOT_FOUND = [
    "Termin am 21.11.2026",
    "Termin am 2026-11-21",
    "Der Techniker kommt um 14:30",
    "Hotline 08:00-20:00 erreichbar",
    "MagentaMobil für 19,99 €",
    "costs € 49.95 a month",
    "Rechnung über 1.299,00 EUR",
    "1578516295611748353",
    "siehe x.com/foo/status/1578516295611748353",
    "seit iOS 17.1.2 kein WLAN",
    "Router-Firmware 7.57 installiert",
    "nur 250 Mbit/s statt 1000",
    "DSL 16000 kbit",
    "PLZ 53113",
    "siehe Ticket #12",
    "nur 50 % der Leistung",
    "50% off",
    "800",
    "Hausnummer 12b",
    "Die Straße ist gesperrt",
    "Straße",
    "danke @TelekomHilft",
    "https://www.telekom.de/hilfe/mobilfunk",
    "DE00 1234 5678 9012 3456 78",
    "Im Netz 5g kein Empfang",
    "Am Montag 3 mal angerufen",
    "Im Shop 2 Geräte gekauft",
    "Zum Glück 2 von 3 Geräten",
    "SIM in Steckplatz 2",
    "Speicherplatz 64 GB",
    "bis Freitag 20 Uhr",
]

EXAMPLES = FOUND + [(text, []) for text in NOT_FOUND]

MASKED = [
    ("phone", "0171 2345678", "0171 ••••678"),
    ("phone", "0171/2345678", "0171/••••678"),
    ("phone", "+49 171 2345678", "+49 171 ••••678"),
    ("phone", "(030) 1234567", "(030) ••••567"),
    ("phone", "0221-12345678", "0221-•••••678"),
    ("phone", "0800 330 1000", "0800 ••• •000"),
    ("phone", "+44 20 7946 0958", "+44 20 •••• •958"),
    ("email", "anna.k@example.com", "a•••••@example.com"),
    ("email", "a@b.de", "•@b.de"),
    ("iban", "DE89 3704 0044 0532 0130 00", "DE89 •••• •••• •••• •••0 00"),
    ("iban", "DE89370400440532013000", "DE89•••••••••••••••000"),
    ("contract", "Kundennummer 123456789", "Kundennummer ••••••789"),
    ("contract", "Vertragsnr.: 1234567890", "Vertragsnr.: •••••••890"),
    ("contract", "customer number: AB123456", "customer number: •••••456"),
    ("contract", "123-456-7890", "•••-•••-•890"),
    ("address", "Musterstraße 12", "M•••••straße ••"),
    ("address", "Hauptstr. 5a", "H••••str. ••"),
    ("address", "Am Markt 3", "Am M•••• •"),
    ("address", "Goethe-Allee 7", "G•••••-Allee •"),
    ("address", "Berliner Platz 1", "B••••••• Platz •"),
    ("address", "Musterstraße 12, 53113 Bonn", "M•••••straße ••, ••••• Bonn"),
    ("address", "221B Baker Street", "•••• B•••• Street"),
]

# How many leading digits a masked finding may show besides its last three: a phone
# number its country, trunk and area codes ("0049 171"), an IBAN its check digits.
SHOWN_PREFIX = {"phone": 7, "iban": 2, "contract": 0, "address": 0}


def kinds(text: str, detector: PiiDetector = DETECTOR) -> list[str]:
    return [finding.kind for finding in detector.find(text)]


def digits(text: str) -> str:
    return "".join(char for char in text if char.isdecimal())


@pytest.mark.parametrize(("text", "expected"), EXAMPLES, ids=[text for text, _ in EXAMPLES])
def test_personal_data_is_found_and_near_misses_are_not(text: str, expected: list[str]) -> None:
    assert kinds(text) == expected


@pytest.mark.parametrize(("kind", "value", "masked"), MASKED)
def test_a_finding_is_masked_but_stays_recognisable(kind: str, value: str, masked: str) -> None:
    assert mask_value(kind, value) == masked


def test_masking_a_message_masks_each_finding_and_leaves_the_rest() -> None:
    text = "Anna hier, 0171 2345678 oder anna.k@example.com, Kundennummer 123456789."
    assert DETECTOR.mask(text) == (
        "Anna hier, 0171 ••••678 oder a•••••@example.com, Kundennummer ••••••789."
    )


@pytest.mark.parametrize("text", [text for text, found in FOUND])
def test_masking_shows_no_digit_but_a_short_prefix_and_the_last_three(text: str) -> None:
    masked = DETECTOR.mask(text)
    for finding in DETECTOR.find(text):
        if finding.kind == "email":
            continue  # the domain is kept on purpose
        original = digits(finding.text)
        shown = digits(masked[finding.start : finding.end])
        last = 0 if finding.kind == "address" else 3
        prefix = shown[: len(shown) - last]
        assert len(prefix) <= SHOWN_PREFIX[finding.kind]
        assert original.startswith(prefix)
        assert original.endswith(shown[len(prefix) :])
        assert len(shown) < len(original)


@pytest.mark.parametrize("text", [text for text, found in FOUND])
def test_a_finding_is_the_text_at_its_span(text: str) -> None:
    for finding in DETECTOR.find(text):
        assert text[finding.start : finding.end] == finding.text


@pytest.mark.parametrize("text", [text for text, found in FOUND])
def test_masked_text_holds_no_personal_data_any_more(text: str) -> None:
    assert DETECTOR.contains(text)
    assert not DETECTOR.contains(DETECTOR.mask(text))


@pytest.mark.parametrize(
    ("kind", "label"),
    [
        ("phone", "phone number"),
        ("email", "e-mail address"),
        ("iban", "IBAN"),
        ("contract", "customer/contract number"),
        ("address", "street address"),
    ],
)
def test_each_kind_has_words_for_refusals(kind: str, label: str) -> None:
    assert Finding(kind, 0, 1, "x").label == label


def test_overlapping_findings_are_masked_as_one() -> None:
    # The default contract pattern stops where the number does, so the IBAN beside it is a
    # finding of its own; a pattern that runs on into it is merged with it into one.
    text = "Kundennummer 12345678 IBAN DE89 3704 0044 0532 0130 00"
    assert DETECTOR.mask(text) == "Kundennummer •••••678 IBAN DE89 •••• •••• •••• •••0 00"
    greedy = PiiDetector(contract_patterns=[r"(?i)kundennummer [A-Z0-9 ]+"])
    assert [f.kind for f in greedy.find(text)] == ["contract"]
    assert greedy.mask(text).endswith("00") and "3704" not in greedy.mask(text)
    # An e-mail address wins over a phone number in its local part.
    assert DETECTOR.mask("an 0171 2345678@example.com") == "an 0•••••••••••@example.com"


def test_an_unknown_kind_cannot_be_masked() -> None:
    with pytest.raises(ValueError, match="unknown kind"):
        mask_value("passport", "C01X00T47")


def test_contract_numbers_come_only_from_the_configured_patterns() -> None:
    assert kinds("Kundennummer 123456789", PiiDetector()) == []
    assert kinds("Kd-Nr. 12345678") == ["contract"]  # in the German default
    only_kd_nr = PiiDetector(contract_patterns=[r"(?i)\bkd\.?-?nr\.?\s*[:#]?\s*\d{6,}"])
    assert kinds("Kd-Nr. 12345678", only_kd_nr) == ["contract"]
    assert kinds("Kundennummer 123456789", only_kd_nr) == []
    assert mask_value("contract", "Kd-Nr. 12345678") == "Kd-Nr. •••••678"


def test_national_numbers_are_read_in_the_configured_region() -> None:
    assert kinds("call (201) 555-0123", PiiDetector(region="US")) == ["phone"]
    assert kinds("call (201) 555-0123") == []
    assert kinds("call +1 201-555-0123") == ["phone"]
    assert mask_value("phone", "(201) 555-0123", region="US") == "(201) •••-•123"


# Text built from pieces that look like personal data, near-misses and noise, so that the
# properties below meet findings next to each other and not only random characters.
PIECES = [text for text, _ in EXAMPLES] + [
    "0171",
    "2345678",
    "+49",
    "@",
    "example.com",
    "DE89",
    "3704 0044",
    "Kundennummer",
    "straße",
    "12",
    ", 53113 Bonn",
]
messy_text = st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=6)), max_size=8).flatmap(
    lambda parts: st.sampled_from(["", " ", ", ", "\n"]).map(lambda sep: sep.join(parts))
)
any_text = st.one_of(st.text(), messy_text)


@settings(deadline=None)
@given(st.text())
def test_finding_never_fails_whatever_the_text(text: str) -> None:
    DETECTOR.find(text)


@settings(deadline=None)
@given(any_text)
def test_findings_are_sorted_non_overlapping_spans_of_the_text(text: str) -> None:
    findings = DETECTOR.find(text)
    for finding in findings:
        assert 0 <= finding.start < finding.end <= len(text)
        assert text[finding.start : finding.end] == finding.text
    for before, after in pairwise(findings):
        assert before.end <= after.start


@settings(deadline=None)
@given(any_text)
def test_masking_keeps_the_length_and_is_idempotent(text: str) -> None:
    masked = DETECTOR.mask(text)
    assert len(masked) <= len(text)
    assert DETECTOR.mask(masked) == masked
    if not DETECTOR.contains(text):
        assert masked == text


@settings(deadline=None)
@given(any_text)
def test_masked_text_never_counts_as_personal_data(text: str) -> None:
    assert not DETECTOR.contains(DETECTOR.mask(text))


PHONE_TYPES = [
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE,
    phonenumbers.PhoneNumberType.TOLL_FREE,
]
STYLES = [
    phonenumbers.PhoneNumberFormat.NATIONAL,
    phonenumbers.PhoneNumberFormat.INTERNATIONAL,
    phonenumbers.PhoneNumberFormat.E164,
]
# Around a phone number: no digits or plus signs, which would make it a longer number.
surrounding = st.text(
    st.characters(exclude_categories=["Nd", "No", "Nl", "Cs"], exclude_characters="+＋"),
    max_size=20,
)
# A known miss of libphonenumber's matcher: it reads an opening bracket with brackets, x's
# (its extension mark) and spaces after it as the start of the number, and rejects the
# whole when they do not pair up: "([ +49 171 2345678", "(x 0171 2345678".
BRACKET_AND_X = re.compile(r"[(\[（［][\s()\[\]（）［］xX]*$")


EXAMPLE_NUMBERS = [
    example
    for region in ["DE", "AT", "CH", "GB", "US", "FR", "NL", "PL"]
    for kind in PHONE_TYPES
    if (example := phonenumbers.example_number_for_type(region, kind)) is not None
]


@st.composite
def valid_phone_numbers(draw: st.DrawFn) -> phonenumbers.PhoneNumber:
    example = draw(st.sampled_from(EXAMPLE_NUMBERS))
    # The example number with its last four digits replaced, kept only when still valid.
    national = phonenumbers.national_significant_number(example)
    tail = draw(st.text("0123456789", min_size=4, max_size=4))
    number = phonenumbers.parse(f"+{example.country_code}{national[:-4]}{tail}")
    assume(phonenumbers.is_valid_number(number))
    return number


@settings(deadline=None)
@given(valid_phone_numbers(), st.sampled_from(STYLES), surrounding, surrounding)
def test_a_valid_phone_number_is_found_anywhere(
    number: phonenumbers.PhoneNumber, style: int, before: str, after: str
) -> None:
    assume(not BRACKET_AND_X.search(before))
    if phonenumbers.region_code_for_number(number) != "DE":
        # Written nationally, only numbers of the detector's region can be read.
        assume(style != phonenumbers.PhoneNumberFormat.NATIONAL)
    written = phonenumbers.format_number(number, style)
    text = f"{before} {written} {after}"
    start, end = len(before) + 1, len(before) + 1 + len(written)
    # libphonenumber may take an opening bracket in front along: "(+49 171 2345678)".
    assert any(
        finding.kind == "phone" and finding.start <= start and end <= finding.end
        for finding in DETECTOR.find(text)
    )


def test_the_german_example_mobile_number_is_found_in_both_notations() -> None:
    example = phonenumbers.example_number_for_type("DE", phonenumbers.PhoneNumberType.MOBILE)
    assert example is not None
    for style in (phonenumbers.PhoneNumberFormat.NATIONAL, phonenumbers.PhoneNumberFormat.E164):
        written = phonenumbers.format_number(example, style)
        assert kinds(f"Meine Nummer: {written}.") == ["phone"]


def test_no_example_number_of_any_region_has_fewer_digits_than_the_search_asks_for() -> None:
    # Numbers are looked for only in texts with as many digits as the shortest valid one
    # has (`_fewest_phone_digits`): every example number libphonenumber knows, of every
    # kind, written internationally or nationally in its own region, has at least that many.
    checked = 0
    for region in phonenumbers.SUPPORTED_REGIONS:
        for kind in phonenumbers.PhoneNumberType.values():
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None:
                continue
            for style, reader in (
                (phonenumbers.PhoneNumberFormat.E164, "DE"),
                (phonenumbers.PhoneNumberFormat.NATIONAL, region),
            ):
                written = phonenumbers.format_number(example, style)
                assert sum(c.isdigit() for c in written) >= _fewest_phone_digits(reader), written
                checked += 1
    assert checked > 1000


def test_a_number_typed_in_full_width_digits_is_found_too() -> None:
    # The search looks for phone numbers only where a digit is: any decimal digit counts.
    assert kinds("Ruf mich an: ０１７１ １２３４５６７") == ["phone"]


account_codes = st.text("0123456789", min_size=10, max_size=10)


@settings(deadline=None)
@given(account_codes)
def test_a_generated_iban_is_found_with_and_without_spaces(account: str) -> None:
    iban = IBAN.generate("DE", bank_code="37040044", account_code=account)
    for written in (iban.compact, iban.formatted):
        assert DETECTOR.find(f"Meine IBAN: {written} danke") == [
            Finding("iban", 12, 12 + len(written), written)
        ]


@settings(deadline=None)
@given(account_codes, st.integers(min_value=2, max_value=21), st.integers(1, 9))
def test_an_iban_with_one_digit_changed_is_not_found(account: str, place: int, by: int) -> None:
    compact = IBAN.generate("DE", bank_code="37040044", account_code=account).compact
    changed = compact[:place] + str((int(compact[place]) + by) % 10) + compact[place + 1 :]
    for written in (changed, " ".join(changed[i : i + 4] for i in range(0, len(changed), 4))):
        assert "iban" not in kinds(f"Meine IBAN: {written} danke")
