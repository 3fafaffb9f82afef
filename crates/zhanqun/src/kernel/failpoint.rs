//! Failure injection for the crash tests: `ZHANQUN_FAILPOINTS=after_commit` makes the
//! process kill itself (SIGKILL, no cleanup, no flush) at that point, as a power cut or an
//! OOM kill would. Unset in production, where [`hit`] is one relaxed load.

use std::sync::OnceLock;

fn armed() -> &'static [String] {
    static ARMED: OnceLock<Vec<String>> = OnceLock::new();
    ARMED.get_or_init(|| {
        std::env::var("ZHANQUN_FAILPOINTS")
            .map(|v| v.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect())
            .unwrap_or_default()
    })
}

/// Dies here when the failpoint `name` is armed.
pub fn hit(name: &str) {
    if armed().iter().any(|a| a == name) {
        eprintln!("failpoint {name}: killing the process");
        // SAFETY: getpid and kill have no preconditions; SIGKILL ends the process at once.
        unsafe {
            libc::kill(libc::getpid(), libc::SIGKILL);
        }
        std::process::abort();
    }
}
