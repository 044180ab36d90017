//! Postfix's `smtp-sink` (a discard SMTP server) as a child process, for load figures, and
//! where to find Postfix's other tools (`smtp-source`).

use std::{
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::Duration,
};

use crate::closed_port;

/// `tool` on `PATH`, or in Postfix's directories (`/usr/sbin`, `/usr/lib/postfix/sbin`).
pub fn find_tool(tool: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .chain([
            PathBuf::from("/usr/sbin"),
            PathBuf::from("/usr/lib/postfix/sbin"),
        ])
        .map(|d| d.join(tool))
        .find(|p| p.is_file())
}

/// `smtp-sink` listening on 127.0.0.1; killed when dropped.
#[derive(Debug)]
pub struct SmtpSink {
    child: Child,
    port: u16,
}

impl SmtpSink {
    /// Starts `smtp-sink` on a free port (backlog 1000) and waits until it accepts
    /// connections; the error says why not (not installed, did not start).
    pub fn start() -> Result<Self, String> {
        let path = find_tool("smtp-sink").ok_or("smtp-sink: not found (install postfix)")?;
        let port = closed_port();
        let mut command = Command::new(&path);
        // As root, smtp-sink insists on dropping privileges.
        let root = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| o.stdout.trim_ascii() == b"0");
        if root {
            command.args(["-u", "nobody"]);
        }
        let child = command
            .args(["-c", &format!("127.0.0.1:{port}"), "1000"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("{}: {e}", path.display()))?;
        let sink = Self { child, port };
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok(sink);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err(format!("{} did not start", path.display()))
    }

    /// The port it listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
