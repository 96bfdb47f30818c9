"""The load test's students (locust): what a class does with the lab during a lecture.

Each simulated user opens the page, then mostly moves a slider (a frame of a new setting, one
request per value, on every view), sometimes lets it play (a chunk of eight iterations), and
rarely uploads a picture, runs a training or exports a GIF. A few act as a hostile student
would (``DROPOUT_LAB_HOSTILE``, the share of their turns, 0.05 by default): a trained view's
frame at a new seed and a large setting (answered 503 at once with its training stream, never
trained in the frame's request) or an export left after its first event. Request names are kinds
("frame <view>", "page", "upload"…) so that the report gives percentiles per kind. A 503 is
recorded as a failure named "503 shed" (the server says it is full), anything else unexpected
under its status.

Run by ``python -m benchmarks.load`` (``make load``); alone:
``locust -f benchmarks/locustfile.py --host http://127.0.0.1:8000``.
"""

from __future__ import annotations

import io
import os
import random
import time
from typing import Any

from locust import HttpUser, between, task
from PIL import Image

from dropouts.lab.registry import METHODS, Param
from dropouts.lab.views import views_of
from dropouts.lab.views.matching import MATCHED

# The slider a student moves in each view: the method's main parameter, but for Monte Carlo
# dropout the number of passes T (each p is a new training run, T reuses it).
SLIDER_OF = {"mc_dropout": "T"}
RETRIES = 4  # as the page
HOSTILE_SHARE = float(os.environ.get("DROPOUT_LAB_HOSTILE", "0.05"))
# Trained views at large settings (within the training budget): a new seed each time.
HOSTILE_FRAMES = [
    {"view": "compression", "method": "compression", "epochs": 290, "width": 128, "depth": 3},
    {"view": "dense", "method": "standard", "network": "trained", "steps": 400,
     "n_train": 1000, "train_width": 256, "train_depth": 4},
    {"view": "uncertainty", "method": "mc_dropout", "steps": 5000, "n_train": 400},
]  # fmt: skip
PAIRS = [
    (view, method.id, method.param(SLIDER_OF.get(method.id, MATCHED[method.id])))
    for method in METHODS
    for view in views_of(method.id, method.views)
]


def slider_value(param: Param) -> str:
    """A value the slider can take (its steps: students' values repeat across the class)."""
    low, high = float(param.min or 0.0), float(param.max or 1.0)
    step = float(param.step or (high - low) / 20)
    if param.name == "p":  # p in its useful range
        high = min(high, 0.8)
    value = low + step * random.randint(0, int((high - low) / step))
    return str(int(value)) if param.kind == "int" else f"{value:.4g}"


def little_picture() -> bytes:
    """A student's photo, small: a random image of 200 x 150 pixels, as PNG."""
    noise = random.randbytes(200 * 150 * 3)
    buffer = io.BytesIO()
    Image.frombytes("RGB", (200, 150), noise).save(buffer, format="PNG")
    return buffer.getvalue()


