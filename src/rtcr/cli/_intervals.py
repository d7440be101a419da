"""Checkpoint intervals too short to be meant: an estimate of what they would cost.

`--every 1` is accepted (every basic block a checkpoint), but a checkpoint
is a pause and a durable commit, so a run would spend its time
checkpointing and fill the store with near-identical records. Such
intervals run as asked, after one warning line with the expected number of
checkpoints and the least they would store. The estimate is honest about
what it knows: the size of this component's description (its manifest,
measured now), not the pages it will dirty, which come on top.
"""

from __future__ import annotations

from rtcr.checkpoint import Session
from rtcr.checkpoint.image import capture
from rtcr.core import format_bytes
from rtcr.store.format import manifest_json

# Below these, checkpointing costs more than the run it protects.
SHORT_EVERY = 10_000  # instructions: a twentieth of the default time slice
SHORT_EVERY_MS = 1.0  # a time slice takes about a millisecond of emulation
_PER = 1_000_000  # without --max-instructions, counts are given per million instructions


def interval_warning(session: Session, every: int | None, every_ms: float | None,
                     max_instructions: int | None) -> str | None:
    """The warning for an absurdly short interval (None: the interval is reasonable)."""
    quantum = session.machine.scheduler.quantum
    if every is not None and every < SHORT_EVERY:
        # A pause lands on a basic block's end: at most one checkpoint per block.
        asked, spacing = f"--every {every:,}", every
        why = "a checkpoint is a pause and a durable commit: the run will mostly checkpoint"
    elif every_ms is not None and every_ms < SHORT_EVERY_MS:
        # At least one time slice runs between two checkpoints (Session.run).
        asked, spacing = f"--every-ms {every_ms:g}", quantum
        why = f"a checkpoint after every time slice of {quantum:,} instructions"
    else:
        return None
    span = max_instructions if max_instructions is not None else _PER
    count = max(1, span // spacing)
    where = (f"in --max-instructions {max_instructions:,}" if max_instructions is not None
             else "per million instructions")
    each = len(manifest_json(capture(session.machine, session.component, session.runtime)))
    return (f"{asked} is a very short interval ({why}): expect up to {count:,} checkpoints "
            f"{where}, each storing at least {format_bytes(each)} of state "
            f"({format_bytes(count * each)} for {count:,}; the pages the component dirties "
            "come on top; an estimate)")
