//! The C allocator's arenas. glibc gives each thread that allocates an arena of its own, up to
//! eight per core, and what a thread frees stays in its arena for that arena's next requests.
//! Each SQLite connection runs on a thread of its own (sqlx), and a chart that sorts hundreds of
//! thousands of rows leaves tens of MiB in its connection's arena that no other thread reuses:
//! 200 charts grouped by id over 1,000,000 charges grew the server by 111 MiB. With one arena
//! per core the threads share what was freed (BENCHMARKS.md, "Query").

/// Bounds glibc's arenas to one per core. Called first thing, before the runtime's threads.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub fn share_arenas_between_threads() {
    let arenas = libc::c_int::try_from(crate::parallel::cores().max(2)).unwrap_or(libc::c_int::MAX);
    // SAFETY: mallopt sets one of glibc's allocator parameters and takes no pointers; glibc
    // makes it safe to call at any time (arenas made before keep serving their threads).
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, arenas);
    }
}

/// Other allocators keep their own policy.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn share_arenas_between_threads() {}
