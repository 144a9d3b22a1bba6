//! Password policy and argon2id hashing.

use super::ContentError;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::Semaphore;

/// A password that meets the policy: 8–128 characters with at least one letter and one digit.
pub struct Password(String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

impl Password {
    /// Checks the policy.
    pub fn parse(raw: &str) -> Result<Password, ContentError> {
        let length = raw.chars().count();
        let has_letter = raw.chars().any(char::is_alphabetic);
        let has_digit = raw.chars().any(|c| c.is_ascii_digit());
        if (8..=128).contains(&length) && has_letter && has_digit {
            Ok(Password(raw.to_owned()))
        } else {
            Err(ContentError::InvalidInput("A password has 8 to 128 characters with at least one letter and one digit.".into()))
        }
    }

    /// The argon2id PHC string to store.
    pub fn hash(&self) -> Result<String, ContentError> {
        let salt = SaltString::generate(&mut OsRng);
        hasher()
            .hash_password(self.0.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|e| ContentError::internal(anyhow::anyhow!("argon2: {e}")))
    }
}

/// argon2id with OWASP's second recommended setting (19 MiB, 2 passes, 1 lane).
fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Whether `candidate` matches the stored PHC string. Hashing is CPU-heavy: call it from a
/// blocking task.
pub fn verify(candidate: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|hash| hasher().verify_password(candidate.as_bytes(), &hash).is_ok())
}

/// Where argon2 runs: on blocking threads, at most `permits` hashes at a time.
///
/// Each hash holds 19 MiB and a core for tens of milliseconds, and `spawn_blocking` alone
/// would start as many as arrive (its pool has 512 threads): a burst of registrations or
/// logins would take gigabytes. With the permits sized to the cores, a burst waits its turn
/// instead, holding only a queued task each. Every register and login of the process goes
/// through the one [`hashing`] pool.
#[derive(Debug, Clone)]
pub struct HashingPool {
    permits: Arc<Semaphore>,
    size: usize,
    in_flight: Arc<AtomicUsize>,
    peak: Arc<AtomicUsize>,
}

impl HashingPool {
    /// A pool running at most `permits` (at least 1) hashes at once.
    pub fn new(permits: usize) -> HashingPool {
        let size = permits.max(1);
        HashingPool {
            permits: Arc::new(Semaphore::new(size)),
            size,
            in_flight: Arc::new(AtomicUsize::new(0)),
            peak: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// How many hashes may run at once.
    pub fn size(&self) -> usize {
        self.size
    }

    /// The most hashes that ever ran at once in this pool (never above [`HashingPool::size`]).
    pub fn peak_in_flight(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }

    /// Runs `work` (a hash or a verification) on a blocking thread once a permit is free.
    pub async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, ContentError> {
        let permit = Arc::clone(&self.permits).acquire_owned().await.map_err(ContentError::internal)?;
        let (in_flight, peak) = (Arc::clone(&self.in_flight), Arc::clone(&self.peak));
        tokio::task::spawn_blocking(move || {
            let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(now, Ordering::SeqCst);
            let result = work();
            in_flight.fetch_sub(1, Ordering::SeqCst);
            // Released on the blocking thread, after the work: the bound holds even when the
            // awaiting request was cancelled meanwhile.
            drop(permit);
            result
        })
        .await
        .map_err(ContentError::internal)
    }
}

/// The process's one hashing pool, one permit per core (`std::thread::available_parallelism`).
pub fn hashing() -> &'static HashingPool {
    static POOL: std::sync::OnceLock<HashingPool> = std::sync::OnceLock::new();
    POOL.get_or_init(|| HashingPool::new(std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)))
}

/// A hash of a random password, verified against when the login names no account, so a
/// missing account takes as long as a wrong password.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| Password("decoy-password-1".into()).hash().unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_needs_length_a_letter_and_a_digit() {
        assert!(Password::parse("abcdefg1").is_ok());
        for weak in ["short1", "abcdefgh", "12345678", ""] {
            assert!(Password::parse(weak).is_err(), "{weak:?} should be weak");
        }
    }

    #[test]
    fn hashes_verify_only_the_right_password() {
        let hash = Password::parse("correct horse 1").expect("valid").hash().expect("hash");
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify("correct horse 1", &hash));
        assert!(!verify("correct horse 2", &hash));
        assert!(!verify("anything", "not a hash"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn the_hashing_pool_never_runs_more_hashes_than_its_permits() {
        let pool = HashingPool::new(2);
        let password = Password::parse("correct horse 1").expect("valid");
        let hash = std::sync::Arc::new(password.hash().expect("hash"));
        let burst = (0..12).map(|n| {
            let (pool, hash) = (pool.clone(), std::sync::Arc::clone(&hash));
            tokio::spawn(async move { pool.run(move || verify(if n % 2 == 0 { "correct horse 1" } else { "wrong" }, &hash)).await })
        });
        let results = futures::future::join_all(burst).await;
        let matches = results.into_iter().map(|joined| joined.expect("joined").expect("ran")).filter(|ok| *ok).count();
        assert_eq!(matches, 6);
        assert!(pool.peak_in_flight() >= 1 && pool.peak_in_flight() <= 2, "peak {}", pool.peak_in_flight());
    }
}
