//! The capture loop against a local S3 stand-in: parts, retries, failures, digests (SHA-256 only:
//! the host computes no MD5).

mod common;

use std::io::Cursor;
use std::time::{Duration, Instant};

use common::{Script, Server, data, sha256_hex};
use irf_memdump::Error;
use irf_memdump::plan::{self, Plan, PlanLocation};
use irf_memdump::source::Source;
use irf_memdump::stream;
use irf_memdump::upload::{Client, RetryPolicy};

const MIB: usize = 1 << 20;
const PART: usize = 5 * MIB;

fn stream_source(data: &[u8], len_known: bool) -> Source {
    Source {
        kind: "file",
        reader: Box::new(Cursor::new(data.to_vec())),
        len: len_known.then_some(data.len() as u64),
        layout: None,
    }
}

fn fast_client() -> Client {
    Client::new(RetryPolicy {
        attempts: 5,
        first_backoff: Duration::from_millis(1),
    })
}

#[test]
fn parts_arrive_in_order_without_a_host_md5_and_a_503_is_retried() {
    let mut script = Script::default();
    script
        .statuses
        .insert(2, vec![(503, "<Error><Code>SlowDown</Code></Error>")]);
    let server = Server::start(script);
    let plan = Plan::from_json(&server.plan(PART as u64, 5)).unwrap();
    let image = data(3 * PART + 12_345, 7);

    let started = Instant::now();
    let outcome = stream::run(stream_source(&image, false), &plan, &Client::default()).unwrap();
    // The default policy waits 250 ms before the second attempt.
    assert!(started.elapsed() >= Duration::from_millis(250));

    assert_eq!(outcome.bytes, image.len() as u64);
    assert_eq!(sha256_hex(&image), hex::encode(outcome.digests.sha256));
    assert_eq!(outcome.parts.len(), 4);
    let receipts: Vec<(u32, &str, u32)> = outcome
        .parts
        .iter()
        .map(|r| (r.number, r.etag.as_str(), r.attempts))
        .collect();
    assert_eq!(
        receipts,
        vec![
            (1, "\"etag-1\"", 1),
            (2, "\"etag-2\"", 2),
            (3, "\"etag-3\"", 1),
            (4, "\"etag-4\"", 1)
        ]
    );

    let seen = server.seen();
    let order: Vec<(u32, u16)> = seen.iter().map(|s| (s.part().unwrap(), s.status)).collect();
    assert_eq!(
        order,
        vec![(1, 200), (2, 503), (2, 200), (3, 200), (4, 200)]
    );
    // The retry re-sent the same bytes; every accepted body is the right slice of the image.
    assert_eq!(seen[1].body, seen[2].body);
    let mut rebuilt = Vec::new();
    for s in seen.iter().filter(|s| s.status == 200) {
        assert_eq!(s.method, "PUT");
        assert_eq!(
            s.header("content-length"),
            Some(s.body.len().to_string().as_str())
        );
        // The MD5 is the verifying Lambda's (irf-memdump's hash module): no MD5 pass on the host.
        assert!(s.header("content-md5").is_none());
        assert!(
            s.headers.iter().all(|(n, _)| !n.starts_with("x-amz-")),
            "{:?}",
            s.headers
        );
        assert!(s.header("transfer-encoding").is_none());
        rebuilt.extend_from_slice(&s.body);
    }
    assert_eq!(rebuilt, image);
    assert_eq!(seen[3].body.len(), PART);
    assert_eq!(seen[4].body.len(), 12_345);
    assert_eq!(outcome.format, "raw");
}

#[test]
fn a_403_fails_at_once_with_status_and_body() {
    let mut script = Script::default();
    script.statuses.insert(
        1,
        vec![(
            403,
            "<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>",
        )],
    );
    let server = Server::start(script);
    let plan = Plan::from_json(&server.plan(PART as u64, 2)).unwrap();
    let e = stream::run(
        stream_source(&data(PART + 10, 1), true),
        &plan,
        &Client::default(),
    )
    .unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, Error::Upload { part: 1, .. }), "{e:?}");
    assert!(msg.contains("HTTP 403 Forbidden"), "{msg}");
    assert!(msg.contains("Request has expired"), "{msg}");
    assert_eq!(e.exit_code(), 1);
    // Not retried: the sink saw exactly one request (a count, not a wall-clock bound, which
    // failed on a loaded machine).
    assert_eq!(server.seen().len(), 1, "a 403 is not retried");
}

#[test]
fn error_bodies_are_cut_at_300_bytes_and_attempts_are_bounded() {
    let long: &'static str = Box::leak("x".repeat(1000).into_boxed_str());
    let mut script = Script::default();
    script.statuses.insert(1, vec![(500, long); 10]);
    let server = Server::start(script);
    let plan = Plan::from_json(&server.plan(PART as u64, 1)).unwrap();
    let e = stream::run(stream_source(&data(1000, 2), true), &plan, &fast_client()).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains(&format!(
            "HTTP 500 Internal Server Error: {}",
            "x".repeat(300)
        )),
        "{msg}"
    );
    assert!(!msg.contains(&"x".repeat(301)), "{msg}");
    assert!(msg.contains("gave up after 5 attempts"), "{msg}");
    assert_eq!(server.seen().len(), 5);
}

