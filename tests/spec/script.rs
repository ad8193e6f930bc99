//! Runs the directives of one `.wast` script against wazero, in-process.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;

use wast::lexer::Lexer;
use wast::parser::{self, ParseBuffer};
use wast::{QuoteWat, Wast, WastDirective, WastExecute, WastInvoke};
use wazero::{Error, Extern, Instance, Module, Store, TrapKind, Val};

use crate::features::{self, Groups};
use crate::record::{Command, Failure, Kind};
use crate::{panics, spectest, values};

/// Receives the plan, then each command's result as soon as it is known.
pub trait Sink {
    fn plan(&mut self, commands: &[Command]);
    fn result(&mut self, index: usize, failure: Option<&Failure>);
    /// The script could not be parsed at all.
    fn error(&mut self, reason: &str);
}

/// Parses and runs the script `src`, reporting to `sink`.
pub fn run(src: &str, sink: &mut dyn Sink) {
    let mut lexer = Lexer::new(src);
    // names.wast deliberately uses bidi-override characters in export names.
    lexer.allow_confusing_unicode(true);
    let buf = match ParseBuffer::new_with_lexer(lexer) {
        Ok(buf) => buf,
        Err(e) => return sink.error(&format!("lexing failed: {e}")),
    };
    let wast: Wast<'_> = match parser::parse(&buf) {
        Ok(w) => w,
        Err(mut e) => {
            e.set_text(src);
            return sink.error(&format!("parsing failed: {e}"));
        }
    };
    let plan = plan(src, &wast.directives);
    sink.plan(&plan);

    let mut script = Script::default();
    for (index, directive) in wast.directives.into_iter().enumerate() {
        let command = &plan[index];
        match panics::catch(AssertUnwindSafe(|| script.run(directive, command.groups))) {
            Ok(Ok(())) => sink.result(index, None),
            Ok(Err(mut failure)) => {
                failure.groups = failure.groups.union(command.groups);
                sink.result(index, Some(&failure));
            }
            Err(panic) => {
                // A `todo!("table.copy")` in the compiler names the feature it lacks.
                let groups = command
                    .groups
                    .union(features::groups_in_text(&panic.message.to_lowercase()));
                let failure = Failure {
                    reason: format!("panic: {panic}"),
                    groups,
                };
                sink.result(index, Some(&failure));
                let why = format!("not run: the command at line {} panicked", command.line);
                return fail_rest(
                    sink,
                    &plan[index + 1..],
                    index + 1,
                    &failure.with_reason(why),
                );
            }
        }
    }
}

/// Fails the commands `rest` (starting at index `first`) for the reason `cause` stopped the
/// script; they are attributed to their own features and to those of the cause.
fn fail_rest(sink: &mut dyn Sink, rest: &[Command], first: usize, cause: &Failure) {
    for (i, command) in rest.iter().enumerate() {
        let failure = Failure {
            reason: cause.reason.clone(),
            groups: cause.groups.union(command.groups),
        };
        sink.result(first + i, Some(&failure));
    }
}

