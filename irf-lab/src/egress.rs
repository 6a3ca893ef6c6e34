//! An HTTP proxy on the host's loopback that lets a guest reach one address and nothing else,
//! as an instance behind an egress proxy reaches presigned URLs (CONNECT and absolute-form
//! requests; the guest sets `http_proxy`).

/// A running proxy (it serves until the process ends).
#[derive(Debug)]
pub struct EgressProxy {
    /// The loopback port it listens on.
    pub port: u16,
}

impl EgressProxy {
    /// Starts a proxy that connects only to `allowed` (`host:port`).
    pub async fn start(allowed: String) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    return;
                };
                let allowed = allowed.clone();
                tokio::spawn(async move {
                    if let Err(e) = serve(client, &allowed).await {
                        tracing::warn!("egress proxy: {e}");
                    }
                });
            }
        });
        Ok(EgressProxy { port })
    }
}

async fn serve(mut client: tokio::net::TcpStream, allowed: &str) -> std::io::Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if client.read(&mut byte).await? == 0 || head.len() > 64 << 10 {
            return Ok(());
        }
        head.push(byte[0]);
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    let mut words = text.split_whitespace();
    let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let authority = if method == "CONNECT" {
        target
    } else {
        target
            .strip_prefix("http://")
            .and_then(|rest| rest.split('/').next())
            .unwrap_or("")
    };
    if authority != allowed {
        tracing::warn!(%authority, "egress proxy: refused");
        client
            .write_all(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
            .await?;
        return Ok(());
    }
    let mut upstream = tokio::net::TcpStream::connect(allowed).await?;
    if method == "CONNECT" {
        client
            .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
            .await?;
    } else {
        // The emulator takes absolute-form requests as they are.
        upstream.write_all(&head).await?;
    }
    tokio::io::copy_bidirectional(&mut client, &mut upstream).await?;
    Ok(())
}
