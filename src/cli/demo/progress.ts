/**
 * A progress display for long CLI runs: on a terminal, one line redrawn in place (a bar, counts,
 * the current step); otherwise — a pipe, a CI log — plain lines, one per step and at each 10 % of
 * a count, so logs stay readable.
 */
export class Progress {
  private step = '';
  private total = 0;
  private done = 0;
  private lastDecile = -1;
  private drawn = false;

  constructor(private readonly out: NodeJS.WriteStream = process.stderr) {}

  private get tty(): boolean {
    return this.out.isTTY === true;
  }

  /** Starts a step, with a count to fill (0: no bar). */
  begin(step: string, total = 0): void {
    this.end();
    this.step = step;
    this.total = total;
    this.done = 0;
    this.lastDecile = -1;
    if (!this.tty) this.out.write(`${step}${total ? ` (${total})` : ''}\n`);
    else this.draw();
  }

  /** `n` more items of the step are done. */
  tick(n = 1): void {
    this.done = Math.min(this.total, this.done + n);
    if (this.tty) {
      this.draw();
      return;
    }
    const decile = this.total ? Math.floor((this.done * 10) / this.total) : 0;
    if (decile > this.lastDecile && decile > 0) {
      this.lastDecile = decile;
      this.out.write(`  ${this.done}/${this.total}\n`);
    }
  }

  /** A line of its own (keeps the bar below it on a terminal). */
  note(text: string): void {
    if (this.tty && this.drawn) this.out.write('\r\x1b[2K');
    this.out.write(`${text}\n`);
    if (this.tty && this.drawn) this.draw();
  }

  /** Finishes the current bar. */
  end(): void {
    if (this.tty && this.drawn) this.out.write('\n');
    this.drawn = false;
  }

  private draw(): void {
    const width = 30;
    const filled = this.total ? Math.round((this.done / this.total) * width) : 0;
    const bar = this.total
      ? `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${this.done}/${this.total} `
      : '';
    this.out.write(`\r\x1b[2K${bar}${this.step}`);
    this.drawn = true;
  }
}
