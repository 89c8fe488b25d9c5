"""Deterministic demo catalog: plausible product names, prices and placeholder images."""

from __future__ import annotations

import io
import random
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from PIL import Image, ImageDraw

CATEGORIES: list[tuple[str, str, tuple[int, int, int]]] = [
    ("Kitchen", "Things that make cooking a pleasure.", (214, 104, 65)),
    ("Living room", "Soft, warm and made to last.", (76, 129, 114)),
    ("Stationery", "Paper goods for lists, letters and plans.", (63, 94, 167)),
    ("Garden", "Tools and pots for growing things.", (106, 150, 64)),
    ("Bath", "Linen, soap and small luxuries.", (143, 104, 175)),
    ("Lighting", "Lamps and candles for long evenings.", (221, 168, 53)),
]
ADJECTIVES = [
    "Classic",
    "Everyday",
    "Nordic",
    "Small",
    "Large",
    "Hand-made",
    "Stoneware",
    "Recycled",
    "Linen",
    "Oak",
    "Brass",
    "Enamel",
    "Woven",
    "Glazed",
    "Folding",
]
COLOURS = ["sand", "slate", "rust", "sage", "ink", "cream", "charcoal", "coral", "moss", "clay"]
NOUNS = {
    "Kitchen": ["mug", "bowl", "teapot", "chopping board", "colander", "jug", "plate"],
    "Living room": ["cushion", "throw", "vase", "basket", "side table", "rug"],
    "Stationery": ["notebook", "planner", "pen set", "card pack", "desk tray", "journal"],
    "Garden": ["trowel", "plant pot", "watering can", "seed tray", "pruner", "planter"],
    "Bath": ["towel", "soap dish", "bath mat", "robe", "toothbrush cup", "washcloth"],
    "Lighting": ["table lamp", "candle", "lantern", "pendant shade", "string lights"],
}


@dataclass(frozen=True)
class DemoProduct:
    sku: str
    name: str
    slug: str
    description: str
    category_index: int
    price: Decimal
    stock: int


def demo_products(count: int, *, start: int = 0, seed: int = 7) -> Iterator[DemoProduct]:
    """Yield `count` products numbered from `start`; the same numbers always give the same data."""
    for number in range(start, start + count):
        # Seeded per product so any slice of the catalog is reproducible; not for secrets.
        rng = random.Random(seed * 1_000_003 + number)  # noqa: S311
        category_index = number % len(CATEGORIES)
        category = CATEGORIES[category_index][0]
        noun = rng.choice(NOUNS[category])
        colour = rng.choice(COLOURS)
        name = f"{rng.choice(ADJECTIVES)} {noun}, {colour}"
        sku = f"TS-{number + 1:07d}"
        yield DemoProduct(
            sku=sku,
            name=name,
            slug=f"{name.lower().replace(',', '').replace(' ', '-')}-{number + 1}",
            description=(
                f"A {colour} {noun} from our {category.lower()} range. "
                f"{CATEGORIES[category_index][1]} Designed to be used every day."
            ),
            category_index=category_index,
            price=Decimal(rng.randrange(299, 12900)) / 100,
            stock=rng.choice([0, 3, 8, 15, 40, 120]),
        )


def placeholder_png(*, colour: tuple[int, int, int], label: str, size: int = 640) -> bytes:
    """A square PNG with a soft diagonal gradient and a label, as a stand-in product photo."""
    image = Image.new("RGB", (size, size), colour)
    draw = ImageDraw.Draw(image)
    for step in range(0, size, 8):
        shade = tuple(min(255, channel + step // 12) for channel in colour)
        draw.line([(0, step), (step, 0)], fill=shade, width=8)
        draw.line([(step, size), (size, step)], fill=shade, width=8)
    draw.ellipse([size * 0.3, size * 0.3, size * 0.7, size * 0.7], outline=(255, 255, 255), width=6)
    draw.text((size * 0.06, size * 0.88), label, fill=(255, 255, 255))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
