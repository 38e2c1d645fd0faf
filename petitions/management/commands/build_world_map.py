"""Build static/vendor/worldmap/world.svg, the country shapes the signature map draws with.

    python manage.py build_world_map path/to/worldmap.svg

The source is pygal_maps_world's worldmap.svg (LGPL-3.0-or-later; `pip download
pygal_maps_world` and unpack it): 2475 x 1388 units, one <g class="xx country"> per country with
relative-coordinate paths, 780 KB. This keeps each outline's points (curves become their end
points), simplifies them (Douglas-Peucker), rounds them to whole units of a 1000-wide map, leaves
Antarctica out (no signers, and a fifth of the height), and drops islands smaller than a unit,
keeping at least the largest outline of every country (a country smaller than that becomes a
dot). Each country becomes <path id="xx"> inside <g id="world">, without a fill of its own, so
that a page can draw the whole world with <use href="world.svg#world"> and colour one country
with <use href="world.svg#xx" fill="…">. The file is committed; run this only to rebuild it.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from xml.etree import ElementTree

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

WIDTH = 1000
TOLERANCE = 0.9  # in output units
LEFT_OUT = {"aq"}
TOKEN = re.compile(r"[a-zA-Z]|-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
ARGUMENTS = {"m": 2, "l": 2, "h": 1, "v": 1, "c": 6, "s": 4, "q": 4, "t": 2, "a": 7, "z": 0}

Point = tuple[float, float]


def outlines(d: str) -> list[list[Point]]:
    """The points of each subpath of an SVG path, in absolute coordinates."""
    tokens = TOKEN.findall(d)
    shapes: list[list[Point]] = []
    x = y = start_x = start_y = 0.0
    command = ""
    i = 0
    while i < len(tokens):
        if tokens[i].isalpha():
            command = tokens[i]
            i += 1
            if command in "zZ":
                x, y = start_x, start_y
                continue
        lower = command.lower()
        count = ARGUMENTS[lower]
        values = [float(v) for v in tokens[i : i + count]]
        i += count
        relative = command.islower()
        if lower == "h":
            x = x + values[0] if relative else values[0]
        elif lower == "v":
            y = y + values[0] if relative else values[0]
        else:
            end_x, end_y = values[-2], values[-1]
            x, y = (x + end_x, y + end_y) if relative else (end_x, end_y)
        if lower == "m":
            shapes.append([])
            start_x, start_y = x, y
            command = "l" if relative else "L"  # further pairs after a move are lines
        shapes[-1].append((x, y))
    return shapes


def simplify(points: list[Point], tolerance: float) -> list[Point]:
    """Douglas-Peucker, iteratively."""
    if len(points) < 3:
        return points
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        first, last = stack.pop()
        (x1, y1), (x2, y2) = points[first], points[last]
        length = math.hypot(x2 - x1, y2 - y1) or 1e-9
        worst, index = 0.0, None
        for k in range(first + 1, last):
            px, py = points[k]
            distance = abs((x2 - x1) * (y1 - py) - (x1 - px) * (y2 - y1)) / length
            if distance > worst:
                worst, index = distance, k
        if index is not None and worst > tolerance:
            keep[index] = True
            stack += [(first, index), (index, last)]
    return [p for p, kept in zip(points, keep, strict=True) if kept]


def area(points: list[Point]) -> float:
    pairs = zip(points, points[1:] + points[:1], strict=True)
    return abs(sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in pairs))


def country_path(shapes: list[list[Point]], scale: float) -> str:
    drawn = []
    for shape in shapes:
        points = simplify([(x * scale, y * scale) for x, y in shape], TOLERANCE)
        rounded: list[tuple[int, int]] = []
        for x, y in points:
            point = (round(x), round(y))
            if not rounded or rounded[-1] != point:
                rounded.append(point)
        if len(rounded) >= 3:
            drawn.append((area(rounded), rounded))
    if not drawn:
        return ""
    largest = max(drawn, key=lambda item: item[0])
    kept = [points for size, points in drawn if size >= 1.0 or points is largest[1]]
    parts = []
    for points in kept:
        (x0, y0), rest = points[0], points[1:]
        steps, (px, py) = [], (x0, y0)
        for x, y in rest:
            steps.append(f"{x - px} {y - py}")
            px, py = x, y
        parts.append(f"M{x0} {y0}l" + " ".join(steps) + "z")
    return "".join(parts).replace(" -", "-")


class Command(BaseCommand):
    help = "Build static/vendor/worldmap/world.svg from pygal_maps_world's worldmap.svg."

    def add_arguments(self, parser) -> None:
        parser.add_argument("source", type=Path)

    def handle(self, *args, source: Path, **options) -> None:
        if not source.is_file():
            raise CommandError(f"{source} is not a file")
        root = ElementTree.parse(source).getroot()  # noqa: S314 - a file the developer chose
        source_width = float(root.get("viewBox").split()[2])
        scale = WIDTH / source_width
        bottom = 0.0
        paths = []
        for group in root.iter("{http://www.w3.org/2000/svg}g"):
            classes = (group.get("class") or "").split()
            if "country" not in classes:
                continue
            code = classes[0]
            if code in LEFT_OUT:
                continue
            shapes = [
                shape
                for path in group.iter("{http://www.w3.org/2000/svg}path")
                for shape in outlines(path.get("d", ""))
            ]
            bottom = max([bottom] + [y for shape in shapes for _, y in shape])
            d = country_path(shapes, scale)
            if d:
                paths.append(f'<path id="{code}" d="{d}"/>')
            elif shapes:  # smaller than a unit (Andorra, Singapore…): a dot where it is
                points = [point for shape in shapes for point in shape]
                x = sum(x for x, _ in points) / len(points) * scale
                y = sum(y for _, y in points) / len(points) * scale
                paths.append(f'<circle id="{code}" cx="{x:.0f}" cy="{y:.0f}" r="2.5"/>')
        target = Path(settings.BASE_DIR) / "static" / "vendor" / "worldmap" / "world.svg"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(
            '<svg xmlns="http://www.w3.org/2000/svg" '
            f'viewBox="0 0 {WIDTH} {math.ceil(bottom * scale) + 2}">\n'
            "<!-- Country outlines simplified from pygal_maps_world's worldmap.svg "
            "(LGPL-3.0-or-later; see LICENSE) by petitions/management/commands/"
            "build_world_map.py. -->\n"
            '<g id="world">\n' + "\n".join(paths) + "\n</g>\n</svg>\n"
        )
        self.stdout.write(f"{len(paths)} countries, {target.stat().st_size:,} bytes: {target}")
