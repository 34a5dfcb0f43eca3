"""A message's own words kept as the product's text and its values, shown in the reader's language.

A notification is written once, in the deployment's language, and that text is what leaves
the system (SMS, e-mail, Web Push, a work-chat group). When the subject (and the body) is
one of the product's texts, the payload also keeps its message id and the values filled in
(``payload["message"]``): the inbox page and the API then show the entry in the language of
whoever reads it. A value that is itself one of the product's texts (a duty, a level, a
role) is kept as its message id and translated too; a name the district gave in Chinese and
in English (`Named`: a problem category, a place, a department) is kept as both and shown in
the reader's; a length of time (`Duration`) is kept as its minutes and said in the reader's
words; anything else (a name, a reference, a time) is kept as written, a list of such texts
(`TextList`) as its ids and its joiner (an item with values of its own, `Filled`, as its id
and its values), and typed text a sentence ends with (`Sentence`) as written, its full stop
added in the reader's language when it has none. A row without them (written before, or by a
caller with free text) shows its stored text.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext, pgettext

from whistle.organisation.durations import format_duration
from whistle.organisation.names import in_reader_language

# Where the payload keeps the message.
KEY = "message"


def msgid(text: str | Promise) -> str | None:
    """The message id of a lazily translated text, None for a text already written out."""
    if not isinstance(text, Promise):
        return None
    # No translation active: the lazy text gives its message id back.
    with translation.override(None):
        return str(text)


class Filled:
    """One of the product's texts with values of its own (plain text: a time, a figure), as an
    item of a `TextList`: shown filled in the language active when it is shown, and kept by
    `kept` as its message id and the values."""

    def __init__(self, text: str | Promise, **params: Any) -> None:
        self.text = text
        self.params = {name: str(value) for name, value in params.items()}

    def __str__(self) -> str:
        return str(self.text) % self.params

    def kept(self) -> dict[str, Any]:
        return {"msgid": msgid(self.text) or str(self.text), "params": self.params}


def _filled(item: Any) -> str | None:
    """A kept list item in the language active: a message id, or one with its values."""
    if not isinstance(item, dict):
        return gettext(str(item))
    text, params = item.get("msgid"), item.get("params")
    if not isinstance(text, str) or not isinstance(params, dict):
        return None
    try:
        return gettext(text) % {str(k): str(v) for k, v in params.items()}
    except (KeyError, TypeError, ValueError):
        return None


class TextList:
    """Several of the product's texts joined by another (`joiner`, "; "), as a message's value:
    shown joined in the language active when it is shown, and kept by `kept` as the message
    ids, so that the inbox shows the list in the reader's language too."""

    def __init__(self, items: Iterable[str | Promise | Filled], joiner: str | Promise) -> None:
        self.items = list(items)
        self.joiner = joiner

    def __str__(self) -> str:
        return str(self.joiner).join(str(item) for item in self.items)

    def kept(self) -> dict[str, Any]:
        return {
            "msgids": [
                item.kept() if isinstance(item, Filled) else msgid(item) or str(item)
                for item in self.items
            ],
            "joiner": msgid(self.joiner) or str(self.joiner),
        }


# What ends a sentence, in either language; and what may close it after that mark (a quote,
# a bracket): "已经三天了。" and "…了。”" end a sentence already.
SENTENCE_ENDS = "。！？.!?…"
_CLOSERS = "\"'”’）)」』》】]"


class Sentence:
    """Typed text (a case's description, a reason, a note) that ends a sentence of a message:
    shown as written, with the full stop of the language it is shown in (。 or .) only when
    it does not end with a mark of its own, so that a message never reads "了。。" or
    "了。."; kept by `kept` as written. The message's text leaves the stop out after it."""

    def __init__(self, text: str) -> None:
        self.text = text.rstrip()

    def __str__(self) -> str:
        if not self.text or self.text.rstrip(_CLOSERS)[-1:] in tuple(SENTENCE_ENDS):
            return self.text
        return self.text + pgettext("the end of a sentence", ".")

    def kept(self) -> dict[str, Any]:
        return {"sentence": self.text}


class Duration:
    """A length of time in whole minutes (the time a reminder leaves), as a message's value:
    shown as `format_duration` says it ("13 h 8 min", "13 小时 8 分钟") in the language active
    when it is shown, and kept by `kept` as the minutes."""

    def __init__(self, minutes: int) -> None:
        self.minutes = int(minutes)

    def __str__(self) -> str:
        return format_duration(timedelta(minutes=self.minutes))

    def kept(self) -> dict[str, Any]:
        return {"minutes": self.minutes}


