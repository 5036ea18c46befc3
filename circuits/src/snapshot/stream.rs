//! The two passes of the JSON form over serde_json, so that no tree of the whole
//! document is ever built (`service/src/intake.rs` bounds what they allocate).
//!
//! 1. [`Skeleton`]: the document's tree without the elements of one top-level array
//!    (`accounts`), which are only counted, and without the values of unknown or
//!    repeated top-level keys (the walk refuses the document at such a key,
//!    whatever its value).
//! 2. [`stream_elements`]: the same bytes parsed again, that array's elements handed
//!    one at a time, each as its own tree, to the walker, and dropped before the next
//!    is parsed.
//!
//! A value that is not kept is still parsed by serde_json's `deserialize_any`, as
//! [`Item`] is (serde_json's own `IgnoredAny` skips without its nesting limit of
//! 128 and without checking that numbers fit an `f64`), so pass 1 refuses exactly
//! the bytes, with exactly the errors, that parsing the whole tree would, and pass 2
//! never meets an error of its own.

use super::tree::{Entry, Item, Val};
use serde::de::{self, Deserialize, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// A JSON value parsed and dropped (nothing allocated but serde_json's unescaping
/// buffer): its kind, and its number of elements if it is an array.
#[derive(Debug, Clone, Copy)]
struct Skip {
    kind: &'static str,
    elements: Option<usize>,
}

impl Skip {
    /// A value of `val`'s kind (an empty one: `val` allocates nothing).
    fn of(val: &Val) -> Self {
        Self {
            kind: val.kind(),
            elements: None,
        }
    }
}

impl<'de> Deserialize<'de> for Skip {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(SkipVisitor)
    }
}

struct SkipVisitor;

