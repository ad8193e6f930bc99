//! The allowed-failures list `tests/spec_allowed_failures.txt`.
//!
//! One entry per line, `FILE:LINE  REASON` or `FILE:*  REASON` (the whole file); blank lines
//! and lines starting with `#` are ignored. `REASON` starts with a feature group name
//! (`simd`, `bulk-memory`, `reference-types`), optionally followed by free text. The list may
//! only shrink: a listed case that passes is a stale entry and fails the run.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;

use crate::features::{self, Group, Groups};
use crate::record::{FileReport, Outcome};

/// Where an entry applies within its file.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    WholeFile,
    Line(usize),
}

#[derive(Clone, Debug)]
pub struct Entry {
    pub file: String,
    pub scope: Scope,
    pub reason: String,
}

impl Entry {
    fn key(&self) -> (String, Scope) {
        (self.file.clone(), self.scope)
    }

    /// `file:line` or `file:*`.
    pub fn location(&self) -> String {
        match self.scope {
            Scope::WholeFile => format!("{}:*", self.file),
            Scope::Line(l) => format!("{}:{l}", self.file),
        }
    }

    /// The feature group the reason names, if any.
    pub fn group(&self) -> Option<Group> {
        let first = self
            .reason
            .split(|c: char| c.is_whitespace() || c == ':')
            .next()
            .unwrap_or("");
        Group::from_name(first)
    }
}

/// The parsed list, plus complaints about malformed lines.
#[derive(Debug, Default)]
pub struct AllowedList {
    pub entries: Vec<Entry>,
    pub errors: Vec<String>,
}

