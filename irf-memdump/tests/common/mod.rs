//! Test helpers: a recording HTTP/1.1 server standing in for S3, plan builders, data generators.
#![allow(dead_code, unreachable_pub)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use base64::Engine as _;
use md5::{Digest as _, Md5};

/// One request as the server saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub path: String,
    /// Header names lower-cased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The status the server answered.
    pub status: u16,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The part number of a `/part/N` PUT.
    pub fn part(&self) -> Option<u32> {
        self.path
            .strip_prefix("/part/")?
            .split('?')
            .next()?
            .parse()
            .ok()
    }
}

/// What the server answers for a part: a list of statuses to give for its successive attempts
/// (after the list, 200).
#[derive(Clone, Debug, Default)]
pub struct Script {
    pub statuses: HashMap<u32, Vec<(u16, &'static str)>>,
    /// Served at GET /plan.
    pub plan: Option<String>,
    /// Statuses for `PUT /symbols/<name>` (absent: 200).
    pub symbol_statuses: HashMap<String, u16>,
}

pub struct Server {
    pub port: u16,
    pub seen: Arc<Mutex<Vec<Seen>>>,
}

impl Server {
    pub fn start(script: Script) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let attempts = Arc::new(Mutex::new(HashMap::<u32, usize>::new()));
        let script = Arc::new(script);
        let log = Arc::clone(&seen);
        thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { return };
                let (log, attempts, script) =
                    (Arc::clone(&log), Arc::clone(&attempts), Arc::clone(&script));
                thread::spawn(move || serve(conn, &log, &attempts, &script));
            }
        });
        Server { port, seen }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// A presigned-looking part URL.
    pub fn part_url(&self, n: u32) -> String {
        self.url(&format!(
            "/part/{n}?partNumber={n}&uploadId=u-1&X-Amz-Signature=SECRETSIG"
        ))
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// The plan JSON for `parts` parts of `part_size`.
    pub fn plan(&self, part_size: u64, parts: u32) -> String {
        let parts: Vec<serde_json::Value> = (1..=parts)
            .map(|n| serde_json::json!({"number": n, "url": self.part_url(n)}))
            .collect();
        serde_json::json!({
            "version": 1, "case_id": "case-1", "object_key": "cases/case-1/memory.lime",
            "part_size": part_size, "parts": parts,
        })
        .to_string()
    }
}

fn serve(
    conn: TcpStream,
    log: &Mutex<Vec<Seen>>,
    attempts: &Mutex<HashMap<u32, usize>>,
    script: &Script,
) {
    conn.set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut conn = conn;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut words = line.split_whitespace();
        let method = words.next().unwrap_or_default().to_string();
        let path = words.next().unwrap_or_default().to_string();
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            reader.read_line(&mut h).unwrap();
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            let (n, v) = h.split_once(':').unwrap();
            headers.push((n.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
        let get = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
        };
        let len: usize = get("content-length").map_or(0, |v| v.parse().unwrap());
        let mut body = vec![0u8; len];
        reader.read_exact(&mut body).unwrap();
        let mut seen = Seen {
            method: method.clone(),
            path: path.clone(),
            headers: headers.clone(),
            body,
            status: 200,
        };

        let (status, reply): (u16, String) = if method == "GET" && path == "/plan" {
            match &script.plan {
                Some(p) => (200, p.clone()),
                None => (404, "no plan".into()),
            }
        } else if method == "PUT" && path.starts_with("/symbols/") {
            let name = path["/symbols/".len()..]
                .split('?')
                .next()
                .unwrap_or_default();
            match script.symbol_statuses.get(name) {
                Some(&status) => (status, "<Error><Code>AccessDenied</Code></Error>".into()),
                None => (200, String::new()),
            }
        } else if method == "PUT" && seen.part().is_some() {
            let n = seen.part().unwrap();
            let attempt = {
                let mut a = attempts.lock().unwrap();
                let e = a.entry(n).or_insert(0);
                *e += 1;
                *e - 1
            };
            let scripted = script
                .statuses
                .get(&n)
                .and_then(|s| s.get(attempt))
                .copied();
            // S3 checks a Content-MD5 when one is sent.
            let md5_ok = get("content-md5").is_none_or(|sent| {
                sent == base64::engine::general_purpose::STANDARD.encode(Md5::digest(&seen.body))
            });
            if let Some((status, body)) = scripted {
                (status, body.to_string())
            } else if get("transfer-encoding").is_some() || get("content-length").is_none() {
                (
                    411,
                    "<Error><Code>MissingContentLength</Code></Error>".into(),
                )
            } else if !md5_ok {
                (400, "<Error><Code>BadDigest</Code></Error>".into())
            } else {
                (200, String::new())
            }
        } else {
            (404, "not found".into())
        };
        seen.status = status;
        let etag = format!("\"etag-{}\"", seen.part().unwrap_or(0));
        log.lock().unwrap().push(seen);
        let head = format!(
            "HTTP/1.1 {status} X\r\nETag: {etag}\r\nContent-Length: {}\r\n\r\n",
            reply.len()
        );
        if conn
            .write_all(head.as_bytes())
            .and_then(|_| conn.write_all(reply.as_bytes()))
            .is_err()
        {
            return;
        }
    }
}

/// `len` bytes of non-trivial data: a xorshift stream with zero runs.
pub fn data(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        if x.is_multiple_of(16) {
            out.extend(std::iter::repeat_n(0u8, (x >> 40) as usize % 5000));
        }
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

pub fn sha256_hex(b: &[u8]) -> String {
    hex::encode(irf_memdump::hash::sha256(b))
}
