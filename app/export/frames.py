"""An export's frames: each panel's scene and theory (once per export) and its frames, computed
with the view (``dropouts.lab.views``, the frames ``/api/frames`` sends) a chunk of consecutive
iterations at a time, each kept only until it is drawn; a comparison's heading.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from torch import Tensor

from dropouts.lab.registry import get_method, get_view
from dropouts.lab.views import BUILT, View
from dropouts.lab.views.base import Frame, Scene

from ..render import PanelInput
from ..state import ITERATIONS, LabState
from ..untrained import setting

CHUNK = 16  # frames computed per call of a view (the pooling view replays 0..i per call)

# A view's scene for the export's picture (the app's cache, or computed on the spot).
SceneGetter = Callable[[View[object], Tensor], Scene]


def prepare(
    state: LabState, picture: Tensor, scenes: SceneGetter | None = None
) -> list[PanelInput]:
    """Each panel's scene, theory and its JSON, once per export."""
    view = BUILT[state.view]
    scene = scenes(view, picture) if scenes else view.scene(picture)
    panels = []
    for panel in state.panels:
        with setting(state.view, panel.method, panel.params, state.seed):
            theory = view.theory(panel.method, panel.params, scene, seed=state.seed)
        panels.append(
            PanelInput(
                state.view,
                get_method(panel.method),
                dict(panel.params),
                scene,
                theory,
                view.theory_json(theory),
            )
        )
    return panels


@dataclass
class FrameSource:
    """The frames of every panel, computed a chunk of consecutive iterations at a time, each
    kept only until it is drawn (a 512 x 512 mask is 1 MB). ``order``: the iterations that will
    be taken, in order, as often as they will be."""

    view: View[object]
    panels: list[PanelInput]
    seed: int
    order: list[int]
    ready: dict[int, list[Frame]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.remaining: dict[int, int] = {}
        for iteration in self.order:
            self.remaining[iteration] = self.remaining.get(iteration, 0) + 1

    def take(self, iteration: int) -> list[Frame]:
        if iteration not in self.ready:
            end = iteration + 1
            while (
                end - iteration < CHUNK
                and end < ITERATIONS
                and self.remaining.get(end, 0) > 0
                and end not in self.ready
            ):
                end += 1
            computed = [
                self.view.frames(
                    panel.method.id, panel.params, self.seed, range(iteration, end), panel.scene,
                    panel.theory,
                )
                for panel in self.panels
            ]  # fmt: skip
            for offset, it in enumerate(range(iteration, end)):
                self.ready[it] = [frames[offset] for frames in computed]
        self.remaining[iteration] -= 1
        return self.ready.pop(iteration)


def heading(state: LabState) -> str:
    """A comparison's first caption line."""
    label = get_view(state.view).label
    return f"Comparison · {label} · seed {state.seed}"
