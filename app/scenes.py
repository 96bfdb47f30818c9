"""The scenes of the views, by (view, image): computed once per input, then remembered.

A scene (the picture itself, or the feature maps of the convolutional stage run on it) depends
only on the view and the image's content, and every frame request of that view and image needs
it; recomputing the stage for each frame would cost more than the frame. An image id names its
content (samples are fixed, uploads are named by their hash), so an entry never goes stale.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from dropouts.lab.views.base import Scene, View

from .images import StoredImage


class SceneCache:
    """A small thread-safe LRU of scenes keyed by ``(view id, image id)``."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._scenes: OrderedDict[tuple[str, str], Scene] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, view: View[object], image: StoredImage) -> Scene:
        key = (view.id, image.id)
        with self._lock:
            scene = self._scenes.get(key)
            if scene is not None:
                self._scenes.move_to_end(key)
                return scene
        scene = view.scene(image.tensor)  # outside the lock: two threads may both compute it
        with self._lock:
            self._scenes[key] = scene
            while len(self._scenes) > self.size:
                self._scenes.popitem(last=False)
        return scene
