# Dropout Lab: the web app on port 8000, CPU only.
#
# torch must be the CPU build: pass PyTorch's CPU wheel index at build time, e.g.
#   docker build --build-arg TORCH_INDEX_URL=<PyTorch CPU wheel index> -t dropout-lab .
# Without it pip takes torch 2.13.0 from the default index, which on x86_64 is the much
# larger CUDA build (it still runs, on the CPU).
FROM python:3.11-slim

ARG TORCH_INDEX_URL=""

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --create-home --uid 1000 lab
WORKDIR /app

COPY constraints.txt pyproject.toml README.md ./
RUN if [ -n "$TORCH_INDEX_URL" ]; then \
        pip install --no-cache-dir --index-url "$TORCH_INDEX_URL" "torch==2.13.0"; \
    fi

COPY dropouts ./dropouts
COPY app ./app
COPY static ./static
COPY templates ./templates
COPY sample_images ./sample_images
# Editable, so that app/ finds static/, templates/ and sample_images/ beside it in /app.
RUN pip install --no-cache-dir -c constraints.txt -e . \
    && mkdir -p /app/var/uploads && chown 1000:1000 /app/var/uploads

USER 1000
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000"]
