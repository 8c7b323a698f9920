//! Routes libtest's stdout through the live view when both share a terminal: fd 1 becomes a
//! pipe, and a thread writes each complete line to the real stdout while the bars are
//! suspended, so a bar redraw never overwrites a `test … ok` line.

use indicatif::MultiProgress;

#[cfg(unix)]
mod imp {
    use std::fs::File;
    use std::io::{BufRead, BufReader, Write};
    use std::os::fd::{AsRawFd, FromRawFd};

    use indicatif::MultiProgress;

    pub struct StdoutRedirect {
        saved: File,
        forwarder: std::thread::JoinHandle<()>,
    }

    impl StdoutRedirect {
        pub fn start(multi: MultiProgress) -> std::io::Result<Self> {
            let (reader, writer) = std::io::pipe()?;
            std::io::stdout().flush()?;
            // SAFETY: `dup` and `dup2` only take integer descriptors; fd 1 is open (we just
            // flushed it), `saved` is checked and owned by the File built from it.
            let saved = unsafe { libc::dup(1) };
            if saved < 0 {
                return Err(std::io::Error::last_os_error());
            }
            // SAFETY: `saved` is a fresh descriptor nothing else owns.
            let saved = unsafe { File::from_raw_fd(saved) };
            // SAFETY: both descriptors are open; fd 1 now refers to the pipe.
            if unsafe { libc::dup2(writer.as_raw_fd(), 1) } < 0 {
                return Err(std::io::Error::last_os_error());
            }
            drop(writer); // fd 1 is the pipe's only write end now
            let mut out = saved.try_clone()?;
            let forwarder = std::thread::spawn(move || {
                let mut reader = BufReader::new(reader);
                let mut line = Vec::new();
                loop {
                    line.clear();
                    match reader.read_until(b'\n', &mut line) {
                        Ok(0) | Err(_) => break,
                        Ok(_) => {
                            // Every complete line already buffered goes out in the same
                            // suspend: one redraw of the bars for a burst of lines, not one
                            // per line (10,000 lines would mean 10,000 redraws).
                            let buffered = reader.buffer();
                            if let Some(end) = buffered.iter().rposition(|&b| b == b'\n') {
                                line.extend_from_slice(&buffered[..=end]);
                                reader.consume(end + 1);
                            }
                            multi.suspend(|| {
                                let _ = out.write_all(&line);
                                let _ = out.flush();
                            });
                        }
                    }
                }
            });
            Ok(StdoutRedirect { saved, forwarder })
        }

        pub fn restore(self) {
            let _ = std::io::stdout().flush();
            // SAFETY: `saved` is open; this closes the pipe's write end (fd 1) so the
            // forwarder drains what is left and stops.
            unsafe { libc::dup2(self.saved.as_raw_fd(), 1) };
            let _ = self.forwarder.join();
        }
    }
}

#[cfg(not(unix))]
mod imp {
    use indicatif::MultiProgress;

    pub struct StdoutRedirect;

    impl StdoutRedirect {
        pub fn start(_multi: MultiProgress) -> std::io::Result<Self> {
            Err(std::io::Error::other(
                "stdout redirection needs a Unix system",
            ))
        }

        pub fn restore(self) {}
    }
}

/// Whether this platform can route stdout through the view.
pub fn supported() -> bool {
    cfg!(unix)
}

/// An active redirection of fd 1; [`StdoutRedirect::restore`] gives it back.
pub struct StdoutRedirect(imp::StdoutRedirect);

impl StdoutRedirect {
    /// Redirects stdout into the view's line forwarder.
    pub fn start(multi: MultiProgress) -> std::io::Result<Self> {
        imp::StdoutRedirect::start(multi).map(StdoutRedirect)
    }

    /// Puts the original stdout back and waits until every line was forwarded.
    pub fn restore(self) {
        self.0.restore();
    }
}
