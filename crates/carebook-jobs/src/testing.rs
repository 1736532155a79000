//! Test servers that speak the real protocols, for this crate's and the binary's tests:
//! [`smtp_sink`] accepts mail on 127.0.0.1 and keeps what it received; [`twilio_server`],
//! [`fcm_server`] and [`webhook_receiver`] are HTTP servers in the wire formats of Twilio's
//! Messages API, FCM HTTP v1 (with an OAuth 2 token endpoint that checks the service
//! account's signed assertion) and Carebook's signed webhook.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// A message the sink accepted: the envelope and the raw DATA.
#[derive(Debug, Clone)]
pub struct Received {
    pub to: Vec<String>,
    pub data: String,
}

/// An SMTP server that accepts every message, except for the mailboxes it is told to refuse.
pub struct Sink {
    pub addr: SocketAddr,
    pub received: Arc<Mutex<Vec<Received>>>,
}

pub async fn smtp_sink(refuse: &'static [&'static str]) -> Sink {
    slow_smtp_sink(refuse, std::time::Duration::ZERO).await
}

/// [`smtp_sink`] that waits `delay` before accepting each message, like a busy server.
pub async fn slow_smtp_sink(refuse: &'static [&'static str], delay: std::time::Duration) -> Sink {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let received = Arc::new(Mutex::new(vec![]));
    let store = received.clone();
    tokio::spawn(async move {
        loop {
            let Ok((socket, _)) = listener.accept().await else {
                return;
            };
            let store = store.clone();
            tokio::spawn(async move {
                let (r, mut w) = socket.into_split();
                let mut lines = BufReader::new(r).lines();
                let _ = w.write_all(b"220 sink ESMTP\r\n").await;
                let mut to = vec![];
                while let Ok(Some(line)) = lines.next_line().await {
                    let upper = line.to_uppercase();
                    let reply: &[u8] = if upper.starts_with("EHLO") {
                        b"250-sink\r\n250 8BITMIME\r\n"
                    } else if upper.starts_with("HELO")
                        || upper.starts_with("MAIL FROM")
                        || upper.starts_with("RSET")
                        || upper.starts_with("NOOP")
                    {
                        b"250 OK\r\n"
                    } else if upper.starts_with("RCPT TO") {
                        let rcpt = line[8..]
                            .trim()
                            .trim_start_matches('<')
                            .trim_end_matches('>')
                            .to_owned();
                        if refuse.iter().any(|r| rcpt.contains(r)) {
                            b"550 5.1.1 no such mailbox\r\n"
                        } else {
                            to.push(rcpt);
                            b"250 OK\r\n"
                        }
                    } else if upper == "DATA" {
                        let _ = w.write_all(b"354 go ahead\r\n").await;
                        let mut data = String::new();
                        while let Ok(Some(l)) = lines.next_line().await {
                            if l == "." {
                                break;
                            }
                            data.push_str(&l);
                            data.push('\n');
                        }
                        if !delay.is_zero() {
                            tokio::time::sleep(delay).await;
                        }
                        store.lock().unwrap().push(Received {
                            to: std::mem::take(&mut to),
                            data,
                        });
                        b"250 2.0.0 queued\r\n"
                    } else if upper.starts_with("QUIT") {
                        let _ = w.write_all(b"221 bye\r\n").await;
                        return;
                    } else {
                        b"502 not implemented\r\n"
                    };
                    if w.write_all(reply).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    Sink { addr, received }
}

pub use crate::testing_http::*;
