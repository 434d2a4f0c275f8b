import type { ServerProcess } from '../server-process.js';

/**
 * The server's fake clock as a test sees it: `advance` moves the server's clock (PAIRWISE_TEST_CLOCK)
 * and this one together, and clients made with `now` sign their authentications with the server's
 * time, so that they can still connect after days have passed on the server. A server restarted
 * starts its clock again from the real time: call `reset` then.
 */
export class TestClock {
  private offsetMs = 0;

  constructor(private readonly server: () => ServerProcess) {}

  /** The server's time as this test moved it. */
  readonly now = (): number => Date.now() + this.offsetMs;

  async advance(ms: number): Promise<void> {
    await this.server().advanceClock(ms);
    this.offsetMs += ms;
  }

  /** After a server restart, whose clock starts from the real time again. */
  reset(): void {
    this.offsetMs = 0;
  }
}
