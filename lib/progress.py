"""The clock of a training run (a TrainerCallback): measured seconds and tokens per step, evaluations and
checkpoint saves, the epoch and run ETA on the progress bar, and the `max_hours` cap.

lib.train adds one RunClock to every run; its summary() lands in malbeot.json and, for 03's pilots, in
winner.json, from which lib.plan.eta predicts the next run before it starts.
"""
from __future__ import annotations

import math
import time

from lib.plan import duration


def _noop(*args, **kwargs):
    return None


class RunClock:
    """Duck-typed transformers.TrainerCallback (transformers only calls `on_*` methods), so importing lib.train
    stays light. Needs `include_num_input_tokens_seen="non_padding"` in the training arguments to count tokens.

    A step is timed from on_step_begin to on_step_end (forward, backward, optimizer; not the evaluation or the
    checkpoint that may follow it); an evaluation from the end of its step to on_evaluate, a save from there
    to on_save. The ETA uses the wall-clock rate since the run (re)started, so evaluations are amortized."""

    def __init__(self, max_hours: float | None = None, refresh_seconds: float = 5.0):
        if max_hours is not None and not max_hours > 0:
            raise ValueError(f"max_hours={max_hours!r}: expected a positive number of hours or null")
        self.max_hours = max_hours
        self.refresh_seconds = refresh_seconds
        self.steps: list[tuple[float, int]] = []   # (seconds, non-padding tokens) per optimizer step
        self.evals: list[float] = []
        self.saves: list[float] = []
        self.stopped_by: str | None = None
        self.text = ""
        self.handler = None                          # the trainer's CallbackHandler (to find the progress bar)
        self.steps_per_epoch = None
        self._t0 = self._mark = self._step_t = None
        self._tokens = self._step0 = 0
        self._shown = 0.0

    def __getattr__(self, name):
        if name.startswith("on_"):
            return _noop
        raise AttributeError(name)

    def attach(self, trainer) -> RunClock:
        """Add the clock after the progress callback, so it can write on the bar that callback just drew."""
        trainer.add_callback(self)
        self.handler = trainer.callback_handler
        return self

    # -- events --------------------------------------------------------------------------------------------
    def on_train_begin(self, args, state, control, train_dataloader=None, **kwargs):
        self._t0 = self._mark = time.perf_counter()
        self._step0 = state.global_step
        if train_dataloader is not None and hasattr(train_dataloader, "__len__"):
            self.steps_per_epoch = max(1, math.ceil(len(train_dataloader) / args.gradient_accumulation_steps))

    def on_step_begin(self, args, state, control, **kwargs):
        self._step_t = time.perf_counter()
        self._tokens = state.num_input_tokens_seen

    def on_step_end(self, args, state, control, **kwargs):
        now = time.perf_counter()
        if self._step_t is not None:
            self.steps.append((now - self._step_t, int(state.num_input_tokens_seen - self._tokens)))
        self._mark = now
        self.text = self.eta_text(state, now)
        self._show(now)
        if self.max_hours and now - self._t0 >= self.max_hours * 3600 and not state.global_step >= state.max_steps:
            # stop cleanly: evaluate and checkpoint this step, so the best adapter so far is what gets saved
            self.stopped_by = f"max_hours {self.max_hours:g} reached at step {state.global_step} of {state.max_steps}"
            control.should_training_stop = True
            control.should_evaluate = str(getattr(args, "eval_strategy", "no")).endswith("steps") or control.should_evaluate
            control.should_save = True
        return control

    def on_evaluate(self, args, state, control, **kwargs):
        if self._t0 is not None and self._mark is not None:   # not the evaluations before/after training
            now = time.perf_counter()
            self.evals.append(now - self._mark)
            self._mark = now

    def on_save(self, args, state, control, **kwargs):
        if self._t0 is not None and self._mark is not None:
            now = time.perf_counter()
            self.saves.append(now - self._mark)
            self._mark = now

    def on_train_end(self, args, state, control, **kwargs):
        self._t0 = self._mark = None

    # -- what it tells ---------------------------------------------------------------------------------------
    def eta_text(self, state, now: float) -> str:
        done = state.global_step - self._step0
        if done <= 0 or self._t0 is None:
            return ""
        rate = (now - self._t0) / done               # wall seconds per step, evaluations and saves included
        left = max(0, state.max_steps - state.global_step) * rate
        if self.max_hours:
            left = min(left, max(0.0, self.max_hours * 3600 - (now - self._t0)))
        parts = []
        if self.steps_per_epoch:
            spe = self.steps_per_epoch
            epoch = math.ceil(state.global_step / spe)
            epoch_end = min(epoch * spe, state.max_steps)
            parts.append(f"epoch {epoch}/{math.ceil(state.max_steps / spe)} ends in "
                         f"{duration((epoch_end - state.global_step) * rate)}")
        parts.append(f"run ends in {duration(left)}" + (f" (max_hours {self.max_hours:g})" if self.max_hours else ""))
        return " · ".join(parts)

    def _show(self, now: float) -> None:
        if not self.handler or not self.text:
            return
        for cb in self.handler.callbacks:
            bar = getattr(cb, "training_bar", None)          # tqdm (terminal): a postfix, drawn with the bar
            if bar is not None:
                bar.set_postfix_str(self.text, refresh=False)
            tracker = getattr(cb, "training_tracker", None)  # Jupyter: the HTML bar, redrawn at most every few s
            if tracker is not None and getattr(tracker, "value", None) is not None \
                    and now - self._shown >= self.refresh_seconds:
                self._shown = now
                base = (tracker.comment or "").split(" · ")[0]
                tracker.update(tracker.value, force_update=True, comment=f"{base} · {self.text}")

    def summary(self) -> dict:
        """Throughput of the training steps (the first one, which pays for warm-up, left out when there are
        more than two), seconds per evaluation and per checkpoint save, and why the run stopped early."""
        steady = self.steps[1:] if len(self.steps) > 2 else self.steps
        seconds = sum(s for s, _ in steady)
        tokens = sum(t for _, t in steady)
        return {
            "steps_timed": len(steady),
            "seconds_per_step": round(seconds / len(steady), 4) if steady else None,
            "tokens_per_second": round(tokens / seconds, 1) if seconds > 0 and tokens else None,
            "train_tokens": sum(t for _, t in self.steps),
            "eval_seconds_each": round(sum(self.evals) / len(self.evals), 2) if self.evals else None,
            "save_seconds_each": round(sum(self.saves) / len(self.saves), 2) if self.saves else None,
            "stopped_by": self.stopped_by,
        }

