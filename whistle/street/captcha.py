"""A small arithmetic captcha, built in: the question drawn by Pillow, kept in the session.

"42 + 7 = ?" is drawn with each character shifted and turned, over noise; the same question
is offered in words ("四十二加七等于多少？") for people who cannot see the image. Words are
readable by machines too: the captcha only slows scripts down, and the rate limits
(`whistle.street.ratelimit`) bound what a script that solves it can do. Each challenge is
answered once: right or wrong, the next attempt gets a new one.
"""

from __future__ import annotations

import io
import random
import secrets
import time
import unicodedata
from dataclasses import dataclass
from typing import Any

from django.utils.translation import get_language
from django.utils.translation import gettext as _
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from whistle.street import conf

SESSION_KEY = "street_captcha"
PASSED_KEY = "street_captcha_passed"
WIDTH, HEIGHT = 220, 72

_ZH_DIGITS = "零一二三四五六七八九"
_EN_ONES = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_EN_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


@dataclass(frozen=True)
class Challenge:
    a: int
    b: int
    op: str  # "+" or "-"
    issued: float
    seed: int

    @property
    def answer(self) -> int:
        return self.a + self.b if self.op == "+" else self.a - self.b

    @property
    def text(self) -> str:
        return f"{self.a} {self.op} {self.b} = ?"


def number_words(n: int) -> str:
    """0–99 in words, in the active language."""
    if (get_language() or "").startswith("zh"):
        if n < 10:
            return _ZH_DIGITS[n]
        tens, ones = divmod(n, 10)
        head = "十" if tens == 1 else _ZH_DIGITS[tens] + "十"
        return head + (_ZH_DIGITS[ones] if ones else "")
    if n < 20:
        return _EN_ONES[n]
    tens, ones = divmod(n, 10)
    return _EN_TENS[tens] + (f"-{_EN_ONES[ones]}" if ones else "")


def spoken(challenge: Challenge) -> str:
    """The question in words: the image's text alternative."""
    a, b = number_words(challenge.a), number_words(challenge.b)
    if challenge.op == "+":
        return _("What is %(a)s plus %(b)s?") % {"a": a, "b": b}
    return _("What is %(a)s minus %(b)s?") % {"a": a, "b": b}


def new_challenge(session: Any) -> Challenge:
    rng = secrets.SystemRandom()
    a = rng.randint(10, 49)
    b = rng.randint(1, 9)
    op = rng.choice("+-")
    challenge = Challenge(a, b, op, time.time(), rng.randrange(2**31))
    session[SESSION_KEY] = {
        "a": a,
        "b": b,
        "op": op,
        "issued": challenge.issued,
        "seed": challenge.seed,
    }
    return challenge


def current(session: Any) -> Challenge:
    """The session's open challenge; a new one when there is none or it is too old."""
    raw = session.get(SESSION_KEY)
    if isinstance(raw, dict):
        try:
            challenge = Challenge(
                int(raw["a"]), int(raw["b"]), str(raw["op"]), float(raw["issued"]), int(raw["seed"])
            )
        except (KeyError, TypeError, ValueError):
            challenge = None
        if challenge is not None and time.time() - challenge.issued < conf.captcha_seconds():
            return challenge
    return new_challenge(session)


def _normalise(answer: str) -> str:
    # Full-width digits from a Chinese input method count as digits.
    text = unicodedata.normalize("NFKC", answer or "").strip()
    return text.replace(" ", "")


def check(session: Any, answer: str) -> bool:
    """Whether the answer solves the open challenge. The challenge is used up either way."""
    raw = session.pop(SESSION_KEY, None)
    if not isinstance(raw, dict):
        return False
    try:
        challenge = Challenge(
            int(raw["a"]), int(raw["b"]), str(raw["op"]), float(raw["issued"]), int(raw["seed"])
        )
    except (KeyError, TypeError, ValueError):
        return False
    if time.time() - challenge.issued >= conf.captcha_seconds():
        return False
    text = _normalise(answer)
    ok = text.lstrip("-").isdigit() and int(text) == challenge.answer
    if ok:
        session[PASSED_KEY] = time.time()
    return ok


def passed(session: Any) -> bool:
    """Solved recently in this session and not yet used for a report."""
    at = session.get(PASSED_KEY)
    return isinstance(at, int | float) and time.time() - at < conf.captcha_seconds()


def use_up(session: Any) -> None:
    session.pop(PASSED_KEY, None)


def image(challenge: Challenge) -> bytes:
    """The question as a PNG: dark characters, each shifted and turned, over light noise."""
    rng = random.Random(challenge.seed)
    canvas = Image.new("RGB", (WIDTH, HEIGHT), (246, 244, 238))
    draw = ImageDraw.Draw(canvas)
    for _line in range(6):
        colour = tuple(rng.randint(150, 200) for _c in range(3))
        points = [(rng.randint(0, WIDTH), rng.randint(0, HEIGHT)) for _p in range(3)]
        draw.line(points, fill=colour, width=2)
    for _dot in range(260):
        draw.point(
            (rng.randint(0, WIDTH - 1), rng.randint(0, HEIGHT - 1)),
            fill=tuple(rng.randint(120, 210) for _c in range(3)),
        )
    font = ImageFont.load_default(size=38)
    x = 10
    for char in challenge.text.replace(" ", ""):
        glyph = Image.new("RGBA", (48, 60), (0, 0, 0, 0))
        ink = (rng.randint(10, 60), rng.randint(10, 60), rng.randint(40, 90), 255)
        ImageDraw.Draw(glyph).text((8, 4), char, font=font, fill=ink)
        glyph = glyph.rotate(rng.uniform(-22, 22), resample=Image.Resampling.BICUBIC, expand=False)
        canvas.paste(glyph, (x, rng.randint(2, 12)), glyph)
        x += rng.randint(27, 31)
    for _arc in range(2):
        colour = tuple(rng.randint(60, 110) for _c in range(3))
        y = rng.randint(20, HEIGHT - 20)
        draw.arc(
            (rng.randint(-40, 20), y - 30, rng.randint(WIDTH - 20, WIDTH + 40), y + 30),
            rng.randint(180, 220),
            rng.randint(320, 360),
            fill=colour,
            width=2,
        )
    canvas = canvas.filter(ImageFilter.SMOOTH)
    out = io.BytesIO()
    canvas.save(out, format="PNG", optimize=True)
    return out.getvalue()
