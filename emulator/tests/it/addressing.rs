//! How requests find their project: Host with and without port, absolute-form targets (HTTP
//! proxy), project-less CreateProject, both loopbacks.

use std::io::{Read, Write};
use std::net::TcpStream;

use serde_json::json;
use sls_emulator::testing::TestServer;

use crate::support::{Client, Req};

/// Sends raw HTTP/1.1 bytes and returns (status, body).
fn raw(addr: std::net::SocketAddr, request: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    let text = String::from_utf8_lossy(&out).to_string();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    (status, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_forms_and_absolute_targets_reach_the_project() {
    let server = TestServer::start_with(|c| c.auth = sls_emulator::config::AuthMode::Off)
        .await
        .unwrap();
    let c = Client::new(&server);
    // Rust/Node style: CreateProject on the bare endpoint, name in the body.
    c.send(Req::new("POST", None, "/").json(json!({"projectName": "addr-proj"})))
        .await
        .assert_ok();
    let addr = server.addr();
    let port = addr.port();
    let tests = [
        // Python style: no port in Host.
        "GET /logstores HTTP/1.1\r\nHost: addr-proj.localhost\r\nConnection: close\r\n\r\n".to_string(),
        // Rust/Node style: with the port.
        format!("GET /logstores HTTP/1.1\r\nHost: addr-proj.localhost:{port}\r\nConnection: close\r\n\r\n"),
        // Python's raw-IP mode.
        "GET /logstores HTTP/1.1\r\nHost: addr-proj.127.0.0.1\r\nConnection: close\r\n\r\n".to_string(),
        // Through HTTP_PROXY: absolute-form target.
        format!("GET http://addr-proj.sls.test:{port}/logstores HTTP/1.1\r\nHost: addr-proj.sls.test:{port}\r\nConnection: close\r\n\r\n"),
        // Node appends a bare `?`.
        format!("GET /logstores? HTTP/1.1\r\nHost: addr-proj.localhost:{port}\r\nConnection: close\r\n\r\n"),
    ];
    for req in tests {
        let (status, body) = tokio::task::spawn_blocking(move || raw(addr, &req))
            .await
            .unwrap();
        assert_eq!(status, 200, "{body}");
        assert!(body.contains("\"total\":0"), "{body}");
    }
    // The bare endpoint lists projects.
    let (status, body) = tokio::task::spawn_blocking(move || {
        raw(
            addr,
            &format!("GET / HTTP/1.1\r\nHost: localhost:{port}\r\nConnection: close\r\n\r\n"),
        )
    })
    .await
    .unwrap();
    assert_eq!(status, 200);
    assert!(body.contains("addr-proj"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listens_on_ipv6_loopback_too() {
    let server = TestServer::start_with(|c| c.auth = sls_emulator::config::AuthMode::Off)
        .await
        .unwrap();
    let v6 = server.config().bind.iter().any(|ip| ip.is_ipv6());
    assert!(v6, "default config binds ::1");
    let port = server.port();
    let six: std::net::SocketAddr = format!("[::1]:{port}").parse().unwrap();
    // Machines without IPv6 loopback skip the second listener (with a warning); wherever ::1
    // can be bound, the emulator must be listening on it.
    if std::net::TcpListener::bind("[::1]:0").is_err() {
        eprintln!("skipped: no IPv6 loopback on this machine");
        return;
    }
    let (status, _) = tokio::task::spawn_blocking(move || {
        raw(
            six,
            "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        )
    })
    .await
    .unwrap();
    assert_eq!(status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extra_ports_serve_the_same_emulator() {
    // A port that was free a moment ago (an extra port must be fixed, not 0).
    let extra = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let server = TestServer::start_with(|c| {
        c.auth = sls_emulator::config::AuthMode::Off;
        c.extra_ports = vec![extra];
    })
    .await
    .unwrap();
    assert_ne!(server.port(), extra, "the endpoint keeps the main port");
    let c = Client::new(&server);
    c.send(Req::new("POST", None, "/").json(json!({"projectName": "extra-port"})))
        .await
        .assert_ok();
    // Java style: no port in the Host, the request on the extra port sees the same store.
    let addr: std::net::SocketAddr = format!("127.0.0.1:{extra}").parse().unwrap();
    let (status, body) = tokio::task::spawn_blocking(move || {
        raw(
            addr,
            "GET /logstores HTTP/1.1\r\nHost: extra-port.localhost\r\nConnection: close\r\n\r\n",
        )
    })
    .await
    .unwrap();
    assert_eq!(status, 200, "{body}");
    // The main port is refused as an extra port.
    let dup = TestServer::start_with(|c| {
        c.port = 18999;
        c.extra_ports = vec![18999];
    })
    .await;
    assert!(dup.is_err());
}
