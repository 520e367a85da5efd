//! The real server's sockets against slow and hostile clients: headers that
//! never end, bodies that stop, bodies announced larger than the limit, and
//! hundreds of such connections at once. Timeouts are set to a second, and
//! each test waits several times longer before it calls a connection held.

use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Child;
use std::time::{Duration, Instant};

const TOKEN: &str = "limits-test-admin";
/// The server's header and body timeouts in these tests, in seconds.
const TIMEOUT: &str = "1";
/// How long a test waits for what the timeout should bring.
const WAIT: Duration = Duration::from_secs(8);

struct Server {
    child: Child,
    addr: String,
    _dir: tempfile::TempDir,
}

impl Server {
    fn start() -> Server {
        let dir = tempfile::tempdir().unwrap();
        let (child, base) = crate::common::spawn_serve(
            dir.path(),
            TOKEN,
            &["--header-timeout", TIMEOUT, "--body-timeout", TIMEOUT],
        );
        Server {
            child,
            addr: base.trim_start_matches("http://").to_string(),
            _dir: dir,
        }
    }

    fn connect(&self) -> TcpStream {
        let s = TcpStream::connect(&self.addr).unwrap();
        s.set_read_timeout(Some(WAIT)).unwrap();
        s
    }

    /// A whole request on a fresh connection: the status and the body.
    fn ask(&self, request: &str) -> (u16, Value) {
        let mut s = self.connect();
        s.write_all(request.as_bytes()).unwrap();
        let (status, body) = read_answer(&mut s);
        (status, serde_json::from_str(&body).unwrap_or(Value::Null))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Read an HTTP/1.1 answer to its end (the server closes or the body is
/// complete): the status and the body.
fn read_answer(s: &mut TcpStream) -> (u16, String) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        match s.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) => panic!("no answer within {WAIT:?}: {e}"),
        }
        let text = String::from_utf8_lossy(&buf);
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().to_string())
                })
                .and_then(|v| v.parse::<usize>().ok());
            if length.is_some_and(|n| body.len() >= n) {
                break;
            }
        }
    }
    let text = String::from_utf8_lossy(&buf).to_string();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {text:?}"));
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

/// Whether the server closes the connection within [`WAIT`], sending
/// nothing (or only an error status) first.
fn closed_by_server(s: &mut TcpStream) -> bool {
    let started = Instant::now();
    let mut chunk = [0u8; 1024];
    loop {
        match s.read(&mut chunk) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
            Err(_) => return started.elapsed() < WAIT,
        }
    }
}

#[test]
fn headers_that_never_end_and_idle_connections_are_closed() {
    let server = Server::start();
    // A request line and half the headers, then nothing.
    let mut slow = server.connect();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    // Nothing at all.
    let mut idle = server.connect();
    assert!(closed_by_server(&mut slow), "slow headers held open");
    assert!(closed_by_server(&mut idle), "idle connection held open");
}

#[test]
fn hundreds_of_slow_connections_are_all_closed_and_the_server_answers() {
    let server = Server::start();
    let mut held: Vec<TcpStream> = (0..300)
        .map(|_| {
            let mut s = server.connect();
            s.write_all(b"GET /healthz HTTP/1.1\r\nX-Slow: ").unwrap();
            s
        })
        .collect();
    // Meanwhile the server answers others.
    let (status, _) = server.ask("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_eq!(status, 200);
    let open = held.iter_mut().map(closed_by_server).filter(|c| !c).count();
    assert_eq!(open, 0, "{open} of 300 slow connections held open");
}

#[test]
fn a_body_that_stops_gets_408() {
    let server = Server::start();
    let mut s = server.connect();
    s.write_all(
        format!(
            "POST /v1/records/check HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n\
             Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"fie"
        )
        .as_bytes(),
    )
    .unwrap();
    let (status, body) = read_answer(&mut s);
    assert_eq!(status, 408, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["error"]["code"], "request_timeout");
}

#[test]
fn a_body_announced_over_the_limit_is_refused_at_once() {
    let server = Server::start();
    // No byte of the body is ever sent: the answer cannot be waiting for it.
    let (status, v) = server.ask(&format!(
        "POST /v1/records HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n\
         Content-Type: application/json\r\nContent-Length: 99999999999\r\n\r\n"
    ));
    assert_eq!(status, 413, "{v}");
    assert_eq!(v["error"]["code"], "payload_too_large");
    let (status, v) = server.ask(&format!(
        "POST /v1/imports HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n\
         Content-Type: text/csv\r\nContent-Length: 99999999999\r\n\r\n"
    ));
    assert_eq!(status, 413, "{v}");
}

#[test]
fn an_over_long_request_line_gets_414_in_the_error_shape() {
    let server = Server::start();
    let (status, v) = server.ask(&format!(
        "GET /v1/records?q={} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "a".repeat(20_000)
    ));
    assert_eq!(status, 414, "{v}");
    assert_eq!(v["error"]["code"], "uri_too_long");
}
