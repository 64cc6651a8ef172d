//! A first pass over one JSON line that keeps what `serde_json::Value` would hide: the order
//! of duplicate keys at the top level and inside `react`, so they can be reported.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::Value;

/// One line's top-level object, entries in file order (duplicates included).
pub(super) struct RawRecord {
    pub entries: Vec<(String, RawField)>,
}

pub(super) enum RawField {
    Value(Value),
    /// The `react` object, entries in file order (duplicates included).
    React(Vec<(String, Value)>),
    /// `react` was present but not an object; the string names what it was.
    ReactNotObject(&'static str),
}

/// What a line held when it was not a JSON object.
pub(super) struct NotAnObject(pub &'static str);

pub(super) enum Line {
    Record(RawRecord),
    Other(NotAnObject),
}

impl<'de> Deserialize<'de> for Line {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(LineVisitor)
    }
}

struct LineVisitor;

macro_rules! not_object {
    ($($method:ident: $ty:ty => $kind:literal),* $(,)?) => {
        $(fn $method<E: de::Error>(self, _: $ty) -> Result<Self::Value, E> {
            Ok(Self::Value::not_object($kind))
        })*
    };
}

trait NotObject {
    fn not_object(kind: &'static str) -> Self;
}

impl NotObject for Line {
    fn not_object(kind: &'static str) -> Self {
        Line::Other(NotAnObject(kind))
    }
}

impl NotObject for ReactField {
    fn not_object(kind: &'static str) -> Self {
        ReactField(RawField::ReactNotObject(kind))
    }
}

impl<'de> Visitor<'de> for LineVisitor {
    type Value = Line;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    not_object! {
        visit_bool: bool => "a boolean",
        visit_i64: i64 => "a number",
        visit_u64: u64 => "a number",
        visit_f64: f64 => "a number",
        visit_str: &str => "a string",
    }

    fn visit_unit<E: de::Error>(self) -> Result<Line, E> {
        Ok(Line::not_object("null"))
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Line, A::Error> {
        while seq.next_element::<de::IgnoredAny>()?.is_some() {}
        Ok(Line::not_object("an array"))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Line, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            let field = if key == "react" {
                map.next_value::<ReactField>()?.0
            } else {
                RawField::Value(map.next_value::<Value>()?)
            };
            entries.push((key, field));
        }
        Ok(Line::Record(RawRecord { entries }))
    }
}

struct ReactField(RawField);

impl<'de> Deserialize<'de> for ReactField {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ReactVisitor)
    }
}

struct ReactVisitor;

impl<'de> Visitor<'de> for ReactVisitor {
    type Value = ReactField;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object of nodes keyed by tag")
    }

    not_object! {
        visit_bool: bool => "a boolean",
        visit_i64: i64 => "a number",
        visit_u64: u64 => "a number",
        visit_f64: f64 => "a number",
        visit_str: &str => "a string",
    }

    fn visit_unit<E: de::Error>(self) -> Result<ReactField, E> {
        Ok(ReactField::not_object("null"))
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<ReactField, A::Error> {
        while seq.next_element::<de::IgnoredAny>()?.is_some() {}
        Ok(ReactField::not_object("an array"))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ReactField, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            entries.push((key, map.next_value::<Value>()?));
        }
        Ok(ReactField(RawField::React(entries)))
    }
}
