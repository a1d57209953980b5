"""The languages Whisper knows, by code and by English name.

Whisper names languages by its own codes, which are ISO 639-1 except three: ``jw`` (Javanese,
ISO ``jv``), ``haw`` (Hawaiian) and ``yue`` (Cantonese), which have no two-letter code.
:func:`iso_code` and :func:`whisper_code` convert between the two.
"""

from __future__ import annotations

from analysis.errors import InputError

# Whisper's code → English name, as in OpenAI's whisper/tokenizer.py.
NAMES = {
    "en": "English", "zh": "Chinese", "de": "German", "es": "Spanish", "ru": "Russian",
    "ko": "Korean", "fr": "French", "ja": "Japanese", "pt": "Portuguese", "tr": "Turkish",
    "pl": "Polish", "ca": "Catalan", "nl": "Dutch", "ar": "Arabic", "sv": "Swedish",
    "it": "Italian", "id": "Indonesian", "hi": "Hindi", "fi": "Finnish", "vi": "Vietnamese",
    "he": "Hebrew", "uk": "Ukrainian", "el": "Greek", "ms": "Malay", "cs": "Czech",
    "ro": "Romanian", "da": "Danish", "hu": "Hungarian", "ta": "Tamil", "no": "Norwegian",
    "th": "Thai", "ur": "Urdu", "hr": "Croatian", "bg": "Bulgarian", "lt": "Lithuanian",
    "la": "Latin", "mi": "Maori", "ml": "Malayalam", "cy": "Welsh", "sk": "Slovak",
    "te": "Telugu", "fa": "Persian", "lv": "Latvian", "bn": "Bengali", "sr": "Serbian",
    "az": "Azerbaijani", "sl": "Slovenian", "kn": "Kannada", "et": "Estonian",
    "mk": "Macedonian", "br": "Breton", "eu": "Basque", "is": "Icelandic", "hy": "Armenian",
    "ne": "Nepali", "mn": "Mongolian", "bs": "Bosnian", "kk": "Kazakh", "sq": "Albanian",
    "sw": "Swahili", "gl": "Galician", "mr": "Marathi", "pa": "Punjabi", "si": "Sinhala",
    "km": "Khmer", "sn": "Shona", "yo": "Yoruba", "so": "Somali", "af": "Afrikaans",
    "oc": "Occitan", "ka": "Georgian", "be": "Belarusian", "tg": "Tajik", "sd": "Sindhi",
    "gu": "Gujarati", "am": "Amharic", "yi": "Yiddish", "lo": "Lao", "uz": "Uzbek",
    "fo": "Faroese", "ht": "Haitian Creole", "ps": "Pashto", "tk": "Turkmen", "nn": "Nynorsk",
    "mt": "Maltese", "sa": "Sanskrit", "lb": "Luxembourgish", "my": "Myanmar", "bo": "Tibetan",
    "tl": "Tagalog", "mg": "Malagasy", "as": "Assamese", "tt": "Tatar", "haw": "Hawaiian",
    "ln": "Lingala", "ha": "Hausa", "ba": "Bashkir", "jw": "Javanese", "su": "Sundanese",
    "yue": "Cantonese",
}  # fmt: skip

_TO_ISO = {"jw": "jv"}


def iso_code(code: str) -> str:
    """The ISO 639-1 code of Whisper's language ``code`` (itself where ISO has none)."""
    return _TO_ISO.get(code, code)


def whisper_code(code: str) -> str:
    """Whisper's code for a language given by its ISO 639-1 or Whisper code, or English name.

    Raises
    ------
    InputError
        If Whisper does not know the language.
    """
    wanted = code.strip().lower()
    wanted = {iso: whisper for whisper, iso in _TO_ISO.items()}.get(wanted, wanted)
    if wanted in NAMES:
        return wanted
    for known, name in NAMES.items():
        if name.lower() == wanted:
            return known
    raise InputError(
        f"Whisper does not know the language “{code}”: give a code such as en, fr, es or de."
    )


def language_name(code: str) -> str:
    """The English name of Whisper's language ``code`` ("fr" → "French"); the code if unknown."""
    return NAMES.get(code, code)


def by_name() -> list[str]:
    """Whisper's language codes, ordered by their English names (for a menu)."""
    return sorted(NAMES, key=NAMES.__getitem__)
