"""Which image the canvas shows, which comes next, and what is sent ahead of the labeler."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .._file_stamps import same_bytes, still_holds
from .._images import ImageError, OrientedImage
from .._orientation import turned_since
from ..annotations import Annotation
from ..loop import ActiveLoop
from . import ahead, image_notices, status
from .budget import BudgetGate
from .canvas import Canvas
from .editor import Editor
from .info import Info
from .notices import Notices
from .panel_lock import PanelLock
from .thumbnails import QueueStrip
from .unsaved import Frame


class Navigator:
    """Shows an image on the canvas (its annotation, draft or unsaved work), moves on to the
    loop's next one, and keeps the queue strip, the header and the images sent ahead in step.
    Each image is shown with the EXIF orientation its pixels were read in (sent ahead or not):
    ``turned`` says when its photo was turned since.

    Thread safety: none of its own; its owner (the Panel) calls it under the panel's lock
    (``lock``: ``refresh_queue`` takes it too), which so guards ``current``, ``ahead``,
    ``queue``, ``restored``, ``painted``, ``painted_on``, ``painted_shown``, ``early``,
    ``passed``, ``ahead_picker`` and ``to_label``.

    Parameters
    ----------
    loop : ActiveLoop
        The loop whose queue is followed.
    editor : Editor
        Loads an image with its annotation, and keeps unsaved work.
    canvas : Canvas
        The canvas, which gets the images sent ahead.
    strip : QueueStrip
        The queue's thumbnails.
    info : Info
        The header line, and the header of the image sent ahead.
    notices : Notices
        Says what was restored, and which images could not be read.
    budget : BudgetGate
        Whether the budget stops labeling (the canvas says so).
    lock : PanelLock
        The panel's lock.
    is_closed : callable
        True once the panel is closed: nothing more is sent.
    """

    def __init__(
        self,
        loop: ActiveLoop,
        editor: Editor,
        canvas: Canvas,
        strip: QueueStrip,
        info: Info,
        notices: Notices,
        budget: BudgetGate,
        lock: PanelLock,
        is_closed: Callable[[], bool],
    ) -> None:
        self.loop, self.dataset = loop, loop.dataset
        self.editor, self.canvas, self.strip, self.info = editor, canvas, strip, info
        self.notices, self.budget = notices, budget
        self._lock, self._is_closed = lock, is_closed
        self.current: int | None = None
        self.ahead: dict[int, OrientedImage] = {}  # the images sent ahead, by index
        self.queue = np.zeros(0, np.int64)  # the loop's queue as the strip last showed it
        self.restored = ""  # what the last image shown came back with, in words
        self.painted: str | None = None  # the image the browser painted for the key handled
        self.painted_on: int | None = None  # the canvas's image_id that key was made on
        self.painted_shown = False  # whether the answer to that key showed the image painted
        # (the canvas's image_id of the image shown, the image_id the browser painted it early
        # from): a key made on the early paint names that one (``made_on_showing``)
        self.early: tuple[int, int] | None = None
        # (the key of the image the browser painted early for a key, which the answer did not
        # show as it was no longer to label, the image_id that key was made on): a key made on
        # that paint is refused saying so (``passed_over``)
        self.passed: tuple[str, int] | None = None
        self.ahead_picker: int | None = None  # the picker's button with the next image
        self.to_label = False  # whether the image shown was still to label when shown

    def leave(self) -> None:
        """Keep the work on the image shown, if any, and show none (another is shown next)."""
        if self.current is not None:
            self.editor.keep_unsaved(self.current)
        self.current = None

    def catch_up(self) -> str:
        """Move on when the image shown was still to label when shown and has since been labeled,
        skipped or left out outside the panel (a cell's ``loop.commit``, another panel): no
        key of the panel could act on it. Returns why it moved on, in words, or "".

        An image opened labeled (a thumbnail, for a look) stays.
        """
        i = self.current
        if i is None or not self.to_label or self.still_to_label(str(i)) is not None:
            return ""
        self.editor.keep_unsaved(i)  # what the labeler drew on it here, if anything
        work = self.editor.unsaved.pop(i, None)  # not what was stored: it goes, and is named
        self.current = None
        self.advance()
        return image_notices.left_elsewhere(
            i,
            self.dataset.annotation(i),
            i in self.loop.skipped,
            dropped=work.summary() if work is not None else "",
        )

    def read(self, i: int) -> OrientedImage:
        """Image `i`'s pixels to show, and the orientation they were read in: the copy sent
        ahead, when there is one (the browser has those pixels), else read from its file now;
        an ``ImageError`` says why it cannot be read.

        Parameters
        ----------
        i : int
            A dataset index.
        """
        # The pixels shown and the orientation they were read in, from one read: what is drawn
        # on them was drawn in it (``Canvas.orientation``)
        return self.ahead[i] if i in self.ahead else self.dataset.oriented_image(i)

    def read_from_file(self, i: int) -> OrientedImage:
        """Image `i` as ``read`` gives it, the copy sent ahead only while its file still holds
        the bytes it was decoded from (the file's stamp, else its digest: ``same_bytes``); else
        read from the file now, or an ``ImageError`` saying why it cannot be (its file gone). An
        undo reads so: the image it brings back is one whose file can be labeled.

        Parameters
        ----------
        i : int
            A dataset index.
        """
        copy, file = self.ahead.get(i), self.dataset.source_file(i)
        if copy is None or copy.stamp is None or file is None:
            return self.read(i)
        return copy if still_holds(copy.stamp, file) else self.dataset.oriented_image(i)

    def show(
        self, i: int, undone: Annotation | None = None, image: OrientedImage | None = None
    ) -> bool:
        """Load image `i` on the canvas, with its annotation or the model's prediction, or the
        work left on it; returns whether that work was dropped, drawn on other pixels (its
        photo turned or replaced since: ``Editor.drop_unfit``), which the error line says.

        Parameters
        ----------
        i : int
            A dataset index. An unreadable image is marked broken, and the next one shown.
        undone : Label, Boxes, Mask or Instances, optional
            The label an undo just took back, which the work left on image `i` shows again to
            edit (``Actions.undo``): dropped, it is said to be that label, not unsaved work.
        image : OrientedImage, optional
            Image `i` as ``read`` gave it just before (an undo reads it before it acts); read
            now when not given.
        """
        if self.current is not None:
            # Shown again (the same image too): what was drawn on it comes back with it.
            self.editor.keep_unsaved(self.current)
        self.notices.clear_error()  # an error about the image before is not about this one
        try:
            image = self.read(i) if image is None else image
        except ImageError as error:
            self.loop.mark_broken(i, str(error))
            self.notices.told_broken.add(i)
            if self.current == i:
                self.current = None
            self.advance(exclude=i)  # shows the next image: after it, the error is about image i
            self.notices.add_error(f"{error}; it was left out and the next image loaded")
            return False
        described = self.loop.describe(i)
        queue = self.loop.queue  # once per image shown: a million-image queue takes ~8 ms
        known = self.dataset.annotation(i)
        draft = confidences = None
        if known is None and self.dataset.task in ("detect", "segment", "instances"):
            # Every box, mask region or object drafted, with its confidence, from one ranking:
            # those below the panel's draft threshold are hidden (draftbar.py), so a slider can
            # show them.
            ranked = self.loop.ranking
            draft, confidences = ranked.drafts.get(i), ranked.confidences.get(i)
        elif known is None:
            draft = self.loop.prediction(i)
        # Work left on it that was drawn on other pixels (its photo turned or replaced since)
        # is not shown on these
        dropped = self.editor.drop_unfit(i, image)
        # The image, the key of the one after it and "not finished" go in one message.
        with self.canvas.hold_sync():
            self.restored = self.editor.open(
                image, i, known, draft, described.predicted, confidences=confidences
            )
            following = [int(k) for k in queue[:2] if int(k) != i][:1]
            self.canvas.ahead_key = str(following[0]) if following else ""
            self.canvas.shown_picker = self.editor.picker_with(self.editor.picker.value)
            self.canvas.finished = status.budget_notice(self.budget.reached())
        self.ahead = {k: v for k, v in self.ahead.items() if k != i}
        self.notices.say(self.restored)
        drawn_on = None if dropped is None else dropped.frame
        if dropped is not None and drawn_on is not None:
            file, now = self.dataset.source_file(i), Frame.of(image)
            if undone is None:
                words = image_notices.unsaved_dropped(i, file, dropped.summary(), drawn_on, now)
            else:
                words = image_notices.undone_label_dropped(i, file, undone, drawn_on, now, known)
            self.notices.say_error(words)
        self.current = i
        self.to_label = self.still_to_label(str(i)) is not None
        self.refresh_header()
        self.refresh_queue(queue)
        return drawn_on is not None

    def changed_since_shown(self, i: int) -> str:
        """The refusal of a submit on image `i`, shown, whose file another program rewrote or
        replaced since its pixels were read, with other pixels of the same size and
        orientation; or "". Whether the file still holds the bytes the pixels shown were
        decoded from is ``still_holds``'s to say (its stamp, else its digest: no decoding), so a
        file only touched (its mode or times set, hard linked, its bytes written again) is
        labeled. A photo turned or of
        another size now is left to the dataset's check, which refuses a label drawn on it
        saying how (``TurnedSince``, ``bind``); so is a file gone or unreadable.

        Parameters
        ----------
        i : int
            The image shown.
        """
        file, canvas = self.dataset.source_file(i), self.canvas
        shown = canvas.stamp
        if file is None or shown is None or still_holds(shown, file):
            return ""
        try:
            now = self.dataset.oriented_image(i)
        except ImageError:
            return ""
        resized = now.pixels.shape[:2] != (canvas.height, canvas.width)
        if resized or turned_since(canvas.orientation, now.orientation):
            return ""
        if same_bytes(shown, now.stamp):
            return ""
        return image_notices.changed_since_shown(i, file)

    def advance(self, exclude: int | None = None) -> None:
        """Show the loop's next image (the one the browser painted early, if still to label).

        Parameters
        ----------
        exclude : int, optional
            An image not to show again (it could not be read).
        """
        painted = self.still_to_label(self.painted)
        if painted is not None and painted != exclude:
            # The browser already shows it (painted early): a newer ranking does not replace it.
            self.show(painted)
            self.painted_shown = self.current == painted
            return
        for _ in range(len(self.dataset)):
            i = self.loop.next()
            if i is None or i != exclude:
                break
        if i is None:
            if self.current is not None:
                self.editor.keep_unsaved(self.current)
            self.current = None
            self.info.header.value = status.nothing_left(
                self.loop.stop_reason, len(self.loop.broken)
            )
            self.canvas.finished = "Nothing left to label"
            self.refresh_queue()
            return
        self.show(i)

    def answered_painted(self) -> None:
        """Once a key the browser painted an image early for is answered: when the answer
        showed that image, a key made on the early paint names the load shown now (``early``),
        though the answer loaded it more than once (its drafts at a threshold the submit
        recalibrated), as the browser saw none of those loads."""
        shown = self.painted_shown and str(self.current) == self.painted
        if shown and self.painted_on is not None:
            self.early = (self.canvas.image_id, self.painted_on)
        elif (
            self.painted is not None
            and self.painted_on is not None
            and self.painted != str(self.current)
            and self.still_to_label(self.painted) is None  # labeled elsewhere, or unreadable
        ):
            self.passed = (self.painted, self.painted_on)
        self.painted, self.painted_on, self.painted_shown = None, None, False

    def made_on_showing(self, image_id: int | None, shown: str | None) -> bool:
        """Whether a key or click made on the browser's load `image_id` of the canvas, with image
        `shown` on screen, was made on this showing of the image shown: not on another image,
        nor on an earlier showing of this one (before an undo, a draft threshold or a refused
        edit loaded it again, each under a new ``image_id``). A key made on the image the browser
        painted early names the load it was painted from (``early``). Either left out (a call
        from Python) is not checked.

        Parameters
        ----------
        image_id : int or None
            The canvas's ``image_id`` the browser had when the key was pressed.
        shown : str or None
            The key of the image on screen then (the one painted early, if any).
        """
        if shown is not None and shown != str(self.current):
            return False
        now = self.canvas.image_id
        return image_id is None or image_id == now or (now, image_id) == self.early

    def passed_over(self, image_id: int | None, shown: str | None) -> int | None:
        """The image a key made on the browser's load `image_id`, with image `shown` on screen,
        was made on, when that was an image the browser painted early that the panel did not
        show, as it was no longer to label (labeled, skipped or left out elsewhere, or it could
        not be read); else None.

        Parameters
        ----------
        image_id : int or None
            The canvas's ``image_id`` the browser had when the key was pressed.
        shown : str or None
            The key of the image on screen then.
        """
        if shown is None or image_id is None or (shown, image_id) != self.passed:
            return None
        return int(shown) if shown.isdigit() else None

    def still_to_label(self, key: str | None) -> int | None:
        """The dataset index `key` names, if that image is unlabeled, not skipped nor broken.

        Parameters
        ----------
        key : str or None
            An image's key as the browser names it (its dataset index, in digits).
        """
        if not isinstance(key, str) or not key.isdigit() or int(key) >= len(self.dataset):
            return None
        i = int(key)
        if self.dataset.is_labeled([i])[0] or i in self.loop.skipped or i in self.loop.broken:
            return None
        return i

    def send_ahead(self) -> None:
        """Send the browser the next images of the queue (as the strip last showed it), to decode
        before they are due; the first is the one the browser may show at once after a key that
        moves on."""
        if self._is_closed() or self.current is None:
            return
        unsaved = self.editor.unsaved
        order, sent = ahead.images_ahead(self.loop, self.queue, self.current, unsaved, self.ahead)
        for i, image in sent.items():
            self.canvas.prefetch(str(i), image.pixels, image.orientation)
        self.ahead = sent
        with self.canvas.hold_sync():  # the key and the picker with it, in one message
            self.canvas.ahead_key = str(order[0]) if order and order[0] in sent else ""
            self.canvas.ahead_picker = self.ahead_picker

    def refresh_header(self) -> None:
        """Say in the header why the image shown is queued."""
        i = self.current
        if i is None:
            return
        self.info.header.value = status.header(i, self.loop.describe(i).why)

    def refresh_queue(self, queue: np.ndarray | None = None) -> None:
        """Show the head of `queue` in the strip, and keep it for sending the next images ahead.

        With it goes what the whole panel shows once the next image (the first of the strip,
        the one ``send_ahead`` names as ``ahead_key``) is shown: its header line (``Info``'s
        ``ahead`` part), the strip's row then and the picker's class; the browser moves them
        all in the frame that shows the image early, before Python answers.

        Parameters
        ----------
        queue : numpy.ndarray, optional
            The loop's queue; default: the loop's queue now.
        """
        if self._is_closed():
            return
        with self._lock:
            self.queue = self.loop.queue if queue is None else queue
            strip = self.strip
            row = ahead.strip_row(self.loop, self.queue, self.current, strip.count, strip.has)
            key = row.key
            strip.update(row.entries, (key, row.entries[1:]))
            header = status.header(int(key), row.why) if key else ""
            self.info.set("ahead", {"key": key, "header": header})
            self.ahead_picker = self.editor.picker_with(row.predicted) if key else None
            self.notices.tell_broken()
