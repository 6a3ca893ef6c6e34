//! Small local HTTP servers for the runtime tests: a scripted endpoint (a Slack webhook that
//! answers a given sequence of statuses) and a fault-injecting proxy in front of the emulator
//! (answers chosen AWS operations with an error, forwards everything else).
//!
//! These stand in for the outside world only where the emulator cannot misbehave on demand:
//! the handlers under test use their real HTTP client and the real AWS SDK.

#![allow(dead_code, unreachable_pub)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A request as the server saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The AWS operation: `Action=` of query protocols, or the `X-Amz-Target` suffix.
    pub fn operation(&self) -> Option<String> {
        if let Some(t) = self.header("x-amz-target") {
            return t.rsplit('.').next().map(str::to_owned);
        }
        self.text()
            .split('&')
            .find_map(|kv| kv.strip_prefix("Action="))
            .map(str::to_owned)
    }
}

/// A canned response.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn new(status: u16, body: &str) -> Self {
        Reply {
            status,
            headers: Vec::new(),
            body: body.as_bytes().to_vec(),
        }
    }

    pub fn header(mut self, k: &str, v: &str) -> Self {
        self.headers.push((k.to_owned(), v.to_owned()));
        self
    }
}

async fn read_request(stream: &mut TcpStream) -> Option<Seen> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_owned();
    let path = first.next()?.to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some(Seen {
        method,
        path,
        headers,
        body,
    })
}

async fn write_reply(stream: &mut TcpStream, r: &Reply) {
    let mut out = format!(
        "HTTP/1.1 {} X\r\ncontent-length: {}\r\nconnection: close\r\n",
        r.status,
        r.body.len()
    );
    for (k, v) in &r.headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    let _ = stream.write_all(out.as_bytes()).await;
    let _ = stream.write_all(&r.body).await;
    let _ = stream.shutdown().await;
}

/// An endpoint answering a script of replies in order (the last one repeats).
pub struct Scripted {
    pub url: String,
    pub seen: Arc<Mutex<Vec<Seen>>>,
}

impl Scripted {
    pub async fn start(script: Vec<Reply>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let script = Arc::new(Mutex::new(VecDeque::from(script)));
        tokio::spawn(async move {
            loop {
                let Ok((mut stream, _)) = listener.accept().await else {
                    return;
                };
                let log = log.clone();
                let script = script.clone();
                tokio::spawn(async move {
                    let Some(req) = read_request(&mut stream).await else {
                        return;
                    };
                    log.lock().unwrap().push(req);
                    let reply = {
                        let mut s = script.lock().unwrap();
                        if s.len() > 1 {
                            s.pop_front()
                        } else {
                            s.front().cloned()
                        }
                    };
                    write_reply(&mut stream, &reply.unwrap_or_else(|| Reply::new(200, "ok"))).await;
                });
            }
        });
        Scripted { url, seen }
    }

    pub fn requests(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

/// A fault to inject: the `nth` (1-based) call of `operation` gets `reply` instead of being
/// forwarded. `operation` is an operation name (query and JSON protocols) or, starting with
/// `/`, a request path prefix (REST protocols).
#[derive(Clone, Debug)]
pub struct Fault {
    pub operation: String,
    pub nth: usize,
    pub reply: Reply,
}

/// A proxy in front of the emulator that injects faults.
pub struct FaultProxy {
    pub url: String,
    pub seen: Arc<Mutex<Vec<Seen>>>,
}

impl FaultProxy {
    pub async fn start(upstream: &str, faults: Vec<Fault>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let upstream = upstream.trim_end_matches('/').to_owned();
        let faults = Arc::new(faults);
        let http = reqwest::Client::new();
        tokio::spawn(async move {
            loop {
                let Ok((mut stream, _)) = listener.accept().await else {
                    return;
                };
                let (log, faults, http, upstream) =
                    (log.clone(), faults.clone(), http.clone(), upstream.clone());
                tokio::spawn(async move {
                    let Some(req) = read_request(&mut stream).await else {
                        return;
                    };
                    let op = req.operation().unwrap_or_default();
                    let op = faults
                        .iter()
                        .find(|f| {
                            f.operation.starts_with('/') && req.path.starts_with(&f.operation)
                        })
                        .map_or(op, |f| f.operation.clone());
                    let nth = {
                        let mut l = log.lock().unwrap();
                        l.push(req.clone());
                        l.iter()
                            .filter(|r| {
                                r.operation().as_deref() == Some(op.as_str())
                                    || (op.starts_with('/') && r.path.starts_with(&op))
                            })
                            .count()
                    };
                    if let Some(f) = faults.iter().find(|f| f.operation == op && f.nth == nth) {
                        write_reply(&mut stream, &f.reply).await;
                        return;
                    }
                    let method =
                        reqwest::Method::from_bytes(req.method.as_bytes()).expect("method");
                    let mut forward = http.request(method, format!("{upstream}{}", req.path));
                    for (k, v) in &req.headers {
                        if !k.eq_ignore_ascii_case("host")
                            && !k.eq_ignore_ascii_case("content-length")
                        {
                            forward = forward.header(k, v);
                        }
                    }
                    let reply = match forward.body(req.body.clone()).send().await {
                        Ok(resp) => {
                            let status = resp.status().as_u16();
                            let headers = resp
                                .headers()
                                .iter()
                                .filter(|(k, _)| {
                                    !matches!(
                                        k.as_str(),
                                        "content-length" | "connection" | "transfer-encoding"
                                    )
                                })
                                .map(|(k, v)| {
                                    (k.to_string(), v.to_str().unwrap_or_default().to_owned())
                                })
                                .collect();
                            let body = resp.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
                            Reply {
                                status,
                                headers,
                                body,
                            }
                        }
                        Err(e) => Reply::new(502, &format!("proxy: {e}")),
                    };
                    write_reply(&mut stream, &reply).await;
                });
            }
        });
        FaultProxy { url, seen }
    }

    /// Operations seen, in order.
    pub fn operations(&self) -> Vec<String> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .map(|r| r.operation().unwrap_or_default())
            .collect()
    }
}

/// An EC2 (query protocol) error reply.
pub fn ec2_error(status: u16, code: &str, message: &str) -> Reply {
    Reply::new(
        status,
        &format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors><RequestID>fault</RequestID></Response>"
        ),
    )
    .header("content-type", "text/xml")
}
