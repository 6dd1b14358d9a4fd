//! Tables fit the terminal (`COLUMNS`, else the terminal's width): a table that fits prints as
//! is, a narrower terminal wraps cells at spaces (no resource name is ever split), and one too
//! narrow for the longest name gets one `key: value` block per row.

mod common;

use common::*;
use serde_json::Value;

fn doctor_at(w: &TestWorld, columns: &str) -> String {
    let o = w.plugin().env("COLUMNS", columns).arg("doctor").output().unwrap();
    ok(&o)
}

/// Every word doctor found (from its JSON) appears whole in `table`.
fn assert_no_word_split(w: &TestWorld, table: &str) {
    let v: Value = serde_json::from_slice(&w.run(&["doctor", "-o", "json"]).stdout).unwrap();
    for c in v["checks"].as_array().unwrap() {
        for word in c["finding"].as_str().unwrap().split_whitespace() {
            assert!(table.contains(word), "`{word}` is split in:\n{table}");
        }
    }
}

#[test]
fn doctor_at_80_and_50_columns() {
    let w = TestWorld::start("healthy");
    let wide = doctor_at(&w, "200");
    assert!(wide.contains('│'), "a grid at 200 columns:\n{wide}");
    assert!(wide.lines().all(|l| l.chars().count() <= 200), "{wide}");
    for columns in ["80", "50"] {
        let out = doctor_at(&w, columns);
        assert_no_word_split(&w, &out);
        insta::assert_snapshot!(format!("doctor_healthy_{columns}_columns"), out);
    }
}

#[test]
fn the_install_plan_wraps_at_120_columns_without_splitting_names() {
    let w = TestWorld::start("fresh");
    let o = w
        .plugin()
        .env("COLUMNS", "120")
        .args(["install", "--dry-run"])
        .output()
        .unwrap();
    let out = ok(&o);
    let table: Vec<&str> = out.lines().filter(|l| l.starts_with(['│', '┌', '└', '╞'])).collect();
    assert!(!table.is_empty(), "{out}");
    assert!(table.iter().all(|l| l.chars().count() <= 120), "{out}");
    for name in [
        "proxy-only-default",
        "10.120.0.0/23",
        "kasten-ilb-kasten-demo-proxy-to-8000",
    ] {
        assert!(out.contains(name), "`{name}` is whole:\n{out}");
    }
    insta::assert_snapshot!("install_plan_120_columns", stable(&out));
}