#[test]
fn a_429_is_retried() {
    let mut script = Script::default();
    script
        .statuses
        .insert(1, vec![(429, "slow down"), (429, "slow down")]);
    let server = Server::start(script);
    let plan = Plan::from_json(&server.plan(PART as u64, 1)).unwrap();
    let image = data(777, 3);
    let outcome = stream::run(stream_source(&image, true), &plan, &fast_client()).unwrap();
    assert_eq!(outcome.parts[0].attempts, 3);
    assert_eq!(
        server.seen().iter().map(|s| s.status).collect::<Vec<_>>(),
        vec![429, 429, 200]
    );
}

#[test]
fn connection_errors_are_retried_then_reported_without_the_signature() {
    // Nothing listens on this port.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/part/1?X-Amz-Signature=SECRETSIG");
    let json = serde_json::json!({"version": 1, "case_id": "c", "object_key": "k", "part_size": PART,
        "parts": [{"number": 1, "url": url}]});
    let plan = Plan::from_json(&json.to_string()).unwrap();
    let e = stream::run(stream_source(&data(10, 4), true), &plan, &fast_client()).unwrap_err();
    let msg = e.to_string();
    assert!(msg.starts_with("upload of part 1 failed: "), "{msg}");
    assert!(msg.contains("gave up after 5 attempts"), "{msg}");
    assert!(!msg.contains("SECRETSIG"), "{msg}");
}

#[test]
fn a_source_longer_than_the_plan_fails_saying_how_much_was_left() {
    let server = Server::start(Script::default());
    let plan = Plan::from_json(&server.plan(PART as u64, 2)).unwrap();
    let image = data(2 * PART + 100, 5);

    // Known length: refused before anything is read or sent.
    let e = stream::run(stream_source(&image, true), &plan, &fast_client()).unwrap_err();
    assert!(
        matches!(
            e,
            Error::SourceTooLong {
                left: 100,
                parts: 2,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(server.seen().is_empty());

    // Unknown length (a TCP stream): found out at the plan's last part, before it is sent.
    let e = stream::run(stream_source(&image, false), &plan, &fast_client()).unwrap_err();
    assert!(matches!(e, Error::SourceTooLong { left: 100, .. }), "{e:?}");
    assert!(e.to_string().contains("100 more bytes were left"), "{e}");
    assert_eq!(
        server
            .seen()
            .iter()
            .map(|s| s.part().unwrap())
            .collect::<Vec<_>>(),
        vec![1]
    );
}

#[test]
fn a_source_filling_the_plan_exactly_is_fine_and_unused_parts_stay_unused() {
    let server = Server::start(Script::default());
    let image = data(2 * PART, 6);
    let full = Plan::from_json(&server.plan(PART as u64, 2)).unwrap();
    let outcome = stream::run(stream_source(&image, false), &full, &fast_client()).unwrap();
    assert_eq!(
        (outcome.parts.len(), outcome.bytes),
        (2, image.len() as u64)
    );
    let roomy = Plan::from_json(&server.plan(PART as u64, 4)).unwrap();
    let outcome = stream::run(stream_source(&image, false), &roomy, &fast_client()).unwrap();
    assert_eq!(outcome.parts.len(), 2);
    assert_eq!(server.seen().len(), 4);
}

#[test]
fn an_empty_source_fails() {
    let server = Server::start(Script::default());
    let plan = Plan::from_json(&server.plan(PART as u64, 1)).unwrap();
    for known in [true, false] {
        let e = stream::run(stream_source(&[], known), &plan, &fast_client()).unwrap_err();
        assert!(matches!(e, Error::EmptySource), "{e:?}");
    }
    assert!(server.seen().is_empty());
}

#[test]
fn the_plan_is_fetched_by_url_and_lime_streams_are_recognised() {
    let mut server = Server::start(Script::default());
    let plan_json = server.plan(PART as u64, 3);
    // Restart with the plan served at /plan (the plan's URLs need the port, hence two servers).
    let script = Script {
        plan: Some(plan_json),
        ..Script::default()
    };
    let plan_server = Server::start(script);
    let plan = plan::load(&PlanLocation::Url(plan_server.url("/plan")), &fast_client()).unwrap();
    assert_eq!(plan.parts.len(), 3);

    // A LiME stream of two ranges, spanning a part boundary.
    let mut image = Vec::new();
    let a = irf_memdump::lime::Range {
        start: 0x1000,
        end: 0x1000 + PART as u64 - 1,
    };
    let b = irf_memdump::lime::Range {
        start: 0x10_0000_0000,
        end: 0x10_0000_0fff,
    };
    for r in [a, b] {
        image.extend_from_slice(&irf_memdump::lime::header(r));
        image.extend_from_slice(&data(usize::try_from(r.size()).unwrap(), r.start));
    }
    let outcome = stream::run(stream_source(&image, true), &plan, &fast_client()).unwrap();
    assert_eq!(outcome.format, "lime");
    assert_eq!(outcome.ranges, vec![a, b]);
    assert_eq!(outcome.lime_problem, None);

    // Truncated LiME: raw, with the problem reported.
    image.truncate(image.len() - 10);
    let outcome = stream::run(stream_source(&image, true), &plan, &fast_client()).unwrap();
    assert_eq!(outcome.format, "raw");
    assert!(outcome.lime_problem.unwrap().contains("10 bytes short"));
    server = plan_server;
    assert_eq!(server.seen().len(), 1);

    let e = plan::load(
        &PlanLocation::Url(server.url("/nothing?X-Amz-Signature=SECRETSIG")),
        &fast_client(),
    )
    .unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("HTTP 404"), "{msg}");
    assert!(!msg.contains("SECRETSIG"), "{msg}");
}
