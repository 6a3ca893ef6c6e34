//! Where the image comes from: `kcore`, `file:<PATH>` or `tcp:<HOST>:<PORT>`.

use std::fs::File;
use std::io::{self, Read};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::thread;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::kcore::{self, Layout};

/// How long a `tcp:` source is retried while LiME's module starts listening.
pub const CONNECT_WINDOW: Duration = Duration::from_secs(30);
/// Pause between connect attempts.
const CONNECT_PAUSE: Duration = Duration::from_millis(250);

/// A `--source` value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SourceSpec {
    /// Physical RAM through /proc/kcore and /proc/iomem, framed as LiME.
    Kcore,
    /// A file (a LiME image or any raw stream), passed through unchanged.
    File(PathBuf),
    /// A TCP server (LiME's `path=tcp:PORT` mode), read until EOF and passed through unchanged.
    Tcp {
        /// Host name or address (IPv6 without brackets).
        host: String,
        /// TCP port LiME listens on (`path=tcp:PORT`).
        port: u16,
    },
}

impl SourceSpec {
    /// The name used in the result: `kcore`, `file` or `tcp`.
    pub fn kind(&self) -> &'static str {
        match self {
            SourceSpec::Kcore => "kcore",
            SourceSpec::File(_) => "file",
            SourceSpec::Tcp { .. } => "tcp",
        }
    }
}

impl FromStr for SourceSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        if s == "kcore" {
            return Ok(SourceSpec::Kcore);
        }
        if let Some(path) = s.strip_prefix("file:") {
            if path.is_empty() {
                return Err("file: needs a path, e.g. file:/dev/shm/mem.lime".into());
            }
            return Ok(SourceSpec::File(PathBuf::from(path)));
        }
        if let Some(rest) = s.strip_prefix("tcp:") {
            let (host, port) = rest.rsplit_once(':').ok_or_else(|| {
                format!("tcp source {s:?} needs tcp:<HOST>:<PORT>, e.g. tcp:127.0.0.1:4444")
            })?;
            let host = host.trim_start_matches('[').trim_end_matches(']');
            if host.is_empty() {
                return Err(format!("tcp source {s:?} has no host"));
            }
            let port: u16 = port
                .parse()
                .ok()
                .filter(|p| *p != 0)
                .ok_or_else(|| format!("tcp source {s:?}: port {port:?} is not 1-65535"))?;
            return Ok(SourceSpec::Tcp {
                host: host.to_string(),
                port,
            });
        }
        Err(format!(
            "unknown source {s:?}: use kcore, file:<PATH> or tcp:<HOST>:<PORT>"
        ))
    }
}

/// An opened source.
pub struct Source {
    /// `kcore`, `file` or `tcp`.
    pub kind: &'static str,
    /// The image bytes.
    pub reader: Box<dyn Read>,
    /// The image length when known in advance (kcore, regular files).
    pub len: Option<u64>,
    /// For kcore: the LiME ranges and the skipped RAM.
    pub layout: Option<Layout>,
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Source")
            .field("kind", &self.kind)
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

/// Opens `spec`; `kcore` and `iomem` are the files the kcore source reads.
pub fn open(spec: &SourceSpec, kcore_path: &Path, iomem_path: &Path) -> Result<Source> {
    match spec {
        SourceSpec::Kcore => {
            let (reader, layout) = kcore::open(kcore_path, iomem_path)?;
            Ok(Source {
                kind: spec.kind(),
                reader: Box::new(reader),
                len: Some(layout.image_len()),
                layout: Some(layout),
            })
        }
        SourceSpec::File(path) => {
            let file_err = |source| Error::File {
                path: path.clone(),
                source,
            };
            let file = File::open(path).map_err(file_err)?;
            let meta = file.metadata().map_err(file_err)?;
            let len = meta.is_file().then_some(meta.len());
            Ok(Source {
                kind: spec.kind(),
                reader: Box::new(file),
                len,
                layout: None,
            })
        }
        SourceSpec::Tcp { host, port } => {
            let stream = connect_with_retry(host, *port, CONNECT_WINDOW)?;
            Ok(Source {
                kind: spec.kind(),
                reader: Box::new(stream),
                len: None,
                layout: None,
            })
        }
    }
}

/// Connects to `host:port`, retrying refused or failed connects every 250 ms for `window`.
pub fn connect_with_retry(host: &str, port: u16, window: Duration) -> Result<TcpStream> {
    let addr = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let deadline = Instant::now() + window;
    loop {
        let attempt = (host, port).to_socket_addrs().and_then(|addrs| {
            let mut last = io::Error::new(io::ErrorKind::NotFound, "no address");
            for a in addrs {
                match TcpStream::connect_timeout(&a, Duration::from_secs(5)) {
                    Ok(s) => return Ok(s),
                    Err(e) => last = e,
                }
            }
            Err(last)
        });
        match attempt {
            Ok(stream) => return Ok(stream),
            Err(e) if Instant::now() + CONNECT_PAUSE >= deadline => {
                return Err(Error::Connect {
                    addr,
                    seconds: window.as_secs(),
                    source: e,
                });
            }
            Err(_) => thread::sleep(CONNECT_PAUSE),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sources() {
        assert_eq!("kcore".parse(), Ok(SourceSpec::Kcore));
        assert_eq!(
            "file:/x/y.lime".parse(),
            Ok(SourceSpec::File("/x/y.lime".into()))
        );
        assert_eq!(
            "tcp:127.0.0.1:4444".parse(),
            Ok(SourceSpec::Tcp {
                host: "127.0.0.1".into(),
                port: 4444
            })
        );
        assert_eq!(
            "tcp:[::1]:4444".parse(),
            Ok(SourceSpec::Tcp {
                host: "::1".into(),
                port: 4444
            })
        );
        for bad in [
            "",
            "kcore2",
            "file:",
            "tcp:4444",
            "tcp::4444",
            "tcp:h:0",
            "tcp:h:70000",
            "lime",
        ] {
            assert!(bad.parse::<SourceSpec>().is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn tcp_connect_waits_for_the_listener() {
        // Reserve a port, free it, and start listening on it only after a delay.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let server = thread::spawn(move || {
            thread::sleep(Duration::from_millis(600));
            let l = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
            let (mut s, _) = l.accept().unwrap();
            io::Write::write_all(&mut s, b"late").unwrap();
        });
        let mut s = connect_with_retry("127.0.0.1", port, Duration::from_secs(10)).unwrap();
        let mut got = String::new();
        s.read_to_string(&mut got).unwrap();
        assert_eq!(got, "late");
        server.join().unwrap();
    }

    #[test]
    fn tcp_connect_gives_up_after_the_window() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let t = Instant::now();
        let e = connect_with_retry("127.0.0.1", port, Duration::from_millis(600)).unwrap_err();
        assert!(t.elapsed() < Duration::from_secs(5));
        assert!(
            e.to_string()
                .starts_with(&format!("cannot connect to 127.0.0.1:{port} within 0 s")),
            "{e}"
        );
    }
}
