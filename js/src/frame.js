// One render per animation frame: a view asks for a render each time its text grows, and the
// render runs once, on the next frame. The markdown and structured views share it.

/**
 * How a view defers its render: `schedule` as the view was given it (a function: tests and
 * benchmarks drive the frames; null: render at once), else requestAnimationFrame where there is
 * one, else at once.
 * @param {((cb: () => void) => unknown) | null | undefined} schedule
 * @returns {((cb: () => void) => unknown) | null}
 */
export function frameScheduler(schedule) {
  if (schedule !== undefined) return schedule;
  return typeof requestAnimationFrame === "function" ? (cb) => requestAnimationFrame(cb) : null;
}

/**
 * A render asked for any number of times before the next frame, done once on that frame.
 * `pending` stays true until the render clears it, so a render done early (a view's `flush()`)
 * makes the frame's call a no-op.
 */
export class FrameRender {
  /**
   * @param {() => void} render  draws, and sets `pending` back to false
   * @param {((cb: () => void) => unknown) | null | undefined} schedule  see frameScheduler
   */
  constructor(render, schedule) {
    this._render = render;
    this._schedule = frameScheduler(schedule);
    this.pending = false;
  }

  request() {
    if (this.pending) return;
    this.pending = true;
    if (this._schedule) this._schedule(this._render);
    else this._render();
  }
}
