"""Helpers of the desk pages' tests, on top of the case tests' city (tests/fixtures_cases.py).

`post_op` posts one operation the way the pages' forms do: the operation's name, its
target, and the fields under the form's prefix (`<op>-<target>-<field>`).
"""

from __future__ import annotations

import io
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from whistle.cases.models import Case, Summons, SupervisionNotice


def key_of(target: Any) -> str:
    if isinstance(target, Summons):
        return target.uuid.hex
    if isinstance(target, Case):
        return target.reference
    if isinstance(target, SupervisionNotice):
        return str(target.pk)
    return str(target)


def op_data(op: str, target: Any, **fields: Any) -> dict[str, Any]:
    key = key_of(target)
    data: dict[str, Any] = {"op": op, "target": key}
    for name, value in fields.items():
        data[f"{op}-{key}-{name}"] = value
    return data


def post_op(client, url: str, op: str, target: Any, *, follow: bool = False, **fields: Any):
    return client.post(url, op_data(op, target, **fields), follow=follow)


def photo_upload(name: str = "photo.jpg", *, size=(64, 48), image_format="JPEG", exif=None):
    buffer = io.BytesIO()
    image = Image.new("RGB", size, "orange")
    if exif is not None:
        image.save(buffer, format=image_format, exif=exif)
    else:
        image.save(buffer, format=image_format)
    content_type = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif"}.get(
        image_format, "application/octet-stream"
    )
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=content_type)


def not_a_photo(name: str = "photo.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"<script>alert(1)</script>", content_type="image/jpeg")


def case_url(case: Case) -> str:
    return f"/cases/{case.reference}/"