/// The command list: kind, line, and the feature groups visible in each directive's own text
/// (a module, or the arguments and results of an invocation).
fn plan(src: &str, directives: &[WastDirective<'_>]) -> Vec<Command> {
    let starts: Vec<usize> = directives.iter().map(|d| d.span().offset()).collect();
    let mut out = Vec::with_capacity(directives.len());
    for (i, d) in directives.iter().enumerate() {
        let end = starts.get(i + 1).copied().unwrap_or(src.len());
        let text = src.get(starts[i]..end).unwrap_or("");
        let groups = features::groups_in_text(&strip_comments(text));
        let line = d.span().linecol_in(src).0 + 1;
        let kind = match d {
            WastDirective::Module(_) => Kind::Module,
            WastDirective::Register { .. } => Kind::Register,
            WastDirective::Invoke(_) => Kind::Invoke,
            WastDirective::AssertReturn { .. } => Kind::AssertReturn,
            WastDirective::AssertTrap {
                exec: WastExecute::Wat(_),
                ..
            } => Kind::AssertUninstantiable,
            WastDirective::AssertTrap { .. } => Kind::AssertTrap,
            WastDirective::AssertExhaustion { .. } => Kind::AssertExhaustion,
            WastDirective::AssertInvalid { .. } => Kind::AssertInvalid,
            WastDirective::AssertMalformed { .. } => Kind::AssertMalformed,
            WastDirective::AssertUnlinkable { .. } => Kind::AssertUnlinkable,
            _ => Kind::Unsupported,
        };
        out.push(Command { line, kind, groups });
    }
    out
}

/// `text` without `;; line` and `(; block ;)` comments, which often describe other tests.
fn strip_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix(";;") {
            rest = after.find('\n').map_or("", |i| &after[i..]);
        } else if let Some(after) = rest.strip_prefix("(;") {
            rest = after.find(";)").map_or("", |i| &after[i + 2..]);
        } else {
            let c = rest.chars().next().expect("non-empty");
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

/// The state of one script: its store, the `spectest` module, and the instances so far.
#[derive(Default)]
struct Script {
    /// Created when first needed, so that scripts of only `assert_invalid`/`assert_malformed`
    /// do not depend on the runtime.
    runtime: Option<Runtime>,
    /// Modules declared with a `$name`.
    named: HashMap<String, Slot>,
    /// Instances made importable by `register`.
    registered: HashMap<String, Instance>,
    /// The most recent module: what commands without a module name use.
    current: Slot,
}

/// The outcome of a `module` command.
#[derive(Copy, Clone, Debug, Default)]
struct Slot {
    /// `None` if the module failed to compile or instantiate.
    instance: Option<Instance>,
    /// Feature groups visible in the module's text: commands that cannot run because the
    /// module failed are attributed to them.
    groups: Groups,
}

/// A failure of the runner's own preconditions (as opposed to a wazero result).
type Step<T> = Result<T, Failure>;

/// The script's store and the `spectest` exports living in it.
struct Runtime {
    store: Store,
    spectest: HashMap<String, Extern>,
}

impl Script {
    /// Creates the store and `spectest` on first use.
    fn ensure_runtime(&mut self) -> Step<()> {
        if self.runtime.is_none() {
            let store = Store::new();
            let spectest = spectest::build(&store)
                .map_err(|e| Failure::new(format!("building the spectest module failed: {e}")))?;
            self.runtime = Some(Runtime { store, spectest });
        }
        Ok(())
    }

    /// The store; only called once an instance exists, which implies it was created.
    fn store(&self) -> &Store {
        &self
            .runtime
            .as_ref()
            .expect("an instance exists, so the store does")
            .store
    }

    /// Runs one directive; `groups` are the features visible in its text.
    fn run(&mut self, directive: WastDirective<'_>, groups: Groups) -> Step<()> {
        match directive {
            WastDirective::Module(mut wat) => {
                let name = wat.name().map(|id| id.name().to_string());
                // Until this module exists, commands must not run against an older one.
                let failed = Slot {
                    instance: None,
                    groups,
                };
                self.current = failed;
                if let Some(name) = &name {
                    self.named.insert(name.clone(), failed);
                }
                let module = compile(&encode(&mut wat)?)?;
                let instance = self
                    .instantiate(&module)?
                    .map_err(|e| error_failure("instantiation failed", &e))?;
                let ok = Slot {
                    instance: Some(instance),
                    groups,
                };
                self.current = ok;
                if let Some(name) = name {
                    self.named.insert(name, ok);
                }
                Ok(())
            }
            WastDirective::Register { name, module, .. } => {
                let instance = self.instance(module)?;
                self.registered.insert(name.to_string(), instance);
                Ok(())
            }
            WastDirective::Invoke(invoke) => match self.invoke(&invoke)? {
                Ok(_) => Ok(()),
                Err(e) => Err(Failure::new(format!("invoke failed: {e}"))),
            },
            WastDirective::AssertReturn { exec, results, .. } => match self.execute(exec)? {
                Ok(actual) => values::check_results(&results, &actual).map_err(Failure::new),
                Err(e) => Err(Failure::new(format!("expected results, got error: {e}"))),
            },
            WastDirective::AssertTrap { exec, message, .. } => {
                expect_trap(self.execute(exec)?, message)
            }
            WastDirective::AssertExhaustion { call, message, .. } => {
                expect_trap(self.invoke(&call)?, message)
            }
            WastDirective::AssertInvalid { mut module, .. } => {
                // The suite README guarantees these encode; the decoder/validator must reject.
                expect_rejected(&encode(&mut module)?)
            }
            WastDirective::AssertMalformed { mut module, .. } => match module.encode() {
                // Rejected by the text parser already: nothing reaches our decoder.
                Err(_) => Ok(()),
                // Binary modules, and the few text modules the `wast` crate is lenient about.
                Ok(bytes) => expect_rejected(&bytes),
            },
            WastDirective::AssertUnlinkable {
                mut module,
                message,
                ..
            } => {
                let bytes = module
                    .encode()
                    .map_err(|e| Failure::new(format!("text encoding failed: {e}")))?;
                let module = compile(&bytes)?;
                match self.instantiate(&module)? {
                    Err(Error::Link(_)) => Ok(()),
                    Ok(_) => Err(Failure::new(format!(
                        "instantiated; expected link error \"{message}\""
                    ))),
                    Err(e) => Err(Failure::new(format!(
                        "expected link error \"{message}\", got: {e}"
                    ))),
                }
            }
            other => Err(Failure::new(format!(
                "unsupported directive at {:?}",
                other.span()
            ))),
        }
    }

    /// Runs an `invoke`, `get` or module instantiation.
    fn execute(&mut self, exec: WastExecute<'_>) -> Step<wazero::Result<Vec<Val>>> {
        match exec {
            WastExecute::Invoke(invoke) => self.invoke(&invoke),
            WastExecute::Get { module, global, .. } => match self.export(module, global)? {
                Extern::Global(g) => Ok(g.get(self.store()).map(|v| vec![v])),
                other => Err(Failure::new(format!(
                    "export \"{global}\" is not a global: {other:?}"
                ))),
            },
            WastExecute::Wat(mut wat) => {
                let bytes = wat
                    .encode()
                    .map_err(|e| Failure::new(format!("text encoding failed: {e}")))?;
                let module = compile(&bytes)?;
                Ok(self.instantiate(&module)?.map(|_| Vec::new()))
            }
        }
    }

    fn invoke(&mut self, invoke: &WastInvoke<'_>) -> Step<wazero::Result<Vec<Val>>> {
        let func = match self.export(invoke.module, invoke.name)? {
            Extern::Func(f) => f,
            other => {
                return Err(Failure::new(format!(
                    "export \"{}\" is not a function: {other:?}",
                    invoke.name
                )))
            }
        };
        let args = invoke
            .args
            .iter()
            .map(values::arg)
            .collect::<Result<Vec<Val>, String>>();
        let args = args.map_err(Failure::new)?;
        Ok(func.call(self.store(), &args))
    }

    fn instance(&self, id: Option<wast::token::Id<'_>>) -> Step<Instance> {
        let (slot, what) = match id {
            Some(id) => match self.named.get(id.name()) {
                Some(slot) => (slot, format!("module ${}", id.name())),
                None => {
                    return Err(Failure::new(format!(
                        "no module ${} was defined",
                        id.name()
                    )))
                }
            },
            None => (&self.current, "the last module".to_string()),
        };
        slot.instance.ok_or_else(|| Failure {
            reason: format!("not run: {what} failed to compile or instantiate"),
            groups: slot.groups,
        })
    }

    fn export(&self, module: Option<wast::token::Id<'_>>, name: &str) -> Step<Extern> {
        let instance = self.instance(module)?;
        instance
            .export(self.store(), name)
            .ok_or_else(|| Failure::new(format!("no export named \"{name}\"")))
    }

    /// Resolves the module's imports by name (type checking is the runtime's job) and
    /// instantiates it.
    fn instantiate(&mut self, module: &Module) -> Step<wazero::Result<Instance>> {
        self.ensure_runtime()?;
        let rt = self.runtime.as_ref().expect("just ensured");
        let mut imports = Vec::new();
        for (module_name, name, _ty) in module.imports() {
            let found = match self.registered.get(&module_name) {
                Some(instance) => instance.export(&rt.store, &name),
                None if module_name == "spectest" => rt.spectest.get(&name).copied(),
                None => None,
            };
            match found {
                Some(ext) => imports.push(ext),
                None => {
                    return Ok(Err(Error::link(format!(
                        "unknown import \"{module_name}\" \"{name}\""
                    ))))
                }
            }
        }
        Ok(rt.store.instantiate(module, &imports))
    }
}

fn encode(wat: &mut QuoteWat<'_>) -> Step<Vec<u8>> {
    wat.encode()
        .map_err(|e| Failure::new(format!("text encoding failed: {e}")))
}

/// Compiles a module that must be valid.
fn compile(bytes: &[u8]) -> Step<Module> {
    Module::new(bytes).map_err(|e| error_failure("compilation failed", &e))
}

/// A failure caused by a wazero error; an "unsupported: ..." message names the feature.
fn error_failure(what: &str, e: &Error) -> Failure {
    let message = e.to_string();
    Failure {
        groups: features::groups_in_text(&message.to_lowercase()),
        reason: format!("{what}: {message}"),
    }
}

fn expect_rejected(bytes: &[u8]) -> Step<()> {
    match Module::new(bytes) {
        Err(Error::Compile { .. }) => Ok(()),
        Err(e) => Err(Failure::new(format!(
            "rejected, but not as a compile error: {e}"
        ))),
        Ok(_) => Err(Failure::new("module was accepted")),
    }
}

fn expect_trap(result: wazero::Result<Vec<Val>>, expected: &str) -> Step<()> {
    match result {
        Err(Error::Trap(trap)) if trap_matches(trap.kind, expected) => Ok(()),
        Err(Error::Trap(trap)) => Err(Failure::new(format!(
            "expected trap \"{expected}\", got trap \"{}\"",
            trap.kind.message()
        ))),
        Err(e) => Err(Failure::new(format!(
            "expected trap \"{expected}\", got error: {e}"
        ))),
        Ok(vals) => Err(Failure::new(format!(
            "expected trap \"{expected}\", got {}",
            values::show_vals(&vals)
        ))),
    }
}

/// Spec messages are prefixes of, or extend, ours ("uninitialized element 2").
fn trap_matches(kind: TrapKind, expected: &str) -> bool {
    let actual = kind.message();
    expected.starts_with(actual) || actual.starts_with(expected)
}
