"""A small layered (Sugiyama-style) layout for directed graphs with cycles.

Steps: break cycles by reversing the back edges a depth-first walk finds, put every
node on the layer of its longest path from the root, thread long edges through
dummy points, order each layer by the barycentre of its neighbours, then place
nodes horizontally near their neighbours without overlap. Deterministic: the same
graph always gives the same coordinates, so committed pictures can be compared.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass

Point = tuple[float, float]


@dataclass(frozen=True)
class Box:
    key: str
    width: float
    height: float


@dataclass(frozen=True)
class Placed:
    key: str
    x: float  # centre
    y: float  # centre
    width: float
    height: float


@dataclass(frozen=True)
class Route:
    edge: int  # index into the edges given to layered_layout
    points: tuple[Point, ...]  # from the edge's source to its target


@dataclass(frozen=True)
class Layout:
    nodes: dict[str, Placed]
    routes: tuple[Route, ...]
    width: float
    height: float


@dataclass(frozen=True)
class Spacing:
    node_gap: float = 28.0
    layer_gap: float = 58.0
    dummy_width: float = 12.0
    margin: float = 24.0
    port_gap: float = 12.0


def layered_layout(
    boxes: Sequence[Box], edges: Sequence[tuple[str, str]], root: str, spacing: Spacing = Spacing()
) -> Layout:
    keys = [box.key for box in boxes]
    width = {box.key: box.width for box in boxes}
    height = {box.key: box.height for box in boxes}
    discovery, back = _depth_first(keys, edges, root)

    oriented = [(t, s) if i in back else (s, t) for i, (s, t) in enumerate(edges)]
    layer = _longest_path_layers(keys, [e for i, e in enumerate(oriented) if edges[i][0] != edges[i][1]], discovery)

    chains: dict[int, list[str]] = {}
    rank = dict(discovery)
    for index, (upper, lower) in enumerate(oriented):
        if upper == lower:
            continue
        chain = [upper]
        for level in range(layer[upper] + 1, layer[lower]):
            dummy = f"\0{index}:{level}"
            layer[dummy] = level
            width[dummy] = spacing.dummy_width
            height[dummy] = 0.0
            rank[dummy] = rank[upper] + 0.5
            chain.append(dummy)
        chain.append(lower)
        chains[index] = chain

    layers = _ordered_layers(layer, rank, chains)
    x = _horizontal_positions(layers, chains, width, spacing)
    y, total_height = _vertical_positions(layers, height, spacing)

    placed = {
        key: Placed(key, x[key], y[layer[key]], width[key], height[key]) for key in keys
    }
    routes = _routes(chains, back, x, y, layer, width, height, spacing)
    total_width = max((x[k] + width[k] / 2 for k in x), default=0.0) + spacing.margin
    return Layout(nodes=placed, routes=tuple(routes), width=total_width, height=total_height)


def _depth_first(keys: Sequence[str], edges: Sequence[tuple[str, str]], root: str) -> tuple[dict[str, int], set[int]]:
    """Discovery order of every node and the indexes of edges that close a cycle."""
    outgoing: dict[str, list[tuple[str, int]]] = {key: [] for key in keys}
    for index, (source, target) in enumerate(edges):
        outgoing[source].append((target, index))
    discovery: dict[str, int] = {}
    finished: set[str] = set()
    back: set[int] = set()
    for start in [root, *keys]:
        if start in discovery:
            continue
        discovery[start] = len(discovery)
        stack = [(start, iter(outgoing[start]))]
        while stack:
            node, pending = stack[-1]
            for target, index in pending:
                if target not in discovery:
                    discovery[target] = len(discovery)
                    stack.append((target, iter(outgoing[target])))
                    break
                if target not in finished:
                    back.add(index)
            else:
                finished.add(node)
                stack.pop()
    return discovery, back


def _longest_path_layers(keys: Sequence[str], edges: Sequence[tuple[str, str]], rank: dict[str, int]) -> dict[str, int]:
    incoming = {key: 0 for key in keys}
    outgoing: dict[str, list[str]] = {key: [] for key in keys}
    for upper, lower in edges:
        incoming[lower] += 1
        outgoing[upper].append(lower)
    layer = {key: 0 for key in keys}
    ready = [(rank[key], key) for key in keys if incoming[key] == 0]
    heapq.heapify(ready)
    while ready:
        _, node = heapq.heappop(ready)
        for lower in outgoing[node]:
            layer[lower] = max(layer[lower], layer[node] + 1)
            incoming[lower] -= 1
            if incoming[lower] == 0:
                heapq.heappush(ready, (rank[lower], lower))
    return layer


def _ordered_layers(layer: dict[str, int], rank: dict[str, float], chains: dict[int, list[str]]) -> list[list[str]]:
    depth = max(layer.values(), default=0) + 1
    layers: list[list[str]] = [[] for _ in range(depth)]
    for key in sorted(layer, key=lambda k: rank[k]):
        layers[layer[key]].append(key)
    above: dict[str, list[str]] = {key: [] for key in layer}
    below: dict[str, list[str]] = {key: [] for key in layer}
    for chain in chains.values():
        for upper, lower in zip(chain, chain[1:]):
            above[lower].append(upper)
            below[upper].append(lower)

    best = [list(row) for row in layers]
    best_crossings = _crossings(layers, below)
    for sweep in range(12):
        downward = sweep % 2 == 0
        sequence = range(1, depth) if downward else range(depth - 2, -1, -1)
        for level in sequence:
            neighbour_row = layers[level - 1] if downward else layers[level + 1]
            position = {key: i for i, key in enumerate(neighbour_row)}
            current = {key: i for i, key in enumerate(layers[level])}

            def barycentre(key: str) -> float:
                linked = [position[n] for n in (above[key] if downward else below[key]) if n in position]
                return sum(linked) / len(linked) if linked else float(current[key])

            layers[level].sort(key=lambda k: (barycentre(k), current[k]))
        crossings = _crossings(layers, below)
        if crossings < best_crossings:
            best, best_crossings = [list(row) for row in layers], crossings
    return best


def _crossings(layers: list[list[str]], below: dict[str, list[str]]) -> int:
    total = 0
    for upper_row, lower_row in zip(layers, layers[1:]):
        lower_position = {key: i for i, key in enumerate(lower_row)}
        segments = [
            (i, lower_position[n]) for i, key in enumerate(upper_row) for n in below[key] if n in lower_position
        ]
        for a, (a_top, a_bottom) in enumerate(segments):
            for b_top, b_bottom in segments[a + 1 :]:
                if (a_top - b_top) * (a_bottom - b_bottom) < 0:
                    total += 1
    return total


def _horizontal_positions(
    layers: list[list[str]], chains: dict[int, list[str]], width: dict[str, float], spacing: Spacing
) -> dict[str, float]:
    above: dict[str, list[str]] = {key: [] for row in layers for key in row}
    below: dict[str, list[str]] = {key: [] for row in layers for key in row}
    for chain in chains.values():
        for upper, lower in zip(chain, chain[1:]):
            above[lower].append(upper)
            below[upper].append(lower)

    x: dict[str, float] = {}
    for row in layers:
        cursor = 0.0
        for key in row:
            x[key] = cursor + width[key] / 2
            cursor += width[key] + spacing.node_gap

    for sweep in range(8):
        downward = sweep % 2 == 0
        for row in layers if downward else reversed(layers):
            desired = []
            for key in row:
                linked = above[key] if downward else below[key]
                desired.append(sum(x[n] for n in linked) / len(linked) if linked else x[key])
            for key, value in zip(row, _spread(desired, [width[k] for k in row], spacing.node_gap)):
                x[key] = value

    left = min((x[k] - width[k] / 2 for k in x), default=0.0)
    return {key: value - left + spacing.margin for key, value in x.items()}


def _spread(desired: list[float], widths: list[float], gap: float) -> list[float]:
    """Positions as close to ``desired`` as the order and the gaps allow (mean of a left and a right packing)."""
    if not desired:
        return []
    forward = list(desired)
    for i in range(1, len(forward)):
        forward[i] = max(desired[i], forward[i - 1] + (widths[i - 1] + widths[i]) / 2 + gap)
    backward = list(desired)
    for i in range(len(backward) - 2, -1, -1):
        backward[i] = min(desired[i], backward[i + 1] - (widths[i] + widths[i + 1]) / 2 - gap)
    return [(a + b) / 2 for a, b in zip(forward, backward)]


def _vertical_positions(
    layers: list[list[str]], height: dict[str, float], spacing: Spacing
) -> tuple[list[float], float]:
    centres: list[float] = []
    cursor = spacing.margin
    for row in layers:
        tallest = max((height[key] for key in row), default=0.0)
        centres.append(cursor + tallest / 2)
        cursor += tallest + spacing.layer_gap
    return centres, cursor - spacing.layer_gap + spacing.margin


def _routes(
    chains: dict[int, list[str]],
    back: set[int],
    x: dict[str, float],
    y: list[float],
    layer: dict[str, int],
    width: dict[str, float],
    height: dict[str, float],
    spacing: Spacing,
) -> list[Route]:
    # Edges leaving or entering the same side of a node get their own port, ordered by where they go.
    attachments: dict[tuple[str, str], list[tuple[float, int]]] = {}
    for index, chain in chains.items():
        attachments.setdefault((chain[0], "bottom"), []).append((x[chain[1]], index))
        attachments.setdefault((chain[-1], "top"), []).append((x[chain[-2]], index))
    port: dict[tuple[str, str, int], float] = {}
    for (key, side), items in attachments.items():
        items.sort()
        count = len(items)
        step = min(spacing.port_gap, 0.6 * width[key] / (count - 1)) if count > 1 else 0.0
        for j, (_, index) in enumerate(items):
            port[(key, side, index)] = x[key] + (j - (count - 1) / 2) * step

    routes = []
    for index, chain in sorted(chains.items()):
        upper, lower = chain[0], chain[-1]
        points = [(port[(upper, "bottom", index)], y[layer[upper]] + height[upper] / 2)]
        points.extend((x[d], y[layer[d]]) for d in chain[1:-1])
        points.append((port[(lower, "top", index)], y[layer[lower]] - height[lower] / 2))
        if index in back:
            points.reverse()
        routes.append(Route(edge=index, points=tuple(points)))
    return routes