class Named:
    """A name given in Chinese with, perhaps, an English name beside it (a problem category, a
    district, township or community, a department), as a message's value: shown as
    `in_reader_language` shows it, and kept by `kept` as both, so that the inbox shows the
    English name to an English reader and the Chinese one to others (and wherever no English
    name was given)."""

    def __init__(self, name: str, name_en: str = "") -> None:
        self.name = str(name)
        self.name_en = name_en or ""

    @classmethod
    def of(cls, thing: Any) -> Named:
        """The name of anything named in both languages (its `name` and `name_en`); a dash
        for none (a case outside every township)."""
        if thing is None:
            return cls("—")
        return cls(thing.name, thing.name_en)

    def __str__(self) -> str:
        return in_reader_language(self.name, self.name_en)

    def kept(self) -> dict[str, Any]:
        return {"name": self.name, "name_en": self.name_en}


def text_id(message_id: str) -> dict[str, str]:
    """A value that is one of the product's texts, kept as its message id (`kept`'s form)."""
    return {"msgid": message_id}


def message(subject_id: str, params: dict[str, Any], body_id: str | None = None) -> dict[str, Any]:
    """What the payload keeps of a message whose ids the caller holds already (the sweep,
    which translates each text once a pass): the values as `kept` keeps them, a text among
    them as `text_id`, a `Named` as its two names."""
    values = {k: v.kept() if isinstance(v, Named) else v for k, v in params.items()}
    kept_message: dict[str, Any] = {"subject": subject_id, "params": values}
    if body_id is not None:
        kept_message["body"] = body_id
    return kept_message


def kept(
    subject: str | Promise,
    params: dict[str, Any],
    *,
    body: str | Promise | None = None,
) -> dict[str, Any] | None:
    """What the payload keeps of a message (under `KEY`), or None when its subject is not one
    of the product's texts."""
    subject_id = msgid(subject)
    if subject_id is None:
        return None
    values: dict[str, Any] = {}
    for name, value in params.items():
        value_id = msgid(value)
        if isinstance(value, TextList | Sentence | Named | Duration):
            values[name] = value.kept()
        elif value_id is not None:
            values[name] = text_id(value_id)
        else:
            values[name] = str(value)
    return message(subject_id, values, msgid(body) if body is not None else None)


def _values(params: Any) -> dict[str, str] | None:
    if not isinstance(params, dict):
        return None
    values: dict[str, str] = {}
    for name, value in params.items():
        if isinstance(value, dict) and "sentence" in value:
            if not isinstance(value["sentence"], str):
                return None
            values[str(name)] = str(Sentence(value["sentence"]))
        elif isinstance(value, dict) and "minutes" in value:
            if not isinstance(value["minutes"], int):
                return None
            values[str(name)] = str(Duration(value["minutes"]))
        elif isinstance(value, dict) and "name" in value:
            given, given_en = value["name"], value.get("name_en", "")
            if not isinstance(given, str) or not isinstance(given_en, str):
                return None
            values[str(name)] = in_reader_language(given, given_en)
        elif isinstance(value, dict) and "msgids" in value:
            items, joiner = value.get("msgids"), value.get("joiner")
            if not isinstance(items, list) or not isinstance(joiner, str):
                return None
            shown = [_filled(item) for item in items]
            if None in shown:
                return None
            values[str(name)] = gettext(joiner).join(str(item) for item in shown)
        elif isinstance(value, dict):
            inner = value.get("msgid")
            if not isinstance(inner, str):
                return None
            values[str(name)] = gettext(inner)
        else:
            values[str(name)] = str(value)
    return values


def _shown(message: Any, part: str, stored: str) -> str:
    if not isinstance(message, dict):
        return stored
    text = message.get(part)
    values = _values(message.get("params", {}))
    if not isinstance(text, str) or not text or values is None:
        return stored
    try:
        return gettext(text) % values
    except (KeyError, TypeError, ValueError):
        return stored


def subject_of(payload: Any, stored: str) -> str:
    """The subject in the active language, or `stored` when the payload does not keep it."""
    return _shown(payload.get(KEY) if isinstance(payload, dict) else None, "subject", stored)


def body_of(payload: Any, stored: str) -> str:
    """The body in the active language, or `stored` when the payload does not keep it."""
    return _shown(payload.get(KEY) if isinstance(payload, dict) else None, "body", stored)


def payload(
    subject: str | Promise, params: dict[str, Any], *, body: str | Promise | None = None
) -> dict[str, Any] | None:
    """A payload that keeps the message (`kept`), or None when there is nothing to keep."""
    message = kept(subject, params, body=body)
    return None if message is None else {KEY: message}
