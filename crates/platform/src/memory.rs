//! Gives the heap's free pages back to the operating system.
//!
//! glibc's allocator returns memory to the system only from the top of each arena, and a
//! multi-threaded runtime spreads allocations over many arenas. So after a burst (thousands of
//! subscribers connecting and leaving, a large page of results), the pages they used stay in the
//! process as free heap: measured in issue 13, `content` stayed at its peak after 5,000
//! subscribers had left. `malloc_trim(0)` walks every arena and releases each free page
//! (`madvise(MADV_DONTNEED)`), so RSS follows the live heap again within one period.

/// How often [`run_trim`] trims.
const TRIM_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

/// Trims every [`TRIM_EVERY`] until the task is dropped. Does nothing on a system whose C
/// library has no `malloc_trim` (it is a glibc extension).
pub async fn run_trim() {
    crate::periodic::run_every("heap trim", TRIM_EVERY, || async {
        trim();
        Ok::<(), std::convert::Infallible>(())
    })
    .await;
}

/// Releases the heap's free pages now; true when some memory was given back.
#[allow(unsafe_code)]
pub fn trim() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: malloc_trim has no preconditions; it takes the allocator's own locks.
        unsafe { libc::malloc_trim(0) == 1 }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}

#[cfg(all(test, target_os = "linux", target_env = "gnu"))]
mod tests {
    /// This process's resident set in KiB.
    fn rss_kib() -> u64 {
        let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
        let line = status.lines().find(|line| line.starts_with("VmRSS:")).expect("VmRSS");
        line.split_whitespace().nth(1).and_then(|kib| kib.parse().ok()).expect("a number")
    }

    #[test]
    fn freed_heap_pages_below_a_live_allocation_are_given_back_by_a_trim() {
        // 64 MiB in 4 KiB blocks (below the mmap threshold, so from the heap), touched so they
        // are resident, then one block allocated above them and kept: freeing the rest leaves a
        // hole that glibc's own top-of-heap trimming cannot return.
        let blocks: Vec<Vec<u8>> = (0..16_384).map(|i| vec![i as u8; 4096]).collect();
        let pin = vec![1u8; 4096];
        let full = rss_kib();
        drop(blocks);
        let freed = rss_kib();
        assert!(super::trim(), "the trim released memory");
        let trimmed = rss_kib();
        let report = format!("RSS {full} KiB full, {freed} KiB after free, {trimmed} KiB after the trim");
        assert!(full.saturating_sub(freed) < 16 * 1024, "free alone gave the memory back, so this test proves nothing: {report}");
        assert!(freed.saturating_sub(trimmed) > 48 * 1024, "the trim gave back most of the 64 MiB: {report}");
        drop(pin);
    }
}
