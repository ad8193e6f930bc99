//! Feature groups a failing case may be attributed to in the allowed-failures list.
//!
//! A case belongs to a group either because its file is dedicated to that feature (per the
//! suite README) or because the module it exercises visibly uses the feature (its text, or the
//! compile error our compiler reported, mentions an instruction or type of that feature).

use std::fmt;

/// A proposal merged into Wasm 2.0 that the foundation milestone may leave unimplemented.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Group {
    Simd,
    BulkMemory,
    ReferenceTypes,
}

impl Group {
    pub const ALL: [Group; 3] = [Group::Simd, Group::BulkMemory, Group::ReferenceTypes];

    /// The name used as a reason in the allowed-failures list.
    pub fn name(self) -> &'static str {
        match self {
            Group::Simd => "simd",
            Group::BulkMemory => "bulk-memory",
            Group::ReferenceTypes => "reference-types",
        }
    }

    pub fn from_name(name: &str) -> Option<Group> {
        Group::ALL.into_iter().find(|g| g.name() == name)
    }

    /// Words whose presence in module text or a compile error marks a use of this group.
    fn markers(self) -> &'static [&'static str] {
        match self {
            Group::Simd => &[
                "v128", "i8x16", "i16x8", "i32x4", "i64x2", "f32x4", "f64x2", "simd",
            ],
            Group::BulkMemory => &[
                "memory.copy",
                "memory.fill",
                "memory.init",
                "data.drop",
                "table.copy",
                "table.init",
                "elem.drop",
                "bulk memory",
                "passive",
            ],
            Group::ReferenceTypes => &[
                "ref.null",
                "ref.func",
                "ref.is_null",
                "ref.extern",
                "externref",
                "table.get",
                "table.set",
                "table.size",
                "table.grow",
                "table.fill",
                "select (result",
                "(elem declare",
                "reference types",
                "multiple tables",
            ],
        }
    }
}

impl fmt::Display for Group {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A small set of groups.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct Groups(u8);

impl Groups {
    pub fn contains(self, g: Group) -> bool {
        self.0 & (1 << g as u8) != 0
    }
    pub fn insert(&mut self, g: Group) {
        self.0 |= 1 << g as u8;
    }
    pub fn union(self, other: Groups) -> Groups {
        Groups(self.0 | other.0)
    }
    pub fn first(self) -> Option<Group> {
        self.iter().next()
    }
    pub fn iter(self) -> impl Iterator<Item = Group> {
        Group::ALL.into_iter().filter(move |g| self.contains(*g))
    }

    /// Comma-separated names (empty string for the empty set).
    pub fn to_csv(self) -> String {
        self.iter().map(Group::name).collect::<Vec<_>>().join(",")
    }
    pub fn from_csv(s: &str) -> Groups {
        let mut set = Groups::default();
        s.split(',')
            .filter_map(Group::from_name)
            .for_each(|g| set.insert(g));
        set
    }
}

/// The group a whole file is dedicated to, per the suite README.
pub fn file_group(file: &str) -> Option<Group> {
    let stem = file.strip_suffix(".wast").unwrap_or(file);
    const BULK: &[&str] = &[
        "bulk",
        "memory_copy",
        "memory_fill",
        "memory_init",
        "table_copy",
        "table_init",
    ];
    const REF_TYPES: &[&str] = &[
        "ref_func",
        "ref_is_null",
        "ref_null",
        "table-sub",
        "table",
        "table_fill",
        "table_get",
        "table_grow",
        "table_set",
        "table_size",
    ];
    if stem.starts_with("simd_") {
        Some(Group::Simd)
    } else if BULK.contains(&stem) {
        Some(Group::BulkMemory)
    } else if REF_TYPES.contains(&stem) {
        Some(Group::ReferenceTypes)
    } else {
        None
    }
}

/// Groups whose markers occur in `text` (module source or a compile error message).
pub fn groups_in_text(text: &str) -> Groups {
    let mut set = Groups::default();
    for g in Group::ALL {
        if g.markers().iter().any(|m| text.contains(m)) {
            set.insert(g);
        }
    }
    set
}
