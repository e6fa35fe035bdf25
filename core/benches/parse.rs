//! Parsing a `Basic` `Authorization` header: endpoint-auth against the `headers` crate's
//! `Authorization<Basic>` and `http-auth-basic`, measured side by side in one run.
//!
//! Run with `cargo bench -p endpoint-auth --bench parse`.
#![allow(missing_docs)] // criterion's macros generate undocumented items

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use endpoint_auth::{parse::parse_value, ParseOptions};
use headers::authorization::Basic;
use headers::{Authorization, Header};
use http::HeaderValue;

/// The seed's header: `user123@gmail.com:mySuperS3cretPassw0rd`.
const VALID: &str = "Basic dXNlcjEyM0BnbWFpbC5jb206bXlTdXBlclMzY3JldFBhc3N3MHJk";
/// The same with a stray `!` after the token.
const MALFORMED: &str = "Basic dXNlcjEyM0BnbWFpbC5jb206bXlTdXBlclMzY3JldFBhc3N3MHJk!";
/// Accented letters in both parts, UTF-8: `jos\u{e9}@example.com:caf\u{e9}-cr\u{e8}me`.
const NON_ASCII: &str = "Basic am9zw6lAZXhhbXBsZS5jb206Y2Fmw6ktY3LDqG1l";
/// A 200-byte credential, such as an API token used as the password: `api-client:kkk…`.
const LONG: &str = "Basic YXBpLWNsaWVudDpra2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2s=";

fn parse(c: &mut Criterion) {
    let options = ParseOptions::new();
    for (name, text) in [
        ("valid", VALID),
        ("malformed", MALFORMED),
        ("non_ascii", NON_ASCII),
        ("long", LONG),
    ] {
        let value = HeaderValue::from_static(text);
        // Each peer measured on the path the name says: accepted, or refused.
        let accepted = name != "malformed";
        assert_eq!(parse_value(value.as_bytes(), &options).is_ok(), accepted);
        assert_eq!(
            Authorization::<Basic>::decode(&mut std::iter::once(&value)).is_ok(),
            accepted
        );
        let mut group = c.benchmark_group(format!("parse_{name}"));
        // Both are handed the same opaque `&HeaderValue`, and take its bytes themselves.
        group.bench_function("endpoint-auth", |b| {
            b.iter(|| parse_value(black_box(&value).as_bytes(), &options).is_ok())
        });
        group.bench_function("headers", |b| {
            b.iter(|| {
                Authorization::<Basic>::decode(&mut std::iter::once(black_box(&value))).is_ok()
            })
        });
        group.bench_function("http-auth-basic", |b| {
            // Its API takes an owned String, so the copy is part of what its users pay.
            b.iter(|| http_auth_basic::Credentials::from_header(black_box(text).to_owned()).is_ok())
        });
        group.finish();
    }
}

criterion_group!(benches, parse);
criterion_main!(benches);
