//! The single parsing pass over one JSON line. It keeps what `serde_json::Value` would hide
//! (duplicate keys at the top level and inside `react`, key order inside nodes) and avoids
//! building a `Value` map per node, which is most of the cost of reading a large tree: node
//! fields land in [`Field`]s that accept any JSON, so type errors are found afterwards with
//! precise messages instead of aborting the parse.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Map, Number, Value};

/// One line's top-level object, entries in file order (duplicates included).
pub(super) struct RawRecord {
    pub entries: Vec<(String, RawField)>,
}

pub(super) enum RawField {
    Value(Value),
    /// The `react` object, entries in file order (duplicates included).
    React(Vec<(String, ReactEntry)>),
    /// `react` was present but not an object; the string names what it was.
    ReactNotObject(&'static str),
    /// The `arbor` extension, as text, decoded separately so a version this build cannot
    /// read is kept verbatim.
    Arbor(Box<RawValue>),
}

/// A value inside `react`.
pub(super) enum ReactEntry {
    /// An object: a node, or something kept as is.
    Node(RawNode),
    /// Not an object (or `solutions`).
    Other(Value),
}

impl ReactEntry {
    /// The entry as a plain JSON value, for writing back what arbor does not use.
    pub fn into_value(self) -> Value {
        match self {
            ReactEntry::Other(v) => v,
            ReactEntry::Node(node) => Value::Object(
                node.entries.into_iter().map(|(k, f)| (k, f.into_value())).collect::<Map<_, _>>(),
            ),
        }
    }
}

/// A node object's entries in file order.
pub(super) struct RawNode {
    pub entries: Vec<(String, Field)>,
}

/// A node field: the common shapes without a `Value`, anything else as one.
pub(super) enum Field {
    Str(String),
    Num(Number),
    Other(Value),
}

impl Field {
    pub fn into_value(self) -> Value {
        match self {
            Field::Str(s) => Value::String(s),
            Field::Num(n) => Value::Number(n),
            Field::Other(v) => v,
        }
    }
}

/// What a line held when it was not a JSON object.
pub(super) struct NotAnObject(pub &'static str);

pub(super) enum Line {
    Record(RawRecord),
    Other(NotAnObject),
}

/// Values that are not objects, named for messages; the visitors below share it.
trait NotObject: Sized {
    fn not_object(kind: &'static str) -> Self;
}

macro_rules! not_object_visits {
    () => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok(Self::Value::not_object("a boolean"))
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok(Self::Value::not_object("a number"))
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok(Self::Value::not_object("a number"))
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok(Self::Value::not_object("a number"))
        }
        fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
            Ok(Self::Value::not_object("a string"))
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(Self::Value::not_object("null"))
        }
        fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<de::IgnoredAny>()?.is_some() {}
            Ok(Self::Value::not_object("an array"))
        }
    };
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

impl<'de> Deserialize<'de> for Line {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(LineVisitor)
    }
}

struct LineVisitor;

impl<'de> Visitor<'de> for LineVisitor {
    type Value = Line;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    not_object_visits!();

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Line, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            let field = match key.as_str() {
                "react" => map.next_value::<ReactField>()?.0,
                super::ARBOR_KEY => RawField::Arbor(map.next_value::<Box<RawValue>>()?),
                _ => RawField::Value(map.next_value::<Value>()?),
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

    not_object_visits!();

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ReactField, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            let entry = if key == "solutions" {
                ReactEntry::Other(map.next_value::<Value>()?)
            } else {
                map.next_value::<ReactEntry>()?
            };
            entries.push((key, entry));
        }
        Ok(ReactField(RawField::React(entries)))
    }
}

impl<'de> Deserialize<'de> for ReactEntry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(EntryVisitor)
    }
}

/// An object becomes a [`RawNode`]; any other value is kept as a `Value`.
struct EntryVisitor;

impl<'de> Visitor<'de> for EntryVisitor {
    type Value = ReactEntry;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a node object")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<ReactEntry, E> {
        Ok(ReactEntry::Other(Value::Bool(v)))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<ReactEntry, E> {
        Ok(ReactEntry::Other(Value::from(v)))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<ReactEntry, E> {
        Ok(ReactEntry::Other(Value::from(v)))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<ReactEntry, E> {
        Ok(ReactEntry::Other(Number::from_f64(v).map_or(Value::Null, Value::Number)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<ReactEntry, E> {
        Ok(ReactEntry::Other(Value::String(v.to_owned())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<ReactEntry, E> {
        Ok(ReactEntry::Other(Value::String(v)))
    }
    fn visit_unit<E: de::Error>(self) -> Result<ReactEntry, E> {
        Ok(ReactEntry::Other(Value::Null))
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<ReactEntry, A::Error> {
        let mut items = Vec::new();
        while let Some(v) = seq.next_element::<Value>()? {
            items.push(v);
        }
        Ok(ReactEntry::Other(Value::Array(items)))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ReactEntry, A::Error> {
        let mut entries = Vec::with_capacity(9);
        while let Some(key) = map.next_key::<String>()? {
            entries.push((key, map.next_value::<Field>()?));
        }
        Ok(ReactEntry::Node(RawNode { entries }))
    }
}

impl<'de> Deserialize<'de> for Field {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(FieldVisitor)
    }
}

struct FieldVisitor;

impl<'de> Visitor<'de> for FieldVisitor {
    type Value = Field;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Field, E> {
        Ok(Field::Str(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Field, E> {
        Ok(Field::Str(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Field, E> {
        Ok(Field::Num(v.into()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Field, E> {
        Ok(Field::Num(v.into()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Field, E> {
        // serde_json never hands over a non-finite float.
        Ok(Number::from_f64(v).map_or(Field::Other(Value::Null), Field::Num))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Field, E> {
        Ok(Field::Other(Value::Bool(v)))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Field, E> {
        Ok(Field::Other(Value::Null))
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Field, A::Error> {
        let mut items = Vec::new();
        while let Some(v) = seq.next_element::<Value>()? {
            items.push(v);
        }
        Ok(Field::Other(Value::Array(items)))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Field, A::Error> {
        let mut obj = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value::<Value>()?;
            obj.insert(key, value);
        }
        Ok(Field::Other(Value::Object(obj)))
    }
}
