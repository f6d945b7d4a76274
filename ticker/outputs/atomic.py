"""Files that readers (web servers, scripts) see either whole and old, or whole and new."""

import os
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def replacing(path: Path, mode: str = "wb", **open_args):
    """A file beside `path` that replaces it once the block ends without error: written in
    pieces (an export streams through it), it is still never seen half-written."""
    import tempfile  # 10 ms of imports that `ticker line` without --write never needs

    path = Path(path)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, mode, **open_args) as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_bytes(path: Path, data: bytes) -> None:
    """Write beside the target, flush to disk, then rename over it: never a half-written file."""
    with replacing(path) as out:
        out.write(data)


def write_text(path: Path, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))
