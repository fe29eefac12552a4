/**
 * Watches the page's frames while it runs and keeps the longest gap between two: what a user
 * feels as a stutter in drawing or scrolling while a model trains.
 */
export class FrameGaps {
  #handle = 0;
  #last = 0;
  #longest = 0;

  start(): void {
    this.#longest = 0;
    this.#last = performance.now();
    const tick = (now: number) => {
      this.#longest = Math.max(this.#longest, now - this.#last);
      this.#last = now;
      this.#handle = requestAnimationFrame(tick);
    };
    this.#handle = requestAnimationFrame(tick);
  }

  /** Stops watching; returns the longest gap seen, in milliseconds. */
  stop(): number {
    cancelAnimationFrame(this.#handle);
    return Math.max(this.#longest, performance.now() - this.#last);
  }
}
