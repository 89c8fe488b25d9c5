"""The embedded broker's folder convention, shared by every publisher and consumer.

``filesystem://`` keeps messages as files and needs no server. Producers and consumers meet
only if they use the same folder for writing and reading, and kombu needs every folder to
exist, including the one for its exchange-to-queue table (its default, ``./control``, would
land in whatever directory the process started in).
"""

from pathlib import Path

__all__ = ["filesystem_transport_options"]


def filesystem_transport_options(folder: Path) -> dict[str, object]:
    """kombu transport options for a filesystem broker in ``folder``; creates its folders."""
    processed, control = folder / "processed", folder / "control"
    for path in (folder, processed, control):
        path.mkdir(parents=True, exist_ok=True)
    return {
        "data_folder_in": str(folder),
        "data_folder_out": str(folder),
        "processed_folder": str(processed),
        "control_folder": str(control),
        "store_processed": False,
    }
