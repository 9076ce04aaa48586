"""The labeler's actions on the image shown (submit, skip, undo, redo…)."""

from __future__ import annotations

from collections.abc import Callable

from .._images import ImageError
from .._orientation import TurnedSince
from ..annotations import Annotation, Label
from ..loop import ActiveLoop
from ..session import SHOWN_AT_THRESHOLD
from . import image_notices, no_objects, status, undo_notices
from .budget import BudgetGate
from .canvas import Canvas
from .editor import Editor
from .ledger import Ledger, Made
from .navigator import Navigator
from .notices import Notices
from .unsaved import Work, from_annotation


class Actions:
    """Submit, skip, undo and redo what the labeler did on the image shown, through the loop.

    Each method is one user action: it says why when it is refused (no image, an image shown
    before, the budget, a photo turned since it was shown, the loop's error) and moves the
    canvas on when it leaves the image.

    Thread safety: none of its own; its owner (the Panel) calls it under the panel's lock.

    Parameters
    ----------
    loop : ActiveLoop
        The loop that stores labels and skips.
    editor : Editor
        What the canvas and the picker hold, and the unsaved work per image.
    navigator : Navigator
        The image shown, and moving on.
    notices : Notices
        Where refusals and what was done are said.
    budget : BudgetGate
        Whether the budget refuses a label.
    canvas : Canvas
        The canvas (its ``image_id``, boxes and drafts).
    refresh_state : callable
        Shows the loop's state again after a label is stored or taken back.
    """

    def __init__(
        self,
        loop: ActiveLoop,
        editor: Editor,
        navigator: Navigator,
        notices: Notices,
        budget: BudgetGate,
        canvas: Canvas,
        refresh_state: Callable[[], None],
    ) -> None:
        self.loop, self.dataset = loop, loop.dataset
        self.editor, self.navigator, self.notices = editor, navigator, notices
        self.budget, self.canvas, self.refresh_state = budget, canvas, refresh_state
        # The images undos brought back, each with the work it came back with (``redo``).
        self.undone_work: dict[int, Work] = {}
        self.ledger = Ledger()  # the commits and skips this panel made

    def not_current(self, what: str, image_id: int | None, shown: str | None = None) -> bool:
        """True (and said) when there is no image to act on, or the action was made on another.

        Parameters
        ----------
        what : str
            The action, as the message names it (``"submit"``).
        image_id, shown : optional
            As for ``submit``.
        """
        current = self.navigator.current
        if current is None:
            self.notices.say_error(f"nothing to {what}: {status.FINISHED_HINT}")
            return True
        if not self.navigator.made_on_showing(image_id, shown):
            passed = self.navigator.passed_over(image_id, shown)
            if shown == str(current):  # this image, as it was shown before it was loaded again
                self.notices.say_error(image_notices.made_before_reload(what, current))
            elif passed is not None:  # painted early, but labeled elsewhere meanwhile
                labeled, skipped = self.dataset.annotation(passed), passed in self.loop.skipped
                words = image_notices.painted_elsewhere(what, passed, current, labeled, skipped)
                self.notices.say_error(words)
            else:
                self.notices.say(
                    f"ignored a second {what} for the image before this one (a double click?)"
                )
            return True
        known = self.dataset.annotation(current)
        if known is not None:  # opened again to look at it (a thumbnail)
            done = "skipped" if what == "skip" else "submitted"
            self.notices.say_error(image_notices.already_labeled(done, current, known))
            return True
        return False

    def commit(
        self,
        annotation: Annotation,
        *,
        shown: Annotation | object | None = SHOWN_AT_THRESHOLD,
        dropped: int = 0,
    ) -> int | None:
        """Store `annotation` for the image shown and move on; returns its index, or None.

        Parameters
        ----------
        annotation : Label, Boxes, Mask or Instances
            The label; the caller checked there is an image shown.
        shown : Boxes, Mask, Instances or None, optional
            The drafts the labeler saw (``loop.commit``'s `shown`); by default the loop's.
        dropped : int, default 0
            How many undecided drafts the submit drops (not stored): said once stored.
        """
        i = self.navigator.current
        assert i is not None
        budget = self.budget.reached()
        if budget is not None:
            self.notices.say_error(f"not submitted: {status.budget_words(budget)}")
            return None
        changed = self.navigator.changed_since_shown(i)
        if changed:  # the file rewritten or replaced since: nothing is stored, the edit stays
            self.notices.say_error(changed)
            return None
        try:
            # Drawn in the orientation of the pixels shown: on a photo turned since, the dataset
            # refuses it (``TurnedSince``), and on one replaced by another size, ``bind`` does
            drawn_in = self.canvas.orientation
            stored = self.loop.commit(i, annotation, shown=shown, orientation=drawn_in)
            self.ledger.add(i, Made("commit", self.loop.made_here, stored))
        except TurnedSince as turned:  # nothing is stored, and the edit stays on the canvas
            file = self.loop.dataset.source_file(i)
            words = image_notices.turned_since_shown(i, file, turned.drawn_in, turned.now)
            self.notices.say_error(words)
            return None
        except (ValueError, IndexError, OSError, RuntimeError) as error:
            # Bad input, a full disk, a closed loop: the label was not kept, and the panel says why.
            self.notices.say_error(f"not submitted: {error}")
            return None
        self.forget(i)
        self.navigator.current = None  # submitted: nothing on the canvas is left unsaved
        self.notices.say_error("")
        self.navigator.advance()
        if dropped:
            self.notices.say(image_notices.dropped_drafts(i, dropped))
        self.refresh_state()
        return i

    def submit(
        self, image_id: int | None = None, shown: str | None = None, picked: int | None = None
    ) -> int | None:
        """Commit what the canvas and picker hold for the image shown; returns its index.

        Parameters
        ----------
        image_id : int, optional
            The canvas's ``image_id`` the submit was made on; a submit for an image no longer
            shown is ignored as a double submit, and one for an earlier showing of the image
            shown (before an undo, a draft threshold or a refused edit loaded it again) is
            refused (``Navigator.made_on_showing``).
        shown : str, optional
            The key of the image on screen when the submit was made (the one painted early, if
            any): it must be the image shown.
        picked : int, optional
            In classify mode, the picker's button the browser highlighted (-1: none): a submit
            is refused when the picker holds another class (``Editor.picked_differs``).
        """
        if self.not_current("submit", image_id, shown):
            return None
        differs = self.editor.picked_differs(picked)
        if differs is not None:
            self.notices.say_error(image_notices.class_changed(self.navigator.current, *differs))
            return None
        try:
            annotation = self.editor.annotation()
        except ValueError as error:
            self.notices.say_error(f"not submitted: {error}")
            return None
        editor, task = self.editor, self.dataset.task
        if task == "segment":
            return self.commit(annotation, shown=editor.shown_mask())
        # The drafts left undecided are dropped: only what was drawn and accepted is stored.
        if task == "instances":
            return self.commit(annotation, shown=editor.shown_objects(), dropped=editor.undecided())
        if task != "detect":
            return self.commit(annotation)
        return self.commit(annotation, shown=editor.shown_drafts(), dropped=editor.undecided())

    def submit_class(
        self, class_id: int, image_id: int | None = None, shown: str | None = None
    ) -> int | None:
        """Label the image shown (classify) with a class and submit it (a class key).

        Parameters
        ----------
        class_id : int
            The class's index.
        image_id, shown : optional
            As for ``submit``.
        """
        if self.not_current("submit", image_id, shown):
            return None
        return self.commit(Label(self.dataset.classes[class_id]))

    def submit_no_objects(
        self, image_id: int | None = None, shown: str | None = None
    ) -> int | None:
        """Label the image shown as holding no objects, on purpose: an empty box list
        (detection; undecided drafts are dropped), all background (segmentation; a mask draft
        is dropped), or ``Instances.empty`` (instance segmentation). Refused while the image
        holds boxes, objects or painted pixels (``no_objects.refusal``).

        Parameters
        ----------
        image_id, shown : optional
            As for ``submit``.
        """
        task = self.dataset.task
        if task not in ("detect", "segment", "instances") or self.not_current(
            "submit", image_id, shown
        ):
            return None
        refused = no_objects.refusal(task, self.canvas)
        if refused:
            self.notices.say_error(refused)
            return None
        # On the pixels shown, as Enter's label: refused as it is on a photo changed since
        nothing, editor = no_objects.label(task, self.canvas), self.editor
        if task == "segment":
            return self.commit(nothing, shown=editor.shown_mask())
        # The drafts left undecided are dropped
        drafts = editor.shown_objects() if task == "instances" else editor.shown_drafts()
        return self.commit(nothing, shown=drafts, dropped=editor.undecided())

    def skip(self, image_id: int | None = None, shown: str | None = None) -> int | None:
        """Skip the image shown; it leaves the queue.

        Parameters
        ----------
        image_id, shown : optional
            As for ``submit``.
        """
        i = self.navigator.current
        if i is None or self.not_current("skip", image_id, shown):
            return None
        try:
            self.loop.skip(i)
            self.ledger.add(i, Made("skip", self.loop.made_here, None))
        except (ValueError, RuntimeError) as error:
            # An image already labeled, a closed loop: nothing was skipped, and the panel says why.
            self.notices.say_error(f"not skipped: {error}")
            return None
        self.navigator.advance()
        return i

    def undo(self) -> int | None:
        """Undo the last submit or skip and show that image again, its annotation to edit.

        An edit of that image made since an undo brought it back, held in this panel (shown or
        left unsaved), stays as the image's work: the label the undo takes back does not
        replace it, and redo, which would store that label over it, is refused in every panel
        on the loop (``loop.note_edited``). Enter stores the edit once the image is unlabeled.
        A label drawn on its photo before another program turned or replaced it is not shown
        (``Navigator.show``), and the error line says so in place of the undo's notice. An image
        that cannot be read (its file gone) is not undone: its label, or its skip, stays.
        """
        to_undo = self.loop.to_undo
        image = None
        if to_undo is not None:  # read before the undo: an image not shown keeps its label
            try:
                image = self.navigator.read_from_file(to_undo[1])  # not a copy of a gone file
            except ImageError as error:
                self.notices.say_error(image_notices.undo_unreadable(to_undo[0], str(error)))
                return None
        # The images this panel holds work on that some panel edited since their undo: undoing
        # a commit forgets that (``loop.undo``), so it is read before
        held = [j for j in (self.navigator.current, *self.editor.unsaved) if j is not None]
        noted = {j for j in held if self.loop.edited_since_undo(j)}
        try:
            with self.ledger.undoing():
                i = self.loop.undo()
        except (ValueError, IndexError, OSError, RuntimeError) as error:
            # A full disk (JournalError), a closed dataset: nothing was undone, and the
            # panel says why.
            self.notices.say_error(f"not undone: {error}")
            return None
        if i is None:
            self.notices.say_error("nothing to undo")
            return None
        self.notices.say_error("")
        undone, what = self.loop.undone, "skip"
        # Not this panel's own when its own commit or skip of image i still stands (the undo
        # took back a label a cell stored over it) or it has none
        outside = not self.ledger.undone_here(i, self.loop.in_force)
        kept = self.edited_since_undo(i) or (i in noted and self.holds_edit(i))
        self.navigator.leave()  # the work on the image shown is kept, even if it is image i
        back = None  # the label taken back, shown again to edit
        if undone is not None and undone.action == "commit" and undone.annotation is not None:
            what = "submit"
            if not kept:
                back = undone.annotation
                # On the pixels it was drawn on: not shown on its photo turned since (``show``)
                self.editor.unsaved[i] = from_annotation(
                    back, self.dataset.classes, self.loop.undone_drafts, self.loop.undone_drawn_in
                )
        if kept:
            self.loop.note_edited(i)  # a redo of what this undo took back would drop the edit
        read = image if to_undo is not None and to_undo[1] == i else None  # else undone elsewhere
        dropped = self.navigator.show(i, undone=back, image=read)
        if not kept and (what == "submit" or not self.loop.edited_since_undo(i)):
            self.undone_work[i] = self.editor.work()  # as the undo brought it back
        # else an edit of image i since an earlier undo, still to redo: the work it came back
        # with then stays, so that the edit is still one
        restored, labeled = self.navigator.restored, self.dataset.annotation(i)
        if back is None or not dropped:
            words = undo_notices.undid(
                what, i, restored, kept=kept, outside=outside, labeled=labeled
            )
            self.notices.say(words)
        elif outside:  # the error line says the undo, the notice whose label it took back
            self.notices.say(undo_notices.undid_outside_label(what, i))
        # else the error line says the undo and why its label is not back to edit: not that
        # Shift+Z redoes, as the loop refuses a label drawn on other pixels
        self.refresh_state()
        return i

    def redo(self) -> int | None:
        """Commit (or skip) again what the last ``undo`` took back; returns the image's index.

        A redone skip keeps the work on the image, as a skip does, and so is made again even when
        the image was edited since an undo; a redone commit drops it (the label stored is the
        work), and is refused when the image was edited since its undo.
        """
        undone = self.loop.undone
        if undone is None:
            self.notices.say_error("nothing to redo")
            return None
        j = undone.image_index
        edited = self.edited_since_undo(j) or self.loop.edited_since_undo(j)
        if undone.action == "commit" and edited:
            # As in any editor, an edit after an undo clears what redo would make again. Enter
            # stores the edit, unless the image is still labeled (the undo took back a commit
            # that replaced its label). A redone skip stores nothing and keeps the work on the
            # image, an edit included, so it is not refused.
            self.notices.say_error(
                image_notices.redo_refused_for_edit(j, self.dataset.annotation(j))
            )
            return None
        budget = self.budget.reached()
        if undone.action == "commit" and budget is not None:
            self.notices.say_error(f"not redone: {status.budget_words(budget)}")
            return None
        try:
            i = self.loop.redo()
        except (ValueError, IndexError, OSError, RuntimeError) as error:
            self.notices.say_error(f"not redone: {error}")  # nothing was redone (all or nothing)
            return None
        if i is None:
            self.notices.say_error("nothing to redo")
            return None
        self.ledger.add(i, Made(undone.action, self.loop.made_here, self.dataset.annotation(i)))
        what = "submit" if undone.action == "commit" else "skip"
        if what == "submit":
            self.forget(i)  # stored: the label is the work now
        # else a skip stores nothing: as ``skip`` does, the work on the image stays, and how an
        # undo brought it back, so that a later undo brings it back as it was, not as an edit
        self.notices.say_error("")
        if self.navigator.current == i:
            if what == "skip":
                self.navigator.leave()  # keeps the work on the canvas
            else:
                self.navigator.current = None
            self.navigator.advance()
        else:
            self.navigator.refresh_queue()
        self.notices.say(f"redid the {what} of image {i}")
        self.refresh_state()
        return i

    def forget(self, i: int) -> None:
        """Drop the work on image `i`, now labeled or skipped (a submit, a redone submit, or
        elsewhere), with how an undo brought it back: when a later undo brings the image back,
        an old record would count what it then shows as an edit, and refuse its redo.

        A skip in the panel, or its redo, keeps the work on the image, and so how it came back.

        Parameters
        ----------
        i : int
            A dataset index.
        """
        self.editor.unsaved.pop(i, None)
        self.undone_work.pop(i, None)

    def edited_since_undo(self, i: int) -> bool:
        """Whether image `i`, brought back by an undo in this panel, was edited since (on the
        canvas, in the picker), shown or left unsaved.

        Parameters
        ----------
        i : int
            The image ``loop.undone`` names.
        """
        return i in self.undone_work and self.holds_edit(i)

    def holds_edit(self, i: int) -> bool:
        """Whether this panel holds an edit of image `i`, shown or left unsaved: work that
        differs from how the panel's last undo of it brought it back or, where no undo here did,
        from how it was loaded (work left unsaved was kept because it differed).

        An image shown that opened from its label or the model's drafts, not from work left on
        it, holds an edit only once it differs from how it was loaded: the drafts a new
        threshold shows (``Editor.show_drafts``), or a new model's, are no edit.

        Parameters
        ----------
        i : int
            A dataset index.
        """
        editor, came_back = self.editor, self.undone_work.get(i)
        if self.navigator.current == i:
            fresh = came_back is None or not editor.from_work
            return editor.work() != (editor.loaded if fresh else came_back)
        now = editor.unsaved.get(i)
        return now is not None and (came_back is None or now != came_back)

    def note_edit(self) -> None:
        """After an edit of the image shown (on the canvas, in the picker): when an undo
        brought it back and it now differs from how it came back (or, brought back in another
        panel, from how it was loaded here), the loop is told, so that no panel on it redoes
        over the edit."""
        i = self.navigator.current
        if i is not None and not self.editor.loading and self.holds_edit(i):
            self.loop.note_edited(i)

    def continue_past_budget(self) -> None:
        """Go on labeling past the loop's budget, reached; the budget stays as it is."""
        budget = self.budget.go_past()
        if budget is None:
            return
        self.notices.say_error("")
        self.notices.say(f"labeling goes on past the budget of {budget} labels")
        self.refresh_state()