impl AllowedList {
    /// Parses the list; a missing file is an empty list.
    pub fn load(path: &std::path::Path) -> AllowedList {
        match std::fs::read_to_string(path) {
            Ok(text) => AllowedList::parse(&text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => AllowedList::default(),
            Err(e) => AllowedList {
                entries: vec![],
                errors: vec![format!("cannot read {}: {e}", path.display())],
            },
        }
    }

    pub fn parse(text: &str) -> AllowedList {
        let mut list = AllowedList::default();
        let mut seen = HashSet::new();
        for (n, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = |why: &str| format!("allowed-failures line {}: {why}: {raw:?}", n + 1);
            let (location, reason) = match line.split_once(char::is_whitespace) {
                Some((loc, reason)) if !reason.trim().is_empty() => (loc, reason.trim()),
                _ => {
                    list.errors.push(bad("entry without a reason"));
                    continue;
                }
            };
            let Some((file, scope)) = location.rsplit_once(':') else {
                list.errors.push(bad("expected FILE:LINE or FILE:*"));
                continue;
            };
            let scope = match scope {
                "*" => Scope::WholeFile,
                n => match n.parse() {
                    Ok(n) => Scope::Line(n),
                    Err(_) => {
                        list.errors.push(bad("expected FILE:LINE or FILE:*"));
                        continue;
                    }
                },
            };
            let entry = Entry {
                file: file.to_string(),
                scope,
                reason: reason.to_string(),
            };
            if !seen.insert(entry.key()) {
                list.errors.push(bad("duplicate entry"));
                continue;
            }
            list.entries.push(entry);
        }
        list
    }

    fn index(&self) -> HashMap<(String, Scope), usize> {
        self.entries
            .iter()
            .enumerate()
            .map(|(i, e)| (e.key(), i))
            .collect()
    }
}

/// How the run compares with the list.
#[derive(Debug, Default)]
pub struct Verdict {
    /// `allowed[f][o]`: whether outcome `o` of report `f` is a listed failure.
    pub allowed: Vec<Vec<bool>>,
    /// Entries whose cases all pass now, or that name no file of the suite.
    pub stale: Vec<String>,
    /// Entries whose reason is not acceptable, and malformed lines.
    pub invalid: Vec<String>,
}

/// Feature groups a failed outcome can legitimately be attributed to.
pub fn case_groups(file: &str, outcome: &Outcome) -> Groups {
    let mut groups = outcome.command.groups;
    if let Some(g) = features::file_group(file) {
        groups.insert(g);
    }
    if let Some(f) = &outcome.failure {
        groups = groups.union(f.groups);
    }
    groups
}

/// Matches failures against the list. `ran` are the files run this time (entries of other
/// files are neither used nor stale), `suite` every file of the suite.
pub fn evaluate(
    list: &AllowedList,
    reports: &[FileReport],
    ran: &HashSet<String>,
    suite: &HashSet<String>,
) -> Verdict {
    let index = list.index();
    let mut used = vec![false; list.entries.len()];
    let mut complained = vec![false; list.entries.len()];
    let mut verdict = Verdict {
        invalid: list.errors.clone(),
        ..Verdict::default()
    };
    let allowed_names = Group::ALL.map(Group::name).join(", ");

    for report in reports {
        let mut flags = Vec::with_capacity(report.outcomes.len());
        for outcome in &report.outcomes {
            let Some(_) = &outcome.failure else {
                flags.push(false);
                continue;
            };
            let line = Scope::Line(outcome.command.line);
            let hit = index
                .get(&(report.file.clone(), line))
                .or_else(|| index.get(&(report.file.clone(), Scope::WholeFile)))
                .copied();
            flags.push(hit.is_some());
            let Some(i) = hit else { continue };
            used[i] = true;
            let entry = &list.entries[i];
            let problem = match entry.group() {
                None => Some(format!(
                    "{}: reason \"{}\" is not allowed at this milestone (must start with one of: {allowed_names})",
                    entry.location(),
                    entry.reason
                )),
                Some(g) if !case_groups(&report.file, outcome).contains(g) => Some(format!(
                    "{}: reason \"{g}\" does not apply to {}:{} ({}), which shows no {g} feature",
                    entry.location(),
                    report.file,
                    outcome.command.line,
                    outcome.command.kind.name()
                )),
                Some(_) => None,
            };
            if let Some(p) = problem {
                if !complained[i] {
                    complained[i] = true;
                    verdict.invalid.push(p);
                }
            }
        }
        verdict.allowed.push(flags);
    }

    for (i, entry) in list.entries.iter().enumerate() {
        if !suite.contains(&entry.file) {
            verdict
                .stale
                .push(format!("{}: no such file in the suite", entry.location()));
        } else if ran.contains(&entry.file) && !used[i] {
            verdict.stale.push(format!(
                "{}: passes now, remove the entry ({})",
                entry.location(),
                entry.reason
            ));
        }
    }
    verdict
}

/// The list rewritten from the current failures: existing reasons are kept, new entries get
/// the feature group of their file or module, else `TODO`. A file whose every command failed
/// gets a single `FILE:*` entry. Entries of files not run this time are kept as they are.
pub fn bless(list: &AllowedList, reports: &[FileReport], ran: &HashSet<String>) -> String {
    let index = list.index();
    let mut out: BTreeMap<(String, Scope), String> = BTreeMap::new();
    for entry in &list.entries {
        if !ran.contains(&entry.file) {
            out.insert(entry.key(), entry.reason.clone());
        }
    }
    for report in reports {
        let file = &report.file;
        let failed: Vec<&Outcome> = report
            .outcomes
            .iter()
            .filter(|o| o.failure.is_some())
            .collect();
        if failed.is_empty() {
            continue;
        }
        let whole = (file.clone(), Scope::WholeFile);
        if let Some(&i) = index.get(&whole) {
            out.insert(whole, list.entries[i].reason.clone());
            continue;
        }
        if failed.len() == report.outcomes.len() {
            let common = failed.iter().fold(None, |acc: Option<Groups>, o| {
                let g = case_groups(file, o);
                Some(acc.map_or(g, |a| intersect(a, g)))
            });
            let reason = derived_reason(file, common.unwrap_or_default());
            out.insert(whole, reason);
            continue;
        }
        for o in failed {
            let key = (file.clone(), Scope::Line(o.command.line));
            let reason = match index.get(&key) {
                Some(&i) => list.entries[i].reason.clone(),
                None => derived_reason(file, case_groups(file, o)),
            };
            out.entry(key).or_insert(reason);
        }
    }

    let mut text = String::from(HEADER);
    for ((file, scope), reason) in out {
        let loc = match scope {
            Scope::WholeFile => format!("{file}:*"),
            Scope::Line(l) => format!("{file}:{l}"),
        };
        let _ = writeln!(text, "{loc}  {reason}");
    }
    text
}

fn intersect(a: Groups, b: Groups) -> Groups {
    let mut g = Groups::default();
    a.iter()
        .filter(|x| b.contains(*x))
        .for_each(|x| g.insert(x));
    g
}

fn derived_reason(file: &str, groups: Groups) -> String {
    features::file_group(file)
        .or_else(|| groups.first())
        .map_or_else(|| "TODO".to_string(), |g| g.name().to_string())
}

/// Number of entries per reason group (or per full reason when it names no group).
pub fn counts_by_reason(list: &AllowedList) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for e in &list.entries {
        let key = e
            .group()
            .map_or_else(|| e.reason.clone(), |g| g.name().to_string());
        *counts.entry(key).or_insert(0) += 1;
    }
    counts
}

const HEADER: &str = "\
# Spec-suite cases wazero is allowed to fail (see tests/spec.rs).
# `FILE:LINE  REASON` or `FILE:*  REASON`. REASON starts with the feature group the case
# needs: simd, bulk-memory or reference-types; nothing else is allowed at this milestone.
# The list may only shrink: a listed case that passes fails the run as a stale entry.
# Regenerate with `WAZERO_SPEC_BLESS=1 cargo test --test spec` (keeps existing reasons).
# Blessing keeps FILE:* entries; delete one and bless again to get per-line entries.
";