impl<'de> Visitor<'de> for SkipVisitor {
    type Value = Skip;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Skip, E> {
        Ok(Skip::of(&Val::Bool))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Skip, E> {
        Ok(Skip::of(&Val::Int {
            value: None,
            text: String::new(),
        }))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Skip, E> {
        self.visit_i64(0)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Skip, E> {
        Ok(Skip::of(&Val::Float(String::new())))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Skip, E> {
        Ok(Skip::of(&Val::Str(String::new())))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Skip, E> {
        Ok(Skip::of(&Val::Null))
    }
    fn visit_none<E: de::Error>(self) -> Result<Skip, E> {
        self.visit_unit()
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Skip, A::Error> {
        let mut elements = 0usize;
        while seq.next_element::<Skip>()?.is_some() {
            elements = elements.saturating_add(1);
        }
        Ok(Skip {
            elements: Some(elements),
            ..Skip::of(&Val::Array(Vec::new()))
        })
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Skip, A::Error> {
        while map.next_key::<Skip>()?.is_some() {
            map.next_value::<Skip>()?;
        }
        Ok(Skip::of(&Val::Table(Vec::new())))
    }
}

/// A value kept as its kind only.
fn skipped(skip: Skip) -> Item {
    Item {
        val: Val::Skipped(skip.kind),
        line: None,
    }
}

/// Pass 1: the document's tree, except for the top-level array `streamed`.
#[derive(Debug)]
pub(crate) struct Skeleton {
    /// The document. Only the first occurrence of each of `keys` is kept; if
    /// `streamed` is an array it is kept empty (so that its type still reads as an
    /// array), and anything else that is not kept is [`Val::Skipped`].
    pub(crate) tree: Item,
    /// The number of elements of `streamed` (0 if it is absent or not an array).
    pub(crate) elements: usize,
}

impl Skeleton {
    /// Parses `bytes` (a whole document: trailing characters are refused).
    pub(crate) fn parse(
        bytes: &[u8],
        keys: &'static [&'static str],
        streamed: &'static str,
    ) -> Result<Self, serde_json::Error> {
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let skeleton = SkeletonSeed { keys, streamed }.deserialize(&mut de)?;
        de.end()?;
        Ok(skeleton)
    }

    fn other(skip: Skip) -> Self {
        Self {
            tree: skipped(skip),
            elements: 0,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct SkeletonSeed {
    keys: &'static [&'static str],
    streamed: &'static str,
}

impl<'de> DeserializeSeed<'de> for SkeletonSeed {
    type Value = Skeleton;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Skeleton, D::Error> {
        d.deserialize_any(self)
    }
}

/// A document that is not an object is refused as such: only its kind is kept.
impl<'de> Visitor<'de> for SkeletonSeed {
    type Value = Skeleton;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Skeleton, E> {
        SkipVisitor.visit_bool(v).map(Skeleton::other)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Skeleton, E> {
        SkipVisitor.visit_i64(v).map(Skeleton::other)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Skeleton, E> {
        SkipVisitor.visit_u64(v).map(Skeleton::other)
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Skeleton, E> {
        SkipVisitor.visit_f64(v).map(Skeleton::other)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Skeleton, E> {
        SkipVisitor.visit_str(v).map(Skeleton::other)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Skeleton, E> {
        SkipVisitor.visit_unit().map(Skeleton::other)
    }
    fn visit_none<E: de::Error>(self) -> Result<Skeleton, E> {
        SkipVisitor.visit_none().map(Skeleton::other)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Skeleton, A::Error> {
        SkipVisitor.visit_seq(seq).map(Skeleton::other)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Skeleton, A::Error> {
        let mut entries: Vec<Entry> = Vec::new();
        let mut elements = 0;
        // The known keys met so far (at most `keys.len()`): a document of millions of
        // repeated keys is checked in linear time.
        let mut seen: Vec<&'static str> = Vec::with_capacity(self.keys.len());
        while let Some(key) = map.next_key::<String>()? {
            let known = self.keys.iter().find(|k| **k == key.as_str());
            let first = match known {
                Some(k) if !seen.contains(k) => {
                    seen.push(k);
                    true
                }
                _ => false,
            };
            let value = if !first {
                skipped(map.next_value::<Skip>()?)
            } else if key == self.streamed {
                let skip = map.next_value::<Skip>()?;
                match skip.elements {
                    Some(n) => {
                        elements = n;
                        Item {
                            val: Val::Array(Vec::new()),
                            line: None,
                        }
                    }
                    None => skipped(skip),
                }
            } else {
                map.next_value::<Item>()?
            };
            entries.push(Entry {
                key,
                line: None,
                value,
            });
        }
        Ok(Skeleton {
            tree: Item {
                val: Val::Table(entries),
                line: None,
            },
            elements,
        })
    }
}

/// Why [`stream_elements`] stopped.
#[derive(Debug)]
pub(crate) enum Stopped<E> {
    /// The walker refused an element.
    By(E),
    /// serde_json refused the document (never, for a document [`Skeleton::parse`]
    /// took, as the two read the same bytes the same way).
    Json(serde_json::Error),
}

/// Pass 2: parses `bytes` again and hands each element of the document's top-level
/// array `streamed` to `each` with its index, in order, each as its own tree that is
/// dropped before the next is parsed. Stops at the first error `each` returns.
///
/// The document must be an object that [`Skeleton::parse`] took, with `streamed`
/// once (other top-level values are parsed and dropped).
pub(crate) fn stream_elements<E>(
    bytes: &[u8],
    streamed: &str,
    mut each: impl FnMut(usize, &Item) -> Result<(), E>,
) -> Result<(), Stopped<E>> {
    let mut stopped = None;
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let parsed = Root {
        streamed,
        each: &mut each,
        stopped: &mut stopped,
    }
    .deserialize(&mut de);
    match (stopped, parsed) {
        (Some(e), _) => Err(Stopped::By(e)),
        (None, Err(e)) => Err(Stopped::Json(e)),
        (None, Ok(())) => Ok(()),
    }
}

/// The document, in pass 2.
struct Root<'s, F, E> {
    streamed: &'s str,
    each: &'s mut F,
    stopped: &'s mut Option<E>,
}

impl<'de, F: FnMut(usize, &Item) -> Result<(), E>, E> DeserializeSeed<'de> for Root<'_, F, E> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, F: FnMut(usize, &Item) -> Result<(), E>, E> Visitor<'de> for Root<'_, F, E> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(streamed) = map.next_key_seed(KeyIs(self.streamed))? {
            if streamed {
                map.next_value_seed(Elements {
                    each: &mut *self.each,
                    stopped: &mut *self.stopped,
                })?;
            } else {
                map.next_value::<Skip>()?;
            }
        }
        Ok(())
    }
}

/// Whether a key is the given one (compared, not kept).
struct KeyIs<'s>(&'s str);

impl<'de> DeserializeSeed<'de> for KeyIs<'_> {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeyIs<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_str<E>(self, v: &str) -> Result<bool, E> {
        Ok(v == self.0)
    }
}

/// The streamed array, in pass 2.
struct Elements<'s, F, E> {
    each: &'s mut F,
    stopped: &'s mut Option<E>,
}

impl<'de, F: FnMut(usize, &Item) -> Result<(), E>, E> DeserializeSeed<'de> for Elements<'_, F, E> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, F: FnMut(usize, &Item) -> Result<(), E>, E> Visitor<'de> for Elements<'_, F, E> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0;
        while let Some(item) = seq.next_element::<Item>()? {
            if let Err(e) = (self.each)(i, &item) {
                *self.stopped = Some(e);
                // Stops serde_json here; the caller reports `e` instead.
                return Err(de::Error::custom("stopped by the walker"));
            }
            i += 1;
        }
        Ok(())
    }
}
