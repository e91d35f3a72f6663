"""A built-in image classification task, drawn analytically at any resolution: no files, no download.

Spec: ``synthetic`` or ``synthetic:classes=10,train=4000,test=1000`` (the defaults). Each class is
one combination of a **shape** (disc, square, triangle, ring, cross, hexagon) and a **texture** filling
it (stripes, checks, concentric rings, plain). ``classes=N`` (2–24) uses ``T = ceil(N / 6)`` textures
and ``S = ceil(N / T)`` shapes and takes the first N of those pairs, texture-major: the default ten
are the first five shapes, each striped or checked.

Every image is a scene in continuous coordinates [-1, 1]²:

* background: a dark colour (each channel uniform in [0, 0.35]) with a random linear gradient;
* clutter: two thin line segments of random colour, position and thickness (in no class);
* the object: a bright colour (each channel in [0.65, 1]), centred uniformly in [-0.35, 0.35]², size
  log-uniform in [0.25, 0.5], any rotation; the shapes are scaled to equal area, so coverage and mean
  colour do not give the shape away;
* its texture: a sinusoid of period log-uniform in [0.05, 0.3] (1.6 to 9.6 pixels at 64 px), random
  orientation and phase, mixing the object's colour with half of it; "checks" is the product of two
  crossed sinusoids with the same dominant period, so stripes and checks differ in structure only;
* pixel noise: Gaussian, σ = 0.04.

Colours carry no class information. The object is always brighter than the background: with random
contrast polarity a small CNN stays at chance for hundreds of steps, with this one it learns at once.
Everything is rendered natively at the requested resolution from its analytic description: shape
edges are antialiased over one pixel through their signed distance, and each texture's contrast
fades to zero as its period approaches two pixels (Nyquist), as a camera's optics would blur it. So
the same scene is sharper at a higher resolution, textures finer than about 2/resolution vanish at
lower ones and small objects need more pixels to tell apart, so accuracy can keep rising with resolution
past 64 px. Its native resolution is therefore the resolution it is rendered at: nothing is upsampled.

Train and test draw from independent streams seeded by ``seed``: the same seed, sizes and resolution
give bit-identical tensors.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from scaling_search.data.dataset import DatasetError, Splits, check_fits_in_memory

SHAPES = ("disc", "square", "triangle", "ring", "cross", "hexagon")
TEXTURES = ("stripes", "checks", "concentric", "plain")
DEFAULTS = {"classes": 10, "train": 4000, "test": 1000}
MAX_CLASSES = len(SHAPES) * len(TEXTURES)
PIXELS_PER_CHUNK = 1 << 22  # images are drawn this many pixels at a time to bound memory
NOISE = 0.04  # standard deviation of the pixel noise
CLUTTER_LINES = 2
LINE_WIDTH = (0.008, 0.02)  # half-widths of the clutter lines
CENTRE = 0.35  # the object's centre lies in [-CENTRE, CENTRE]²
SIZE = (0.25, 0.5)  # radius of the disc of equal area, log-uniform
PERIOD = (0.05, 0.3)  # texture period, log-uniform
BACKGROUND_LEVELS = (0.0, 0.35)  # each channel of the background colour, uniform
GRADIENT = 0.15  # largest change of the background across half the image
OBJECT_LEVELS = (0.65, 1.0)  # each channel of the object's colour: always brighter than the background
TEXTURE_SHADE = 0.5  # the texture's second colour is the object's colour times this
RING_INNER = 0.55  # inner radius / outer radius
CROSS_WIDTH = 0.3  # half-width of a bar / half its length


def parse_options(text: str) -> dict[str, int]:
    """``classes=10,train=4000`` → the full option dict, defaults filled in; bad options raise DatasetError."""
    options = dict(DEFAULTS)
    given: set[str] = set()
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or key not in DEFAULTS:
            hint = f" (did you mean classes={item}?)" if item.isdigit() else ""
            raise DatasetError(
                f"synthetic: unknown option {item!r}{hint}; allowed: " + ", ".join(f"{k}=N" for k in DEFAULTS)
            )
        if key in given:
            raise DatasetError(f"synthetic: {key} is given twice")
        given.add(key)
        try:
            options[key] = int(value)
        except ValueError:
            raise DatasetError(f"synthetic: {key} must be an integer, got {value.strip()!r}") from None
    if not 2 <= options["classes"] <= MAX_CLASSES:
        raise DatasetError(f"synthetic: classes must lie in [2, {MAX_CLASSES}], got {options['classes']}")
    if options["train"] < 2 * options["classes"]:
        raise DatasetError(
            f"synthetic: train must be at least twice classes ({2 * options['classes']}) to leave a "
            f"validation split, got {options['train']}"
        )
    if options["test"] < 1:
        raise DatasetError(f"synthetic: test must be >= 1, got {options['test']}")
    return options


def canonical_name(options: dict[str, int]) -> str:
    """``synthetic``, followed by the options that differ from the defaults."""
    changed = ",".join(f"{k}={v}" for k, v in options.items() if v != DEFAULTS[k])
    return f"synthetic:{changed}" if changed else "synthetic"


def class_pairs(classes: int) -> list[tuple[int, int]]:
    """(shape index, texture index) of each class."""
    textures = math.ceil(classes / len(SHAPES))
    shapes = math.ceil(classes / textures)
    return [(k % shapes, k // shapes) for k in range(classes)]


def class_names(classes: int) -> tuple[str, ...]:
    return tuple(f"{SHAPES[s]}-{TEXTURES[t]}" for s, t in class_pairs(classes))


def load_synthetic(options: dict[str, int], resolution: int, seed: int) -> Splits:
    check_fits_in_memory(options["train"] + options["test"], resolution, canonical_name(options))
    classes = options["classes"]
    pairs = torch.tensor(class_pairs(classes))
    train_x, train_y = render_split(options["train"], classes, pairs, resolution, seed, stream=0)
    test_x, test_y = render_split(options["test"], classes, pairs, resolution, seed, stream=1)
    return Splits(class_names(classes), train_x, train_y, test_x, test_y, native_resolution=resolution)


def render_split(
    count: int, classes: int, pairs: torch.Tensor, resolution: int, seed: int, stream: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """``count`` balanced, shuffled labels and their images, from the generator stream ``(seed, stream)``."""
    generator = torch.Generator().manual_seed(seed * 2 + stream)
    labels = torch.randperm(count, generator=generator) % classes
    params = draw_scenes(pairs[labels], generator)
    images = torch.empty(count, 3, resolution, resolution, dtype=torch.uint8)
    chunk = max(1, PIXELS_PER_CHUNK // (resolution * resolution))
    for start in range(0, count, chunk):
        part = {key: value[start : start + chunk] for key, value in params.items()}
        images[start : start + chunk] = render(part, resolution, generator)
    return images, labels


def draw_scenes(pairs: torch.Tensor, generator: torch.Generator) -> dict[str, torch.Tensor]:
    """Every random choice of each scene except pixel noise, so a scene does not depend on the resolution."""
    n = len(pairs)

    def uniform(low: float, high: float, *shape: int) -> torch.Tensor:
        return low + (high - low) * torch.rand(n, *shape, generator=generator)

    def log_uniform(low: float, high: float) -> torch.Tensor:
        return uniform(math.log(low), math.log(high)).exp()

    colour = uniform(*OBJECT_LEVELS, 3)
    slope, direction = uniform(0, GRADIENT), uniform(0, 2 * math.pi)
    return {
        "shape": pairs[:, 0],
        "texture": pairs[:, 1],
        "background": uniform(*BACKGROUND_LEVELS, 3),
        "gradient": slope.unsqueeze(1) * torch.stack([torch.cos(direction), torch.sin(direction)], 1),
        "line_ends": uniform(-1, 1, CLUTTER_LINES, 2, 2),
        "line_width": uniform(*LINE_WIDTH, CLUTTER_LINES),
        "line_colour": uniform(0, 1, CLUTTER_LINES, 3),
        "centre": uniform(-CENTRE, CENTRE, 2),
        "size": log_uniform(*SIZE),
        "angle": uniform(0, 2 * math.pi),
        "colour": colour,
        "texture_colour": colour * TEXTURE_SHADE,
        "period": log_uniform(*PERIOD),
        "texture_angle": uniform(0, math.pi),
        "phase": uniform(0, 2 * math.pi),
    }


def render(p: dict[str, torch.Tensor], resolution: int, generator: torch.Generator) -> torch.Tensor:
    """uint8 [B, 3, R, R] images of the scenes ``p`` (one entry per image in each tensor)."""
    pixel = 2 / resolution
    axis = (torch.arange(resolution, dtype=torch.float32) + 0.5) * pixel - 1
    x, y = axis.view(1, 1, -1), axis.view(1, -1, 1)

    def column(t: torch.Tensor) -> torch.Tensor:  # [B] -> [B, 1, 1], to broadcast against pixels
        return t.view(-1, 1, 1)

    def coverage(distance: torch.Tensor) -> torch.Tensor:  # signed distance -> antialiased [B, 1, R, R] mask
        return (0.5 - distance / pixel).clamp(0, 1).unsqueeze(1)

    gradient = p["gradient"]
    shade = column(gradient[:, 0]) * x + column(gradient[:, 1]) * y
    image = p["background"].view(-1, 3, 1, 1) + shade.unsqueeze(1)
    for line in range(CLUTTER_LINES):
        ends = p["line_ends"][:, line]
        distance = segment_distance(x, y, ends[:, 0], ends[:, 1]) - column(p["line_width"][:, line])
        image.lerp_(p["line_colour"][:, line].view(-1, 3, 1, 1).expand_as(image), coverage(distance))

    dx, dy = x - column(p["centre"][:, 0]), y - column(p["centre"][:, 1])
    cos, sin = column(torch.cos(p["angle"])), column(torch.sin(p["angle"]))
    local_x, local_y = cos * dx + sin * dy, cos * dy - sin * dx
    alpha = coverage(shape_distance(p["shape"], local_x, local_y, column(p["size"])))
    colour, second = p["colour"].view(-1, 3, 1, 1), p["texture_colour"].view(-1, 3, 1, 1)
    surface = torch.lerp(colour.expand_as(image), second.expand_as(image), texture(p, dx, dy, pixel).unsqueeze(1))
    image.lerp_(surface, alpha)

    image.add_(torch.randn(image.shape, generator=generator).mul_(NOISE))
    return image.clamp_(0, 1).mul_(255).round_().to(torch.uint8)


def segment_distance(x: torch.Tensor, y: torch.Tensor, start: torch.Tensor, end: torch.Tensor) -> torch.Tensor:
    """Distance from each pixel to the segment start→end ([B, 2] each), [B, R, R]."""
    ax, ay = start[:, 0].view(-1, 1, 1), start[:, 1].view(-1, 1, 1)
    bx, by = end[:, 0].view(-1, 1, 1) - ax, end[:, 1].view(-1, 1, 1) - ay
    px, py = x - ax, y - ay
    t = ((px * bx + py * by) / (bx * bx + by * by).clamp(min=1e-8)).clamp(0, 1)
    return torch.hypot(px - t * bx, py - t * by)


def shape_distance(shape: torch.Tensor, x: torch.Tensor, y: torch.Tensor, size: torch.Tensor) -> torch.Tensor:
    """Signed distance (negative inside) of each pixel to the shape with index ``shape`` in its own frame.

    Sizes are set so every shape covers the area of a disc of radius ``size``. Polygons and the
    cross use the max/min of half-planes, exact near the edges where antialiasing needs it.
    """
    distance = torch.empty_like(x)
    for index, name in enumerate(SHAPES):
        rows = shape == index
        if not rows.any():
            continue
        distance[rows] = SHAPE_DISTANCES[name](x[rows], y[rows], size[rows])
    return distance


def polygon(sides: int, apothem_per_radius: float) -> Callable[..., torch.Tensor]:
    """Signed distance to a regular polygon with ``sides`` sides and apothem ``apothem_per_radius * r``."""

    def distance(x: torch.Tensor, y: torch.Tensor, r: torch.Tensor) -> torch.Tensor:
        angles = torch.arange(sides) * (2 * math.pi / sides) + math.pi / 2
        normals = torch.stack([torch.cos(angles), torch.sin(angles)])  # [2, sides]
        along = x.unsqueeze(-1) * normals[0] + y.unsqueeze(-1) * normals[1]
        return along.amax(-1) - apothem_per_radius * r

    return distance


def ring(x: torch.Tensor, y: torch.Tensor, r: torch.Tensor) -> torch.Tensor:
    outer = r / math.sqrt(1 - RING_INNER**2)
    return (torch.hypot(x, y) - outer * (1 + RING_INNER) / 2).abs() - outer * (1 - RING_INNER) / 2


def cross(x: torch.Tensor, y: torch.Tensor, r: torch.Tensor) -> torch.Tensor:
    arm = r * math.sqrt(math.pi / (8 * CROSS_WIDTH - 4 * CROSS_WIDTH**2))
    width = CROSS_WIDTH * arm
    ax, ay = x.abs(), y.abs()
    return torch.minimum(torch.maximum(ax - arm, ay - width), torch.maximum(ax - width, ay - arm))


SHAPE_DISTANCES = {
    "disc": lambda x, y, r: torch.hypot(x, y) - r,
    "square": lambda x, y, r: torch.maximum(x.abs(), y.abs()) - r * math.sqrt(math.pi) / 2,
    "triangle": polygon(3, math.sqrt(math.pi / (3 * math.sqrt(3)))),
    "ring": ring,
    "cross": cross,
    "hexagon": polygon(6, math.sqrt(math.pi / (2 * math.sqrt(3)))),
}


def texture(p: dict[str, torch.Tensor], dx: torch.Tensor, dy: torch.Tensor, pixel: float) -> torch.Tensor:
    """The mix between the object's two colours, in [0, 1], [B, R, R]; 0.5 where a texture is too fine to show."""
    period = p["period"].view(-1, 1, 1)
    contrast = ((period / pixel - 2) / 2).clamp(0, 1)  # 0 at the Nyquist period (2 px), full from 4 px
    angle = p["texture_angle"].view(-1, 1, 1)
    phase = p["phase"].view(-1, 1, 1)
    u = torch.cos(angle) * dx + torch.sin(angle) * dy
    v = torch.cos(angle) * dy - torch.sin(angle) * dx
    frequency = 2 * math.pi / period
    kind = p["texture"].view(-1, 1, 1)
    stripes = torch.sin(frequency * u + phase)
    # sin(a u) sin(a v) = (cos(a(u - v)) - cos(a(u + v))) / 2: with a = 2π/(√2 p), waves of period p on the diagonals
    checks = torch.sin(frequency / math.sqrt(2) * u + phase) * torch.sin(frequency / math.sqrt(2) * v)
    concentric = torch.sin(frequency * torch.hypot(dx, dy) + phase)
    wave = torch.where(kind == 0, stripes, torch.where(kind == 1, checks, torch.where(kind == 2, concentric, 0.0)))
    return 0.5 + 0.5 * contrast * wave
