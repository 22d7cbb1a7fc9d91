"""An offline stand-in for the photo question: coloured shapes drawn on textured backgrounds.

No copy of the exam's photo sets can be had offline, so this draws a set with the same layout
(a folder per class) and the same difficulty profile the question is about: the class is a shape,
while colour, position, scale, rotation, background and noise vary, so a dense-only network
memorises pixels and fails on new images while a small CNN with augmentation learns the shape.
Deterministic for a given (version, classes, seed, size, counts), so it is cached and reused.
"""

from __future__ import annotations

import colorsys
import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

GENERATOR_VERSION = 1
SHAPES = ("circle", "cross", "ring", "square", "star", "triangle")


def _polygon(shape: str, cx: float, cy: float, radius: float, angle: float) -> list[tuple[float, float]]:
    if shape == "circle":
        points = [(math.cos(t), math.sin(t)) for t in np.linspace(0, 2 * math.pi, 48, endpoint=False)]
    elif shape == "square":
        points = [(-0.8, -0.8), (0.8, -0.8), (0.8, 0.8), (-0.8, 0.8)]
    elif shape == "triangle":
        points = [(math.cos(t), math.sin(t)) for t in (-math.pi / 2, math.pi / 6, 5 * math.pi / 6)]
    elif shape == "cross":
        a, b = 0.3, 1.0
        points = [(-a, -b), (a, -b), (a, -a), (b, -a), (b, a), (a, a), (a, b), (-a, b), (-a, a),
                  (-b, a), (-b, -a), (-a, -a)]
    elif shape == "star":
        points = [((1.0 if k % 2 == 0 else 0.45) * math.cos(-math.pi / 2 + k * math.pi / 5),
                   (1.0 if k % 2 == 0 else 0.45) * math.sin(-math.pi / 2 + k * math.pi / 5))
                  for k in range(10)]
    else:
        raise ValueError(f"unknown shape {shape!r}")
    cos, sin = math.cos(angle), math.sin(angle)
    return [(cx + radius * (x * cos - y * sin), cy + radius * (x * sin + y * cos)) for x, y in points]


def _rgb(hue: float, saturation: float, value: float) -> tuple[int, int, int]:
    r, g, b = colorsys.hsv_to_rgb(hue % 1.0, saturation, value)
    return int(r * 255), int(g * 255), int(b * 255)


def _background(rng: np.random.Generator, size: int, hue: float, brightness: float) -> np.ndarray:
    """A gradient between two related colours plus low-frequency blotches: no flat colour to
    subtract, so the shape cannot be found by a single threshold."""
    first = np.array(_rgb(hue, rng.uniform(0.2, 0.7), brightness), dtype="float32")
    second = np.array(_rgb(hue + rng.uniform(-0.12, 0.12), rng.uniform(0.2, 0.7),
                           np.clip(brightness + rng.uniform(-0.15, 0.15), 0, 1)), dtype="float32")
    theta = rng.uniform(0, 2 * math.pi)
    grid = np.linspace(-1, 1, size, dtype="float32")
    ramp = (np.cos(theta) * grid[None, :] + np.sin(theta) * grid[:, None] + 1.4) / 2.8
    image = first * (1 - ramp[..., None]) + second * ramp[..., None]
    coarse = rng.normal(0, 1, size=(6, 6, 3)).astype("float32")
    blotches = np.asarray(Image.fromarray(((coarse * 40) + 128).clip(0, 255).astype("uint8"))
                          .resize((size, size), Image.BICUBIC), dtype="float32") - 128
    return image + blotches * rng.uniform(0.15, 0.4)


def render(rng: np.random.Generator, shape: str, size: int) -> Image.Image:
    hue = rng.uniform(0, 1)
    # Light shapes on dark grounds or dark on light, in any colours: the shape always stands out,
    # but neither its colour nor its brightness tells the class.
    light_shape = rng.random() < 0.5
    ground, ink = (rng.uniform(0.15, 0.45), rng.uniform(0.8, 1.0)) if light_shape else (
        rng.uniform(0.65, 0.95), rng.uniform(0.1, 0.35))
    canvas = _background(rng, size, hue, ground)
    radius = rng.uniform(0.2, 0.36) * size
    margin = radius * 1.05
    cx, cy = rng.uniform(margin, size - margin, size=2)
    colour = _rgb(hue + rng.uniform(0.3, 0.7), rng.uniform(0.4, 1.0), ink)
    mask = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(mask)
    outline = _polygon(shape if shape != "ring" else "circle", cx, cy, radius, rng.uniform(0, 2 * math.pi))
    draw.polygon(outline, fill=255)
    if shape == "ring":
        draw.polygon(_polygon("circle", cx, cy, radius * rng.uniform(0.5, 0.65), 0.0), fill=0)
    alpha = np.asarray(mask.filter(ImageFilter.GaussianBlur(0.8)), dtype="float32")[..., None] / 255
    shade = 1 + 0.25 * np.linspace(-1, 1, size, dtype="float32")[None, :, None] * rng.uniform(-1, 1)
    canvas = canvas * (1 - alpha) + np.array(colour, dtype="float32") * shade * alpha
    canvas += rng.normal(0, rng.uniform(3, 10), size=canvas.shape)
    return Image.fromarray(canvas.clip(0, 255).astype("uint8"))


def generate(folder: Path, classes: list[str], per_class: int, size: int, seed: int) -> None:
    """`folder/<class>/<class>-NNNN.jpg`, the folder-per-class layout Keras labels from."""
    for label, shape in enumerate(classes):
        if shape not in SHAPES:
            raise ValueError(f"unknown stand-in class {shape!r}; choose from {SHAPES}")
        rng = np.random.default_rng([GENERATOR_VERSION, seed, label])
        target = folder / shape
        target.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            render(rng, shape, size).save(target / f"{shape}-{i:04d}.jpg", quality=92)
