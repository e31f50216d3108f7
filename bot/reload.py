"""Hot reload: notice edited flow files and swap in the new version safely.

Polling (sizes, times and inodes of the flow files and media), not
inotify: it works the same on every platform and inside containers, and a few
stat calls every second cost nothing. A change is linted first with exactly
``textdesk lint``'s rules; a broken edit is rejected with its findings in the
log and the last good version keeps serving. A good one is swapped in by
``ConversationService.swap``, which never interrupts a message in flight.

Each version served is recorded in the database (``textdesk lint --against``
compares live conversations with the version they started on). A version is
served first and recorded after, so a busy database never holds up a reload;
when the record fails it is retried at every check until it is written.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

from bot import gcpolicy
from bot.flows import Flow, FlowLoadError, FlowSet, flow_files, load_flows
from bot.flows.lint import lint_flow_set
from bot.service import ConversationService
from bot.store import StoreError

__all__ = ["FlowReloader", "snapshot"]

log = logging.getLogger("textdesk.reload")

Snapshot = dict[str, tuple[int, int, int, int]]


def snapshot(folder: Path) -> Snapshot:
    """(size, mtime, ctime, inode) of every flow file and media file.

    Size and mtime alone miss an edit of the same length when the deploy keeps
    or pins modification times (``cp -p``, ``rsync -a``, builds that set them to
    SOURCE_DATE_EPOCH); the change time (which nothing but the kernel sets) and
    the inode (new on an atomic replace) do not.
    """
    # Exactly the files a reload loads: a macOS ``._retail.yaml`` or an editor's
    # backup appearing is not an edit, and must not be linted as a flow.
    files: list[Path] = []
    with contextlib.suppress(OSError):  # the folder itself gone (a deploy swapping it)
        files = flow_files(folder)
    media = folder / "media"
    if media.is_dir():
        files += [p for p in media.rglob("*") if p.is_file()]
    out: Snapshot = {}
    for path in files:
        with contextlib.suppress(OSError):  # deleted between glob and stat
            stat = path.stat()
            out[str(path)] = (stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino)
    return out


class FlowReloader:
    def __init__(self, service: ConversationService, folder: Path) -> None:
        self.service = service
        self.folder = folder
        self.seen = snapshot(folder)
        self.reloads = 0
        self.rejected = 0
        self.unrecorded: list[Flow] = []  # served, not yet in the database

    async def check(self) -> bool:
        """Reload if anything changed; True when a new version was swapped in."""
        await self._record()
        current = snapshot(self.folder)
        if current == self.seen:
            return False
        self.seen = current
        # Linting and loading are CPU work: off the event loop, so webhooks
        # keep being answered meanwhile.
        loaded = await asyncio.to_thread(self._load)
        if loaded is None:
            self.rejected += 1
            self.service.metrics.reloads.labels("rejected").inc()
            return False
        self.service.swap(loaded)
        gcpolicy.refreeze()  # the old version's cycles become collectable (bot/gcpolicy.py)
        self.reloads += 1
        self.service.metrics.reloads.labels("ok").inc()
        versions = ", ".join(f"{f.name}@{f.version}" for f in loaded)
        log.info("reloaded flows: %s", versions)
        self.unrecorded += loaded  # after any earlier version still waiting: conversations may be on it
        await self._record()
        return True

    async def _record(self) -> None:
        """Write the versions being served to the database, or keep them for the next check."""
        while self.unrecorded:
            flow = self.unrecorded[0]
            try:
                await self.service.store.save_flow_version(
                    flow.name, flow.version, flow.path, flow.source, self.service.clock.now()
                )
            except StoreError as exc:
                log.warning("flow %s@%s is served but not recorded yet (%s); retrying", flow.name, flow.version, exc)
                return
            self.unrecorded.pop(0)

    def _load(self) -> FlowSet | None:
        findings = lint_flow_set(self.folder)
        errors = [f for f in findings if f.severity == "error"]
        if errors:
            for finding in findings:
                log.error("flow edit rejected: %s", finding)
            log.error("keeping the previous version of the flows (%d error(s))", len(errors))
            return None
        try:
            return load_flows(self.folder)
        except FlowLoadError as exc:  # pragma: no cover - lint reported these already
            log.error("flow edit rejected: %s", exc)
            return None

    async def run(self, stop: asyncio.Event, interval: float = 1.0) -> None:
        while not stop.is_set():
            try:
                await self.check()
            except Exception:
                log.exception("flow reload check failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)
