//! gke-sim's listener takes a burst of connections as an API server does: a fleet run opens more
//! than tokio's default accept queue (128) at once, and none of them may wait for TCP's retry.
//! Linux only: elsewhere there is no `/proc/sys/net/core/somaxconn` and the kernel's limit is lower.
#![cfg(target_os = "linux")]

use std::net::TcpStream;
use std::time::Duration;

/// More connections than tokio's default queue (128), and fewer than Linux's somaxconn (4,096 since 5.4).
const BURST: usize = 1_500;

/// Lets this process hold `BURST` sockets: the soft limit of open files is often 1,024.
fn allow_open_files(n: u64) {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit read and write only the struct passed to them.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim), 0);
        if lim.rlim_cur < n {
            assert!(
                lim.rlim_max >= n,
                "this test holds {n} sockets; raise the hard limit of open files (ulimit -Hn)"
            );
            lim.rlim_cur = n;
            assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &lim), 0);
        }
    }
}

#[test]
fn a_burst_of_connections_is_queued_without_being_dropped() {
    assert_eq!(gke_sim::listen_backlog(Some("4096\n")), 4_096);
    assert_eq!(gke_sim::listen_backlog(Some("200000\n")), 200_000);
    assert_eq!(
        gke_sim::listen_backlog(Some("4294967295\n")),
        i32::MAX as u32,
        "listen(2) takes an int"
    );
    assert_eq!(gke_sim::listen_backlog(Some("0\n")), 4_096);
    assert_eq!(gke_sim::listen_backlog(None), 4_096);
    // Kernels before 5.4 keep 128: then this checks no more than that the whole queue is used.
    let somaxconn = std::fs::read_to_string("/proc/sys/net/core/somaxconn").ok();
    let burst = BURST
        .min(gke_sim::listen_backlog(somaxconn.as_deref()) as usize)
        .saturating_sub(8);
    allow_open_files(burst as u64 + 200);

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // Nobody accepts: every connection waits in the queue, as they do while a busy server catches up.
    let listener = rt.block_on(async { gke_sim::listen_loopback() }).unwrap();
    let addr = listener.local_addr().unwrap();
    let mut held = Vec::with_capacity(burst);
    for i in 0..burst {
        // A dropped SYN is sent again after a second; half of that is ample for a queued one.
        match TcpStream::connect_timeout(&addr, Duration::from_millis(500)) {
            Ok(s) => held.push(s),
            Err(e) => panic!(
                "connection {} of {burst} was not queued ({e}): the accept queue is too short",
                i + 1
            ),
        }
    }
    assert_eq!(held.len(), burst);
}
