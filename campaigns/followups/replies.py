"""Default answers to STOP, START, HELP and YES; the campaigns file can override each."""

from __future__ import annotations

from collections.abc import Mapping

# Overridable in the campaigns file's `organisation:` block as `<key>_reply: {lang: text}`
# (help uses the registry's `help_reply`).
DEFAULTS: dict[str, dict[str, str]] = {
    "stop": {
        "az": "Mesajlar dayandırıldı. Yenidən almaq üçün START yazın.",
        "ru": "Рассылка остановлена. Чтобы возобновить, отправьте START.",
        "en": "You will get no more messages. Text START to allow them again.",
    },
    "start": {
        "az": "Mesajlara yenidən icazə verildi. Dayandırmaq üçün STOP yazın.",
        "ru": "Сообщения снова разрешены. Для отказа отправьте STOP.",
        "en": "Messages are allowed again. Text STOP to opt out.",
    },
    "help": {
        "az": "Miqrasiya Məlumat Mərkəzi: pulsuz, anonim məlumat. Dayandırmaq üçün STOP yazın.",
        "ru": "Центр миграционной информации: бесплатно и анонимно. Для отказа: STOP.",
        "en": "Migration Information Centre: free, anonymous advice. Text STOP to opt out.",
    },
    "optin": {
        "az": "Təşəkkürlər! Bir neçə məlumat mesajı alacaqsınız. Dayandırmaq üçün STOP yazın.",
        "ru": "Спасибо! Вы получите несколько информационных SMS. Для отказа: STOP.",
        "en": "Thank you! You will get a few information messages. Text STOP to opt out.",
    },
    "already": {
        "az": "Siz artıq qeydiyyatdasınız. Dayandırmaq üçün STOP yazın.",
        "ru": "Вы уже подписаны. Для отказа отправьте STOP.",
        "en": "You are already signed up. Text STOP to opt out.",
    },
}


def reply_for(org: Mapping[str, object], key: str, language: str) -> str:
    """Returns the organisation's text for this answer in the language, or the default."""
    custom = org.get(f"{key}_reply")
    texts: Mapping[str, str] = custom if isinstance(custom, Mapping) else {}
    defaults = DEFAULTS[key]
    return texts.get(language) or defaults.get(language) or texts.get("en") or defaults["en"]
