//! A small owned document tree shared by the TOML and JSON readers, so that one
//! walker validates the epoch parameters of both forms with the same field paths.
//!
//! TOML values carry the line they start on; JSON values carry none (JSON errors are
//! located by array index instead, see [`super::SnapshotError`]).

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// A value of the document.
#[derive(Debug)]
pub(crate) enum Val {
    /// A string.
    Str(String),
    /// An integer: its value if it fits an `i128`, and its text.
    Int { value: Option<i128>, text: String },
    /// A non-integer number, printed.
    Float(String),
    /// A boolean.
    Bool,
    /// JSON `null`.
    Null,
    /// A TOML datetime.
    Datetime,
    /// An array.
    Array(Vec<Item>),
    /// A table (TOML) or object (JSON), in document order, duplicates kept.
    Table(Vec<Entry>),
    /// An array or table nested deeper than any the formats define, not converted.
    Deep(&'static str),
    /// A JSON value parsed but not kept, because no walk reads more than its kind
    /// (`super::stream`).
    Skipped(&'static str),
}

impl Val {
    /// The kind, for "expected …, found …" messages.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Val::Str(_) => "a string",
            Val::Int { .. } => "an integer",
            Val::Float(_) => "a non-integer number",
            Val::Bool => "a boolean",
            Val::Null => "null",
            Val::Datetime => "a datetime",
            Val::Array(_) => "an array",
            Val::Table(_) => "a table",
            Val::Deep(kind) | Val::Skipped(kind) => kind,
        }
    }
}

/// A value and the 1-based line it starts on (TOML only).
#[derive(Debug)]
pub(crate) struct Item {
    pub(crate) val: Val,
    pub(crate) line: Option<u64>,
}

/// A key of a table, the line of the key (TOML only), and its value.
#[derive(Debug)]
pub(crate) struct Entry {
    pub(crate) key: String,
    pub(crate) line: Option<u64>,
    pub(crate) value: Item,
}

/// The 1-based line of byte `offset` in `bytes`.
pub(crate) fn line_of(bytes: &[u8], offset: usize) -> u64 {
    let before = bytes.get(..offset).unwrap_or(bytes);
    before.iter().filter(|&&b| b == b'\n').count() as u64 + 1
}

/// Deepest nesting of arrays and tables that the formats use (the JSON form:
/// document → accounts → account → positions → position → value).
const MAX_DEPTH: usize = 6;

/// Converts a parsed TOML document (the top-level table).
pub(crate) fn from_toml_table(text: &str, table: &DeTable<'_>) -> Item {
    Item {
        val: toml_table(text, table, 1),
        line: None,
    }
}

fn toml_table(text: &str, table: &DeTable<'_>, depth: usize) -> Val {
    Val::Table(
        table
            .iter()
            .map(|(k, v)| Entry {
                key: k.get_ref().to_string(),
                line: Some(line_of(text.as_bytes(), k.span().start)),
                value: toml_item(text, v, depth),
            })
            .collect(),
    )
}

fn toml_item(text: &str, v: &Spanned<DeValue<'_>>, depth: usize) -> Item {
    let val = match v.get_ref() {
        DeValue::String(s) => Val::Str(s.to_string()),
        DeValue::Integer(i) => Val::Int {
            value: i128::from_str_radix(i.as_str(), i.radix()).ok(),
            text: i.to_string(),
        },
        DeValue::Float(f) => Val::Float(f.as_str().to_owned()),
        DeValue::Boolean(_) => Val::Bool,
        DeValue::Datetime(_) => Val::Datetime,
        DeValue::Array(_) if depth >= MAX_DEPTH => Val::Deep("an array"),
        DeValue::Table(_) if depth >= MAX_DEPTH => Val::Deep("a table"),
        DeValue::Array(a) => Val::Array(a.iter().map(|e| toml_item(text, e, depth + 1)).collect()),
        DeValue::Table(t) => toml_table(text, t, depth + 1),
    };
    Item {
        val,
        line: Some(line_of(text.as_bytes(), v.span().start)),
    }
}

/// JSON values deserialize straight into the tree (serde_json bounds the nesting
/// depth at 128, so the recursion here is bounded too).
impl<'de> Deserialize<'de> for Item {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValVisitor)
            .map(|val| Item { val, line: None })
    }
}

struct ValVisitor;

impl<'de> Visitor<'de> for ValVisitor {
    type Value = Val;

    fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<Val, E> {
        Ok(Val::Bool)
    }
    fn visit_i64<E>(self, v: i64) -> Result<Val, E> {
        Ok(Val::Int {
            value: Some(v.into()),
            text: v.to_string(),
        })
    }
    fn visit_u64<E>(self, v: u64) -> Result<Val, E> {
        Ok(Val::Int {
            value: Some(v.into()),
            text: v.to_string(),
        })
    }
    fn visit_f64<E>(self, v: f64) -> Result<Val, E> {
        Ok(Val::Float(format!("{v:?}")))
    }
    fn visit_str<E>(self, v: &str) -> Result<Val, E> {
        Ok(Val::Str(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Val, E> {
        Ok(Val::Str(v))
    }
    fn visit_unit<E>(self) -> Result<Val, E> {
        Ok(Val::Null)
    }
    fn visit_none<E>(self) -> Result<Val, E> {
        Ok(Val::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Val, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Item>()? {
            items.push(item);
        }
        Ok(Val::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Val, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value::<Item>()?;
            entries.push(Entry {
                key,
                line: None,
                value,
            });
        }
        Ok(Val::Table(entries))
    }
}
