//! `wazero._wazero._inspect`: the type and section listing behind `python -m wazero inspect`.

use pyo3::prelude::*;

use super::errors::map_error;
use crate::error::Error;

fn section_name(id: u8) -> &'static str {
    match id {
        0 => "custom",
        1 => "type",
        2 => "import",
        3 => "function",
        4 => "table",
        5 => "memory",
        6 => "global",
        7 => "export",
        8 => "start",
        9 => "element",
        10 => "code",
        11 => "data",
        12 => "datacount",
        13 => "tag",
        _ => "unknown",
    }
}

fn func_text(ft: &wasmparser::FuncType) -> String {
    let j = |v: &[wasmparser::ValType]| v.iter().map(|t| t.to_string()).collect::<Vec<_>>().join(" ");
    let mut s = String::from("func");
    if !ft.params().is_empty() {
        s.push_str(&format!(" (param {})", j(ft.params())));
    }
    if !ft.results().is_empty() {
        s.push_str(&format!(" (result {})", j(ft.results())));
    }
    s
}

/// `(name, offset, size)` of one section.
type Section = (String, u64, u64);

/// `(types, sections)` of a module given as binary or text: every entry of the type section
/// as text (`func (param i32) (result i64)`), and every section as `(name, offset, size)`
/// (custom sections as `custom "name"`; offset and size of the section's contents).
#[pyfunction]
pub(crate) fn _inspect(py: Python<'_>, source: &[u8]) -> PyResult<(Vec<String>, Vec<Section>)> {
    let fail = |message: String, offset: Option<usize>| map_error(py, Error::Compile { message, offset }, super::errors::Site::Instantiate);
    let binary = if source.starts_with(b"\0asm") {
        std::borrow::Cow::Borrowed(source)
    } else {
        let text = std::str::from_utf8(source).map_err(|e| fail(format!("not UTF-8 WebAssembly text: {e}"), None))?;
        std::borrow::Cow::Owned(wat::parse_str(text).map_err(|e| fail(e.to_string(), None))?)
    };
    let mut types = Vec::new();
    let mut sections = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(&binary) {
        let payload = payload.map_err(|e| fail(e.message().to_string(), Some(e.offset() as usize)))?;
        if let wasmparser::Payload::TypeSection(reader) = &payload {
            for group in reader.clone() {
                let group = group.map_err(|e| fail(e.message().to_string(), Some(e.offset() as usize)))?;
                for sub in group.types() {
                    types.push(match &sub.composite_type.inner {
                        wasmparser::CompositeInnerType::Func(ft) => func_text(ft),
                        other => format!("{other:?}"),
                    });
                }
            }
        }
        if let Some((id, range)) = payload.as_section() {
            let name = match &payload {
                wasmparser::Payload::CustomSection(c) => format!("custom {:?}", c.name()),
                _ => section_name(id).to_string(),
            };
            sections.push((name, range.start, range.end - range.start));
        }
    }
    Ok((types, sections))
}