class Student(HttpUser):
    wait_time = between(0.3, 1.5)  # a slider drag, a look, the next move

    def on_start(self) -> None:
        self.view, self.method, self.param = random.choice(PAIRS)
        self.image = "cat"
        self.seed = random.randint(0, 3)
        self.page()

    def get(self, path: str, name: str, **params: Any) -> None:
        """GET as the page does: a 503 (recorded as "503 shed") is asked again after its
        Retry-After, longer each time with jitter, at most RETRIES times (static/js/api.js);
        a trained view's setting not trained yet (a 503 naming its training stream) has that
        stream read to its end first (static/js/training_wait.js), then is asked again."""
        trained = False
        for attempt in range(RETRIES + 1):
            with self.client.get(path, params=params, name=name, catch_response=True) as answer:
                stream = answer.headers.get("X-Training-Stream")
                if answer.status_code == 503 and stream and not trained:
                    answer.request_meta["name"] = f"{name} (untrained)"
                    answer.success()  # an answer: train it, then ask again
                    trained = self.train_through(stream, f"training for {name}")
                    continue
                if answer.status_code == 503:  # under its own name: the kind's times are answers'
                    answer.request_meta["name"] = f"{name} (503)"
                    answer.failure("503 shed")
                    wait = float(answer.headers.get("Retry-After", 1)) * 2**attempt
                elif answer.status_code != 200:
                    answer.failure(f"{answer.status_code} {answer.text[:80]}")
                    return
                else:
                    answer.success()
                    return
            time.sleep(min(8.0, wait) * random.uniform(0.5, 1.5))

    @task(6)
    def page(self) -> None:
        self.view, self.method, self.param = random.choice(PAIRS)
        self.get("/", "page", method=self.method, view=self.view)
        self.get("/static/js/main.js", "static")

    @task(60)
    def slider(self) -> None:
        self.get(
            "/api/frames",
            f"frame {self.view}",
            view=self.view,
            method=self.method,
            image=self.image,
            seed=self.seed,
            start=random.randint(0, 99),
            count=1,
            **{self.param.name: slider_value(self.param)},
        )

    @task(12)
    def play(self) -> None:
        start = random.randrange(0, 96, 8)
        self.get(
            "/api/frames",
            "chunk of 8",
            view=self.view,
            method=self.method,
            image=self.image,
            seed=self.seed,
            start=start,
            count=8,
        )

    def train_through(self, stream: str, name: str) -> bool:
        """Read a training stream to its end, as the page does when a frame needs it."""
        with self.client.get(stream, name=name, stream=True, catch_response=True) as answer:
            if answer.status_code != 200:
                answer.failure("503 shed" if answer.status_code == 503 else f"{answer.status_code}")
                return False
            for _ in answer.iter_lines():
                pass
            answer.success()
            return True

    @task(2)
    def upload(self) -> None:
        files = {"file": ("photo.png", little_picture(), "image/png")}
        with self.client.post("/api/images", files=files, name="upload", catch_response=True) as a:
            if a.status_code == 201:
                self.image = a.json()["id"]
                a.success()
            else:
                a.failure("503 shed" if a.status_code == 503 else f"{a.status_code}")

    @task(2)
    def training(self) -> None:
        """A training run of the dense view, read to its end (a few seeds: replayed once done);
        a 503 waits and asks again, as the page's training panel does."""
        params = {"method": "standard", "seed": random.randint(0, 2)}
        for attempt in range(RETRIES + 1):
            with self.client.get(
                "/api/train", params=params, name="training run", stream=True, catch_response=True
            ) as answer:
                if answer.status_code == 200:
                    for _ in answer.iter_lines():
                        pass
                    answer.success()
                    return
                if answer.status_code != 503:
                    answer.failure(f"{answer.status_code}")
                    return
                answer.request_meta["name"] = "training run (503)"
                answer.failure("503 shed")
            time.sleep(min(8.0, 2.0 * 2**attempt) * random.uniform(0.5, 1.5))

    @task(20)
    def hostile(self) -> None:
        """A hostile student's turn (a share HOSTILE_SHARE of these): a frame of a trained view
        that no one trained (new seed, large setting), which must be answered 503 at once
        naming its training stream; or an export event stream left after its first event."""
        if random.random() >= HOSTILE_SHARE:
            return
        if random.random() < 0.5:
            params = random.choice(HOSTILE_FRAMES) | {"seed": random.randint(10**6, 10**9)}
            with self.client.get(
                "/api/frames", params=params, name="hostile frame", catch_response=True
            ) as answer:
                if answer.status_code == 503 and "X-Training-Stream" in answer.headers:
                    answer.success()  # refused at once: nothing trained
                else:
                    answer.failure(f"{answer.status_code}: expected 503 with its training stream")
            return
        params = {"method": "gaussian", "format": "mp4", "frames": 100,
                  "resolution": "1280x720", "seed": random.randint(0, 10**9)}  # fmt: skip
        with self.client.get(
            "/api/export/events", params=params, name="hostile export, left",
            stream=True, catch_response=True,
        ) as answer:  # fmt: skip
            if answer.status_code == 200:
                next(answer.iter_lines(), None)  # its first event, then the client goes
                answer.success()
            elif answer.status_code == 503:
                answer.request_meta["name"] = "hostile export, left (503)"
                answer.failure("503 shed")
            else:
                answer.failure(f"{answer.status_code}")

    @task(1)
    def export(self) -> None:
        self.get(
            "/api/export",
            "export gif",
            method=self.method,
            view=self.view,
            seed=random.randint(0, 1000),
            format="gif",
            frames=16,
            resolution="320x180",
        )
