"""Route a workflow step's logging and stderr into its Snakemake log file."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def log_to(path: str | Path | None, level: int = logging.INFO) -> Iterator[logging.Logger]:
    """Send the ``areograph`` loggers and stderr to ``path`` for the duration of a step.

    Snakemake keeps one log per job; tracebacks land there too, so a failed job explains itself.
    """
    logger = logging.getLogger("areograph")
    if path is None:
        logging.basicConfig(level=level)
        yield logger
        return
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as fh, contextlib.redirect_stderr(fh):
        handler = logging.StreamHandler(fh)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(level)
        try:
            yield logger
        except BaseException:
            logger.exception("step failed")
            raise
        finally:
            logger.removeHandler(handler)
