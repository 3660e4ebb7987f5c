//! The reconnection backoff: how long the client waits before each reconnection attempt.
//! I/O free.
//!
//! The spec says nothing about reconnection; this is the official client's formula (its
//! `Backoff`): for the attempt counted from 0, the delay is `reconnection_delay · 2^attempt`,
//! moved by `floor(rand · randomization_factor · delay)` up or down (the direction from the
//! same random number), then capped at `reconnection_delay_max`. The cap comes after the jitter,
//! so from some attempt on the delay is exactly the cap.

use std::time::Duration;

/// A source of random numbers in `[0, 1)`, injectable so that tests are deterministic.
pub trait RandomSource: Send + 'static {
    /// The next number, in `[0, 1)`.
    fn next_unit(&mut self) -> f64;
}

/// The default source: a xorshift generator seeded from the operating system.
#[derive(Debug, Clone)]
pub struct SystemRandom {
    state: u64,
}

impl Default for SystemRandom {
    fn default() -> Self {
        let mut seed = [0_u8; 8];
        // Without the operating system's randomness the jitter is still jitter, only predictable:
        // fall back to the clock.
        if getrandom::fill(&mut seed).is_err() {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |elapsed| elapsed.as_nanos());
            seed = (nanos as u64).to_le_bytes();
        }
        SystemRandom {
            state: u64::from_le_bytes(seed) | 1,
        }
    }
}

impl RandomSource for SystemRandom {
    fn next_unit(&mut self) -> f64 {
        // xorshift64*
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        let value = self.state.wrapping_mul(0x2545_F491_4F6C_DD1D);
        (value >> 11) as f64 / (1_u64 << 53) as f64
    }
}

/// The backoff's parameters, in the official client's names.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BackoffConfig {
    /// `reconnectionDelay`: the first delay. Default 1000 ms.
    pub reconnection_delay: Duration,
    /// `reconnectionDelayMax`: the cap. Default 5000 ms.
    pub reconnection_delay_max: Duration,
    /// `randomizationFactor`: the jitter, 0 to 1. Default 0.5.
    pub randomization_factor: f64,
}

impl Default for BackoffConfig {
    fn default() -> Self {
        BackoffConfig {
            reconnection_delay: Duration::from_millis(1000),
            reconnection_delay_max: Duration::from_millis(5000),
            randomization_factor: 0.5,
        }
    }
}

/// The backoff state: the number of attempts made since the last reset.
pub struct Backoff {
    config: BackoffConfig,
    attempts: u32,
    random: Box<dyn RandomSource>,
}

impl std::fmt::Debug for Backoff {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Backoff")
            .field("config", &self.config)
            .field("attempts", &self.attempts)
            .finish_non_exhaustive()
    }
}

impl Backoff {
    /// A backoff with no attempt made yet.
    pub fn new(config: BackoffConfig, random: Box<dyn RandomSource>) -> Backoff {
        Backoff {
            config,
            attempts: 0,
            random,
        }
    }

    /// The attempts made since the last reset: the number of the attempt the last
    /// [`Backoff::next_delay`] was for, counted from 1.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// The delay before the next attempt, counting it.
    pub fn next_delay(&mut self) -> Duration {
        let min = self.config.reconnection_delay.as_millis() as f64;
        let max = self.config.reconnection_delay_max.as_millis() as f64;
        let exponent = i32::try_from(self.attempts).unwrap_or(i32::MAX);
        self.attempts = self.attempts.saturating_add(1);
        let mut delay = min * 2_f64.powi(exponent);
        let factor = self.config.randomization_factor.clamp(0.0, 1.0);
        if factor > 0.0 {
            let rand = self.random.next_unit().clamp(0.0, 1.0);
            let deviation = (rand * factor * delay).floor();
            // The official formula takes the direction from the same number: the parity of
            // floor(rand · 10).
            let downwards = ((rand * 10.0).floor() as u64) & 1 == 0;
            delay = if downwards {
                delay - deviation
            } else {
                delay + deviation
            };
        }
        let capped = delay.min(max).max(0.0);
        Duration::from_millis(if capped.is_finite() { capped as u64 } else { 0 })
    }

    /// Starts counting from the first attempt again: after a successful reconnection.
    pub fn reset(&mut self) {
        self.attempts = 0;
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Yields the numbers given, in turn.
    struct Fixed(Vec<f64>, usize);

    impl RandomSource for Fixed {
        fn next_unit(&mut self) -> f64 {
            let value = self.0[self.1 % self.0.len()];
            self.1 += 1;
            value
        }
    }

    fn backoff(random: Vec<f64>) -> Backoff {
        Backoff::new(BackoffConfig::default(), Box::new(Fixed(random, 0)))
    }

    fn millis(delay: Duration) -> u128 {
        delay.as_millis()
    }

    #[test]
    fn delays_double_and_are_capped() {
        // rand 0 gives no deviation: 1000, 2000, 4000, then the cap.
        let mut backoff = backoff(vec![0.0]);
        let delays: Vec<_> = (0..6).map(|_| millis(backoff.next_delay())).collect();
        assert_eq!(delays, [1000, 2000, 4000, 5000, 5000, 5000]);
        assert_eq!(backoff.attempts(), 6);
    }

    #[test]
    fn jitter_direction_comes_from_the_same_number() {
        // 0.25: floor(2.5) = 2 is even, so down by floor(0.25 · 0.5 · 1000) = 125.
        assert_eq!(millis(backoff(vec![0.25]).next_delay()), 875);
        // 0.35: floor(3.5) = 3 is odd, so up by floor(0.35 · 0.5 · 1000) = 175.
        assert_eq!(millis(backoff(vec![0.35]).next_delay()), 1175);
    }

    #[test]
    fn the_cap_applies_after_the_jitter() {
        // Attempt 3 (4000 ms) moved up by 0.95 · 0.5 · 4000 = 1900 is capped at 5000.
        let mut backoff = backoff(vec![0.0, 0.0, 0.95]);
        backoff.next_delay();
        backoff.next_delay();
        assert_eq!(millis(backoff.next_delay()), 5000);
    }

    #[test]
    fn reset_starts_again_from_the_first_delay() {
        let mut backoff = backoff(vec![0.0]);
        backoff.next_delay();
        backoff.next_delay();
        backoff.reset();
        assert_eq!(backoff.attempts(), 0);
        assert_eq!(millis(backoff.next_delay()), 1000);
    }

    #[test]
    fn a_zero_factor_has_no_jitter() {
        let config = BackoffConfig {
            randomization_factor: 0.0,
            ..BackoffConfig::default()
        };
        let mut backoff = Backoff::new(config, Box::new(Fixed(vec![0.99], 0)));
        assert_eq!(millis(backoff.next_delay()), 1000);
    }

    #[test]
    fn system_random_stays_in_the_unit_interval() {
        let mut random = SystemRandom::default();
        assert!((0..1000)
            .map(|_| random.next_unit())
            .all(|x| (0.0..1.0).contains(&x)));
    }
}
