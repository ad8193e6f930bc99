//! What running a script produces, and the line protocol a child process uses to report it.
//!
//! A child prints one `plan` line per directive before running anything, then one result
//! line per directive as it completes, so the parent can account for every directive even if
//! the child crashes or hangs:
//!
//! ```text
//! plan<TAB>LINE<TAB>KIND<TAB>GROUPS
//! pass<TAB>INDEX
//! fail<TAB>INDEX<TAB>GROUPS<TAB>REASON
//! error<TAB>REASON                        (the file could not be parsed)
//! ```
//! `GROUPS` is a comma-separated list of feature groups (possibly empty).

use crate::features::Groups;

/// The kind of a script command, as counted in the report.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Module,
    Register,
    Invoke,
    AssertReturn,
    AssertTrap,
    AssertExhaustion,
    AssertInvalid,
    AssertMalformed,
    AssertUnlinkable,
    AssertUninstantiable,
    /// A directive outside the Wasm 2.0 script language.
    Unsupported,
    /// The file as a whole: it failed to parse, or its process died before reporting.
    File,
}

impl Kind {
    pub const ALL: [Kind; 12] = [
        Kind::Module,
        Kind::Register,
        Kind::Invoke,
        Kind::AssertReturn,
        Kind::AssertTrap,
        Kind::AssertExhaustion,
        Kind::AssertInvalid,
        Kind::AssertMalformed,
        Kind::AssertUnlinkable,
        Kind::AssertUninstantiable,
        Kind::Unsupported,
        Kind::File,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Module => "module",
            Kind::Register => "register",
            Kind::Invoke => "invoke",
            Kind::AssertReturn => "assert_return",
            Kind::AssertTrap => "assert_trap",
            Kind::AssertExhaustion => "assert_exhaustion",
            Kind::AssertInvalid => "assert_invalid",
            Kind::AssertMalformed => "assert_malformed",
            Kind::AssertUnlinkable => "assert_unlinkable",
            Kind::AssertUninstantiable => "assert_uninstantiable",
            Kind::Unsupported => "unsupported",
            Kind::File => "file",
        }
    }

    fn from_name(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == s)
    }
}

/// One directive of a script, known before it runs.
#[derive(Clone, Debug)]
pub struct Command {
    /// 1-based line of the directive in its file (0 for [`Kind::File`]).
    pub line: usize,
    pub kind: Kind,
    /// Feature groups visible in the module the command exercises.
    pub groups: Groups,
}

/// Why a command failed.
#[derive(Clone, Debug)]
pub struct Failure {
    pub reason: String,
    /// Feature groups seen in the failure itself (e.g. a compile error naming an instruction).
    pub groups: Groups,
}

impl Failure {
    pub fn new(reason: impl Into<String>) -> Failure {
        Failure {
            reason: reason.into(),
            groups: Groups::default(),
        }
    }

    /// The same failure (same feature groups) with another reason.
    pub fn with_reason(&self, reason: impl Into<String>) -> Failure {
        Failure {
            reason: reason.into(),
            groups: self.groups,
        }
    }
}

/// A command and how it went.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub command: Command,
    /// `None` when the command passed.
    pub failure: Option<Failure>,
}

/// Everything known about one file after running it.
#[derive(Clone, Debug)]
pub struct FileReport {
    pub file: String,
    pub outcomes: Vec<Outcome>,
}

/// Writes protocol lines for one file's run; see the module docs.
pub mod emit {
    use super::*;

    fn clean(s: &str) -> String {
        s.replace(['\t', '\n', '\r'], " ")
    }

    pub fn plan(c: &Command) -> String {
        format!("plan\t{}\t{}\t{}", c.line, c.kind.name(), c.groups.to_csv())
    }
    pub fn pass(index: usize) -> String {
        format!("pass\t{index}")
    }
    pub fn fail(index: usize, f: &Failure) -> String {
        format!("fail\t{index}\t{}\t{}", f.groups.to_csv(), clean(&f.reason))
    }
    pub fn error(reason: &str) -> String {
        format!("error\t{}", clean(reason))
    }
}

/// Rebuilds a [`FileReport`] from a child's output. Directives the child planned but never
/// reported on are failed with `unfinished` (the reason the child stopped: crash, timeout).
pub fn parse_child_output(file: &str, stdout: &str, unfinished: Option<&str>) -> FileReport {
    let mut outcomes: Vec<Outcome> = Vec::new();
    let mut done: Vec<bool> = Vec::new();
    let mut protocol_error = None;
    for line in stdout.lines() {
        let fields: Vec<&str> = line.splitn(5, '\t').collect();
        match fields.as_slice() {
            ["plan", line, kind, groups] => {
                let (Ok(line), Some(kind)) = (line.parse(), Kind::from_name(kind)) else {
                    protocol_error = Some(format!("bad plan line {line:?}"));
                    continue;
                };
                outcomes.push(Outcome {
                    command: Command {
                        line,
                        kind,
                        groups: Groups::from_csv(groups),
                    },
                    failure: None,
                });
                done.push(false);
            }
            ["pass", index] => match index.parse::<usize>() {
                Ok(i) if i < done.len() => done[i] = true,
                _ => protocol_error = Some(format!("bad pass line {line:?}")),
            },
            ["fail", index, groups, reason] => match index.parse::<usize>() {
                Ok(i) if i < done.len() => {
                    done[i] = true;
                    outcomes[i].failure = Some(Failure {
                        reason: reason.to_string(),
                        groups: Groups::from_csv(groups),
                    });
                }
                _ => protocol_error = Some(format!("bad fail line {line:?}")),
            },
            ["error", reason] => outcomes.push(file_failure(reason)),
            // Anything else (e.g. the runtime printing to stdout) is ignored.
            _ => {}
        }
    }
    // The first unreported directive is the one the child was running when it stopped.
    let mut first = true;
    for (o, done) in outcomes.iter_mut().zip(&done) {
        if *done {
            continue;
        }
        let reason = match unfinished {
            Some(why) if first => why.to_string(),
            Some(why) => format!("not run: an earlier command stopped the file: {why}"),
            None => "not run: the child process exited without reporting it".to_string(),
        };
        first = false;
        o.failure = Some(Failure::new(reason));
    }
    if outcomes.is_empty() {
        let why = unfinished.unwrap_or("the child process reported nothing");
        outcomes.push(file_failure(why));
    }
    if let Some(e) = protocol_error {
        outcomes.push(file_failure(&format!("runner protocol error: {e}")));
    }
    FileReport {
        file: file.to_string(),
        outcomes,
    }
}

fn file_failure(reason: &str) -> Outcome {
    Outcome {
        command: Command {
            line: 0,
            kind: Kind::File,
            groups: Groups::default(),
        },
        failure: Some(Failure::new(reason)),
    }
}
