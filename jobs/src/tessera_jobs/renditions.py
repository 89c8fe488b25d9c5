"""Responsive renditions of a product image with libvips: never upscaled, EXIF-rotated,
metadata stripped, in sRGB, plus the dominant colour as a placeholder."""

import io
import json
from collections import Counter
from typing import Any

import pyvips

from tessera_jobs.base import JobRun
from tessera_jobs.errors import JobInputInvalidError
from tessera_jobs.storage import result_save, source_open

# Bytes in, so that a truncated or corrupt upload is refused before any rendition exists.
SOURCE_MAX_BYTES = 50 * 1024 * 1024
_SAVE_OPTIONS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "webp": (".webp", "image/webp", {"Q": 80, "keep": "none"}),
    "jpeg": (
        ".jpg",
        "image/jpeg",
        {"Q": 82, "keep": "none", "optimize_coding": True, "interlace": True},
    ),
    "avif": (".avif", "image/avif", {"Q": 55, "keep": "none", "compression": "av1", "effort": 2}),
}


def _source_read(run: JobRun, location: str) -> bytes:
    with source_open(run.storage, location) as source:
        data = source.read(SOURCE_MAX_BYTES + 1)
    if len(data) > SOURCE_MAX_BYTES:
        raise JobInputInvalidError(
            "The source file is larger than 50 MiB.", code="source_too_large"
        )
    return data


def image_header_check(data: bytes, *, max_pixels: int) -> pyvips.Image:
    """Open ``data`` lazily (header only) and refuse non-images and images of more than
    ``max_pixels`` pixels (decompression bombs)."""
    try:
        image = pyvips.Image.new_from_buffer(data, "", access="sequential", fail_on="truncated")
    except pyvips.Error:
        raise JobInputInvalidError(
            "The file is not an image libvips can read.", code="not_an_image"
        ) from None
    pixels = image.width * image.height
    if pixels > max_pixels:
        raise JobInputInvalidError(
            f"The image has {pixels} pixels, more than the limit of {max_pixels}.",
            code="image_too_large",
        )
    return image


def _srgb_8bit(image: pyvips.Image) -> pyvips.Image:
    # CMYK, 16-bit and greyscale sources all leave as 8-bit sRGB, the only space browsers agree on.
    if image.interpretation not in ("srgb", "b-w") or image.format != "uchar":
        image = image.colourspace("srgb")
    if image.format != "uchar":
        image = image.cast("uchar")
    return image


def _colour_managed(header: pyvips.Image) -> bool:
    # An embedded profile (Display P3, Adobe RGB, ...) or CMYK pixels need a transform to
    # sRGB; an untagged RGB image is sRGB already, and an identity transform costs as much as
    # the resize (about 20 ms for a 2400 px JPEG).
    return header.interpretation == "cmyk" or "icc-profile-data" in header.get_fields()


def _largest_rendition(data: bytes, width: int, *, colour_managed: bool) -> pyvips.Image:
    # thumbnail_buffer shrinks on load, applies the EXIF orientation and imports CMYK with a
    # fallback profile; size="down" never makes an image larger than its source.
    options: dict[str, Any] = {"output_profile": "srgb"} if colour_managed else {}
    thumbnail = pyvips.Image.thumbnail_buffer(
        data,
        width,
        height=100_000,
        size="down",
        # A load option, given as a string: thumbnail_buffer hands it to the loader.
        option_string="fail_on=truncated",
        **options,
    )
    # Kept in memory: every smaller width and every format starts from it, so the source is
    # decoded once per job, not once per width.
    return _srgb_8bit(thumbnail).copy_memory()


def _smaller_rendition(largest: pyvips.Image, width: int) -> pyvips.Image:
    # The same geometry as thumbnail_buffer (round to the nearest pixel, never up), from the
    # sRGB intermediate instead of the source file.
    if width >= largest.width:
        return largest
    return largest.thumbnail_image(width, height=100_000, size="down").copy_memory()


def _flattened(image: pyvips.Image) -> pyvips.Image:
    return image.flatten(background=[255, 255, 255]) if image.hasalpha() else image


def image_dominant_colour(rendition: pyvips.Image) -> str:
    """The most common colour of a rendition shrunk to 32 px, 4 bits a channel, as #rrggbb."""
    small = _flattened(rendition.thumbnail_image(32))
    if small.bands < 3:
        small = small.colourspace("srgb")
    raw = bytes(small.extract_band(0, n=3).write_to_memory())
    counts = Counter((raw[i] >> 4, raw[i + 1] >> 4, raw[i + 2] >> 4) for i in range(0, len(raw), 3))
    (red, green, blue), _ = counts.most_common(1)[0]
    return f"#{red * 17:02x}{green * 17:02x}{blue * 17:02x}"


def image_renditions_make(payload: dict[str, Any], run: JobRun) -> list[dict[str, Any]]:
    """Make every (width, format) rendition of the source and its placeholder."""
    data = _source_read(run, payload["source_location"])
    source = image_header_check(data, max_pixels=run.limits.image_max_pixels)
    widths = sorted(set(payload["widths"]))
    formats = list(dict.fromkeys(payload["formats"]))
    results: list[dict[str, Any]] = []
    made_widths: set[int] = set()
    steps = len(widths) * len(formats) + 1
    try:
        # The largest first: it decodes the whole file once, so a truncated or corrupt
        # source fails here, before any result is stored.
        largest = _largest_rendition(data, widths[-1], colour_managed=_colour_managed(source))
    except pyvips.Error:
        raise JobInputInvalidError(
            "The image is corrupt or truncated.", code="image_corrupt"
        ) from None
    dominant_colour = ""
    for width in widths:
        rendition = _smaller_rendition(largest, width)
        dominant_colour = dominant_colour or image_dominant_colour(rendition)
        if rendition.width in made_widths:
            continue  # a small source gives the same size for several asked widths
        made_widths.add(rendition.width)
        for image_format in formats:
            suffix, media_type, options = _SAVE_OPTIONS[image_format]
            image = rendition if image_format != "jpeg" else _flattened(rendition)
            encoded = image.write_to_buffer(suffix, **options)
            results.append(
                result_save(
                    run.storage,
                    job_id=run.job_id,
                    name=f"w{rendition.width}{suffix}",
                    content=io.BytesIO(encoded),
                    media_type=media_type,
                    width=rendition.width,
                    height=rendition.height,
                )
            )
        # One progress write (and cancel check) per width rather than per file: a database
        # round trip each, on the job's critical path.
        run.checkpoint(int(100 * len(results) / steps))
    placeholder = json.dumps(
        {
            "dominant_colour": dominant_colour,
            "width": source.width,
            "height": source.height,
        }
    )
    results.append(
        result_save(
            run.storage,
            job_id=run.job_id,
            name="placeholder.json",
            content=io.BytesIO(placeholder.encode()),
            media_type="application/json",
        )
    )
    return results
