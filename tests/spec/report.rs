//! The summary printed at the end of a run.

use std::collections::BTreeMap;

use crate::allowed::{self, AllowedList, Verdict};
use crate::driver::truncate;
use crate::record::{FileReport, Kind};

#[derive(Default, Clone, Copy)]
struct Tally {
    passed: usize,
    failed: usize,
    allowed: usize,
}

/// Prints totals, unexpected failures (at most `show` of them), stale and invalid entries and
/// the list's entry counts. Returns whether the run is a success.
pub fn print(reports: &[FileReport], list: &AllowedList, verdict: &Verdict, show: usize) -> bool {
    let mut tallies: BTreeMap<Kind, Tally> = BTreeMap::new();
    let mut unexpected = Vec::new();
    let mut per_file: BTreeMap<&str, usize> = BTreeMap::new();
    for (report, flags) in reports.iter().zip(&verdict.allowed) {
        for (outcome, &allowed) in report.outcomes.iter().zip(flags) {
            let t = tallies.entry(outcome.command.kind).or_default();
            match &outcome.failure {
                None => t.passed += 1,
                Some(_) if allowed => t.allowed += 1,
                Some(f) => {
                    t.failed += 1;
                    *per_file.entry(&report.file).or_default() += 1;
                    unexpected.push(format!(
                        "{}:{}: {}: {}",
                        report.file,
                        outcome.command.line,
                        outcome.command.kind.name(),
                        truncate(&f.reason, 400)
                    ));
                }
            }
        }
    }

    println!(
        "{:<24}{:>10}{:>10}{:>10}",
        "command", "passed", "failed", "allowed"
    );
    let mut total = Tally::default();
    for (kind, t) in &tallies {
        println!(
            "{:<24}{:>10}{:>10}{:>10}",
            kind.name(),
            t.passed,
            t.failed,
            t.allowed
        );
        total.passed += t.passed;
        total.failed += t.failed;
        total.allowed += t.allowed;
    }
    println!(
        "{:<24}{:>10}{:>10}{:>10}",
        "total", total.passed, total.failed, total.allowed
    );

    if !unexpected.is_empty() {
        println!("\nunexpected failures ({}):", unexpected.len());
        for line in unexpected.iter().take(show) {
            println!("  {line}");
        }
        if unexpected.len() > show {
            println!(
                "  ... {} more (WAZERO_SPEC_SHOW=all lists them all); per file:",
                unexpected.len() - show
            );
            for (file, n) in &per_file {
                println!("  {file}: {n}");
            }
        }
    }
    print_capped(
        "stale allowed-failures entries, remove them",
        &verdict.stale,
        show,
    );
    print_capped("invalid allowed-failures entries", &verdict.invalid, show);

    let counts = allowed::counts_by_reason(list);
    let counts_text: Vec<String> = counts.iter().map(|(r, n)| format!("{r}: {n}")).collect();
    println!(
        "\nallowed-failures list: {} entries{}",
        list.entries.len(),
        if counts.is_empty() {
            String::new()
        } else {
            format!(" ({})", counts_text.join(", "))
        }
    );

    let ok = unexpected.is_empty() && verdict.stale.is_empty() && verdict.invalid.is_empty();
    if ok {
        println!("spec: PASS");
    } else {
        println!(
            "spec: FAIL ({} unexpected failures, {} stale entries, {} invalid entries)",
            unexpected.len(),
            verdict.stale.len(),
            verdict.invalid.len()
        );
    }
    ok
}

/// Prints `items` under `title`, at most `show` of them.
fn print_capped(title: &str, items: &[String], show: usize) {
    if items.is_empty() {
        return;
    }
    println!("\n{title} ({}):", items.len());
    items.iter().take(show).for_each(|s| println!("  {s}"));
    if items.len() > show {
        println!("  ... {} more", items.len() - show);
    }
}
