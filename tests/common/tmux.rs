//! A real terminal for the interactive tests: a detached tmux session on its own server socket.

use std::process::Command;
use std::time::{Duration, Instant};

use super::{TestWorld, BIN};

pub struct Tmux {
    socket: String,
    /// How long [`Tmux::wait_for`] waits for a text to appear.
    patience: Duration,
}

impl Tmux {
    /// A detached 220x60 session running the plugin with `args` and the world's environment (and
    /// nothing else); the pane stays open after it exits, showing `EXIT=<status>`.
    pub fn start(w: &TestWorld, tag: &str, args: &str, patience: Duration) -> Tmux {
        let env: String = w.envs().iter().map(|(k, v)| format!("{k}='{v}' ")).collect();
        let t = Tmux {
            socket: format!("kasten-ilb-test-{tag}-{}", std::process::id()),
            patience,
        };
        let cmd = format!("env -i {env} {BIN} {args}; echo EXIT=$?; sleep 30");
        t.run(&["new-session", "-d", "-s", "t", "-x", "220", "-y", "60", &cmd]);
        t
    }

    pub fn run(&self, args: &[&str]) -> String {
        let o = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux");
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    /// Type `keys` (tmux key names: `Enter`, `C-c`, `Down`, or text).
    pub fn keys(&self, keys: &[&str]) {
        let mut a = vec!["send-keys", "-t", "t"];
        a.extend_from_slice(keys);
        self.run(&a);
    }

    pub fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-J", "-S", "-300", "-t", "t"])
    }

    pub fn wait_for(&self, text: &str) -> String {
        let end = Instant::now() + self.patience;
        loop {
            let s = self.screen();
            if s.contains(text) {
                return s;
            }
            assert!(Instant::now() < end, "`{text}` never appeared on:\n{s}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .arg("kill-server")
            .output();
    }
}
