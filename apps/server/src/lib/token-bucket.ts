/**
 * A token bucket: `ratePerSecond` tokens a second, at most `burst` saved up. Time comes from `now`
 * (milliseconds), so a test drives it with its own clock.
 */
export interface TokenBucket {
  /** Whole tokens there now. */
  available(): number;
  /** Spends `n` tokens (no more than `available()` said). */
  spend(n: number): void;
  /** Milliseconds until `n` tokens are there (0 when they are). */
  waitMs(n?: number): number;
  setRate(ratePerSecond: number): void;
  readonly rate: number;
}

export function createTokenBucket(ratePerSecond: number, now: () => number): TokenBucket {
  let rate = ratePerSecond;
  // A second's worth may be saved up: enough to start a round at full speed, never a stampede.
  const burst = () => Math.max(1, rate);
  let tokens = burst();
  let at = now();
  const refill = () => {
    const t = now();
    tokens = Math.min(burst(), tokens + ((t - at) / 1000) * rate);
    at = t;
  };
  return {
    available() {
      refill();
      return Math.floor(tokens);
    },
    spend(n) {
      tokens -= n;
    },
    waitMs(n = 1) {
      refill();
      return tokens >= n ? 0 : Math.ceil(((n - tokens) / rate) * 1000);
    },
    setRate(next) {
      refill();
      rate = next;
      tokens = Math.min(tokens, burst());
    },
    get rate() {
      return rate;
    },
  };
}
