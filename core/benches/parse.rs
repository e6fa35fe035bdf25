//! Parsing a `Basic` `Authorization` header: endpoint-auth against the `headers` crate's
//! `Authorization<Basic>` and `http-auth-basic`, measured side by side in one run.
//!
//! Run with `cargo bench -p endpoint-auth --bench parse`.
#![allow(missing_docs)] // criterion's macros generate undocumented items

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use endpoint_auth::{parse_value, ParseOptions};
use headers::authorization::Basic;
use headers::{Authorization, Header};
use http::HeaderValue;

const VALID: &str = "Basic dXNlcjEyM0BnbWFpbC5jb206bXlTdXBlclMzY3JldFBhc3N3MHJk";
const MALFORMED: &str = "Basic dXNlcjEyM0BnbWFpbC5jb206bXlTdXBlclMzY3JldFBhc3N3MHJk!";

fn parse(c: &mut Criterion) {
    let options = ParseOptions::new();
    for (name, text) in [("valid", VALID), ("malformed", MALFORMED)] {
        let value = HeaderValue::from_static(text);
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
