"""A small arithmetic captcha, built in: the question drawn by Pillow, kept in a cookie.

"42 + 7 = ?" is drawn with each character shifted and turned, over noise; the same question
is offered in words ("四十二加七等于多少？") for people who cannot see the image. Words are
readable by machines too: the captcha only slows scripts down, and the rate limits
(`whistle.street.ratelimit`) bound what a script that solves it can do. Each challenge is
answered once: right or wrong, the next attempt gets a new one.

The open question travels in its own cookie, encrypted and dated with a key derived from
SECRET_KEY, so that a visitor who only looks at the form leaves no session row behind; the
cache remembers which questions were answered. A solved question is kept in the session,
which a posted form may create.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import random
import secrets
import time
import unicodedata
from dataclasses import dataclass
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from whistle.street import conf

COOKIE = "whistle_captcha"
_USED_PREFIX = "street:captcha-used:"
_NEW_TOKEN = "_street_captcha_token"
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


def _fernet() -> Fernet:
    key = hashlib.sha256(f"whistle.street.captcha:{settings.SECRET_KEY}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def seal(challenge: Challenge) -> str:
    """The challenge as the cookie's value: readable only by the server, dated when issued."""
    data = json.dumps({"a": challenge.a, "b": challenge.b, "op": challenge.op, "s": challenge.seed})
    return _fernet().encrypt_at_time(data.encode(), int(challenge.issued)).decode()


def opened(token: str) -> Challenge | None:
    """The challenge sealed in ``token``, if it is genuine and not too old."""
    try:
        fernet = _fernet()
        raw = json.loads(fernet.decrypt(token.encode(), ttl=conf.captcha_seconds()))
        issued = fernet.extract_timestamp(token.encode())
        return Challenge(int(raw["a"]), int(raw["b"]), str(raw["op"]), issued, int(raw["s"]))
    except (InvalidToken, ValueError, KeyError, TypeError):
        return None


def _used_key(token: str) -> str:
    return _USED_PREFIX + hashlib.sha256(token.encode()).hexdigest()[:32]


def new_challenge(request: HttpRequest) -> Challenge:
    """A new question; `remember` puts it in the response's cookie."""
    rng = secrets.SystemRandom()
    challenge = Challenge(
        rng.randint(10, 49),
        rng.randint(1, 9),
        rng.choice("+-"),
        int(time.time()),
        rng.randrange(2**31),
    )
    setattr(request, _NEW_TOKEN, seal(challenge))
    return challenge


def current(request: HttpRequest) -> Challenge:
    """The browser's open challenge; a new one when there is none, or it is used or too old."""
    pending = getattr(request, _NEW_TOKEN, None)
    token = pending or request.COOKIES.get(COOKIE, "")
    challenge = opened(token) if token and not cache.get(_used_key(token)) else None
    return challenge if challenge is not None else new_challenge(request)


def remember(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """Send the question made while answering this request, if one was made."""
    token = getattr(request, _NEW_TOKEN, None)
    if token:
        response.set_cookie(
            COOKIE,
            token,
            max_age=conf.captcha_seconds(),
            path="/report/",
            secure=settings.SESSION_COOKIE_SECURE,
            httponly=True,
            samesite="Lax",
        )
    return response


def _normalise(answer: str) -> str:
    # Full-width digits from a Chinese input method count as digits.
    text = unicodedata.normalize("NFKC", answer or "").strip()
    return text.replace(" ", "")


def check(request: HttpRequest, answer: str) -> bool:
    """Whether the answer solves the browser's open challenge. The challenge is used up
    either way (remembered in the cache until it would have expired anyway)."""
    token = request.COOKIES.get(COOKIE, "")
    challenge = opened(token) if token else None
    if challenge is None or not cache.add(_used_key(token), 1, conf.captcha_seconds()):
        return False
    text = _normalise(answer)
    ok = text.lstrip("-").isdigit() and int(text) == challenge.answer
    if ok:
        request.session[PASSED_KEY] = time.time()
    return ok


def refusal(answer: str) -> str:
    """What the form says of an answer `check` refused: a box left empty is asked for, a
    wrong answer said to be wrong. A new question is shown either way."""
    if not _normalise(answer):
        return _("Answer the question in the picture. Here is a new question.")
    return _("The answer to the question is not right. Here is a new question.")


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
