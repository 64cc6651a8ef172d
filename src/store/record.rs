//! One line of a tree file: the input record's keys, `react` (the nodes by tag, plus
//! `solutions` for beam-search trees) and arbor's `arbor` extension.

use std::collections::{HashMap, VecDeque};

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde::{Deserialize, Serialize as DeriveSerialize};
use serde_json::{Map, Number, Value};

use super::pyjson;
use super::raw::{Field, Line, RawField, ReactEntry};
use crate::tree::{FileForm, NodeId, NodeInfo, Stats, Step, Tree, TreeEvent, VALUE_SENTINEL};
use serde_json::value::RawValue;

/// Version of the `arbor` extension this build reads and writes.
pub const SCHEMA_VERSION: u32 = 1;

/// The key under which arbor keeps its own data. The reference's tools read only `question`,
/// `answer` and `react`, so they ignore it.
pub const ARBOR_KEY: &str = "arbor";

/// One problem's tree as stored in a tree file.
#[derive(Clone, Debug, PartialEq)]
pub struct TreeRecord {
    /// The input record's keys in their order, without `react` and `arbor`.
    pub fields: Map<String, Value>,
    /// How many of `fields` come before `react` (the reference appends it, so usually all).
    pub react_at: usize,
    pub tree: Tree,
    /// The top-level `solutions` of a beam-search tree, best first.
    pub solutions: Option<Vec<Solution>>,
    /// `react` entries that are not placed nodes nor `solutions` (unknown keys, orphaned
    /// tags), kept verbatim so writing the record back loses nothing.
    pub react_other: Vec<(String, Value)>,
    /// Free-form facts about the run that grew the tree (algorithm, parameters, model, times).
    pub run: Map<String, Value>,
    /// An `arbor` value this build could not read (newer schema, malformed), written back
    /// verbatim instead of one generated from the tree.
    pub arbor_raw: Option<Value>,
}

/// An entry of a beam-search tree's `solutions`, in the reference's key order.
#[derive(Clone, Debug, PartialEq, Deserialize, DeriveSerialize)]
pub struct Solution {
    pub question: String,
    /// `null` unless the search had the ground truth (`is_sampling`).
    pub ground_truth: Value,
    /// The node's value; the int `-100` when it was never evaluated.
    pub value: Number,
    pub final_answer: String,
    /// The path text joined with the step delimiter.
    pub solution: String,
    pub tag: String,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl TreeRecord {
    /// A record for a new search over `fields` (the problem's keys).
    pub fn new(fields: Map<String, Value>, tree: Tree) -> TreeRecord {
        let react_at = fields.len();
        TreeRecord {
            fields,
            react_at,
            tree,
            solutions: None,
            react_other: Vec::new(),
            run: Map::new(),
            arbor_raw: None,
        }
    }

    /// The question text: `question`, else `problem`, else the root's `extra_info`.
    pub fn question(&self) -> &str {
        ["question", "problem"]
            .iter()
            .find_map(|k| self.fields.get(*k).and_then(Value::as_str))
            .or_else(|| {
                self.tree.root().map(|r| r.step().extra_info.strip_prefix("question: ").unwrap_or(""))
            })
            .unwrap_or("")
    }

    /// The record's `answer` as written (the reference's `ground_truth` in offline results).
    pub fn answer(&self) -> Option<&Value> {
        self.fields.get("answer")
    }

    /// Appends the record as one Python-style JSON line (with its newline) to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
        pyjson::write_json(out, &RecordSer(self))?;
        out.push(b'\n');
        Ok(())
    }

    /// Reads one line (without its newline). Problems that leave the tree usable come back as
    /// warnings; anything else is an error naming the field.
    pub fn decode(bytes: &[u8]) -> Result<Decoded, DecodeError> {
        decode(bytes)
    }
}

/// A decoded record and what was odd about it.
#[derive(Debug)]
pub struct Decoded {
    pub record: TreeRecord,
    pub warnings: Vec<String>,
}

/// Why a line is not a readable tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    pub message: String,
    /// The JSON ended before the value did: what a line cut off mid-write looks like.
    pub eof: bool,
}

impl DecodeError {
    fn field(message: String) -> DecodeError {
        DecodeError { message, eof: false }
    }
}

// ---------------------------------------------------------------- decoding

fn decode(bytes: &[u8]) -> Result<Decoded, DecodeError> {
    let line: Line = serde_json::from_slice(bytes).map_err(|e| DecodeError {
        message: json_error_message(&e),
        eof: e.classify() == serde_json::error::Category::Eof,
    })?;
    let raw = match line {
        Line::Record(raw) => raw,
        Line::Other(kind) => {
            return Err(DecodeError::field(format!("expected a JSON object per line, found {}", kind.0)));
        }
    };

    let mut warnings = Vec::new();
    let mut fields = Map::new();
    let mut react: Option<Vec<(String, ReactEntry)>> = None;
    let mut react_at = 0;
    let mut arbor: Option<Box<RawValue>> = None;
    for (key, field) in raw.entries {
        match field {
            RawField::React(entries) => {
                if react.is_some() {
                    warnings.push("the key 'react' appears twice; the last one is used".to_owned());
                }
                react = Some(entries);
                react_at = fields.len();
            }
            RawField::ReactNotObject(kind) => {
                return Err(DecodeError::field(format!(
                    "'react' must be an object of nodes keyed by tag, found {kind}"
                )));
            }
            RawField::Arbor(raw) => arbor = Some(raw),
            RawField::Value(v) => {
                if fields.insert(key.clone(), v).is_some() {
                    warnings.push(format!("the key '{key}' appears twice; the last one is used"));
                }
            }
        }
    }
    let Some(react) = react else {
        return Err(DecodeError::field(
            "no 'react' key: this line is a problem, not a search tree".to_owned(),
        ));
    };

    let (node_infos, run, arbor_raw) = decode_arbor(arbor.as_deref(), &mut warnings);
    let (tree, solutions, react_other) = decode_react(react, node_infos, &mut warnings)?;
    Ok(Decoded {
        record: TreeRecord { fields, react_at, tree, solutions, react_other, run, arbor_raw },
        warnings,
    })
}

type NodeInfos = HashMap<String, NodeInfo>;

/// Splits the `arbor` text into per-node infos and run facts, or keeps it raw when this build
/// cannot read it (another schema version, unknown keys, wrong types).
fn decode_arbor(
    arbor: Option<&RawValue>,
    warnings: &mut Vec<String>,
) -> (NodeInfos, Map<String, Value>, Option<Value>) {
    let Some(raw) = arbor else {
        return (NodeInfos::new(), Map::new(), None);
    };
    #[derive(Deserialize)]
    struct Version {
        schema_version: Option<u32>,
    }
    let version = if raw.get().starts_with('{') {
        serde_json::from_str::<Version>(raw.get()).map(|v| v.schema_version).map_err(|e| serde_message(&e))
    } else {
        Err("expected an object".to_owned())
    };
    let why = match version {
        Ok(Some(SCHEMA_VERSION)) => match serde_json::from_str::<ArborText>(raw.get()) {
            Ok(ext) => return (ext.nodes.0.into_iter().collect(), ext.run, None),
            Err(e) => serde_message(&e),
        },
        Ok(Some(v)) => format!("schema version {v} is not the {SCHEMA_VERSION} this build reads"),
        Ok(None) => "no 'schema_version'".to_owned(),
        Err(why) => why,
    };
    warnings.push(format!("'arbor': {why}; arbor's data for this tree is kept but not shown"));
    let value = serde_json::from_str::<Value>(raw.get()).unwrap_or(Value::Null);
    (NodeInfos::new(), Map::new(), Some(value))
}

/// The `arbor` extension as this build reads it, `nodes` read into a list of pairs. Unknown
/// keys anywhere make it unreadable, so nothing is silently dropped: it is then kept verbatim.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ArborText {
    #[serde(rename = "schema_version")]
    _schema_version: u32,
    #[serde(default)]
    run: Map<String, Value>,
    #[serde(default)]
    nodes: ArborNodes,
}

#[derive(Default)]
struct ArborNodes(Vec<(String, NodeInfo)>);

impl<'de> Deserialize<'de> for ArborNodes {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = ArborNodes;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object of node data keyed by tag")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<ArborNodes, A::Error> {
                let mut nodes = Vec::new();
                while let Some((tag, info)) = map.next_entry::<String, NodeInfo>()? {
                    nodes.push((tag, info));
                }
                Ok(ArborNodes(nodes))
            }
        }
        d.deserialize_map(V)
    }
}

type ReactParts = (Tree, Option<Vec<Solution>>, Vec<(String, Value)>);

fn decode_react(
    entries: Vec<(String, ReactEntry)>,
    mut infos: NodeInfos,
    warnings: &mut Vec<String>,
) -> Result<ReactParts, DecodeError> {
    // Last duplicate wins, at the first one's position: what Python's json.loads does.
    let mut by_key: HashMap<String, usize> = HashMap::with_capacity(entries.len());
    let mut order: Vec<(String, Option<ReactEntry>)> = Vec::with_capacity(entries.len());
    for (key, entry) in entries {
        if let Some(&at) = by_key.get(&key) {
            warnings.push(format!("react: the tag '{key}' appears twice; the last one is used"));
            order[at].1 = Some(entry);
        } else {
            by_key.insert(key.clone(), order.len());
            order.push((key, Some(entry)));
        }
    }

    let mut solutions = None;
    let mut other_keys: Vec<usize> = Vec::new();
    let mut children_of: HashMap<String, Vec<(u32, usize)>> = HashMap::new();
    let mut root_at = None;
    for (i, (key, entry)) in order.iter_mut().enumerate() {
        if key == "solutions" {
            if let Some(entry) = entry.take() {
                solutions = Some(decode_solutions(&entry.into_value())?);
            }
        } else if key == "0" {
            root_at = Some(i);
        } else if let Some((parent, index)) = split_tag(key) {
            children_of.entry(parent.to_owned()).or_default().push((index, i));
        } else {
            other_keys.push(i);
        }
    }
    if !other_keys.is_empty() {
        let names: Vec<&str> = other_keys.iter().map(|&i| order[i].0.as_str()).collect();
        warnings.push(format!("react: keys that are not node tags are kept as they are: {names:?}"));
    }
    let Some(root_at) = root_at else {
        return Err(DecodeError::field("react has no root node '0'".to_owned()));
    };

    let mut unknown_keys: Vec<String> = Vec::new();
    let mut take_node =
        |order: &mut [(String, Option<ReactEntry>)], at: usize| -> Result<DecodedNode, DecodeError> {
            let (tag, entry) = &mut order[at];
            let node = decode_node(tag, entry.take())?;
            unknown_keys.extend(node.unknown.iter().map(|(k, _)| format!("{tag}.{k}")));
            Ok(node)
        };

    let mut tree = Tree::new();
    let root = take_node(&mut order, root_at)?;
    tree.apply(&TreeEvent::Root { step: root.step, keys: root.form.keys })
        .map_err(|e| DecodeError::field(format!("react['0']: {e}")))?;
    let info = infos.remove("0").unwrap_or_default();
    apply_restore(&mut tree, NodeId::ROOT, root.stats, root.form, info, root.unknown, "0")?;

    // Breadth-first from the root, children in index order.
    let mut queue: VecDeque<(usize, NodeId)> = VecDeque::from([(root_at, NodeId::ROOT)]);
    while let Some((at, id)) = queue.pop_front() {
        let Some(mut children) = children_of.remove(order[at].0.as_str()) else { continue };
        children.sort_by_key(|&(index, _)| index);
        for (index, child_at) in children {
            let node = take_node(&mut order, child_at)?;
            let child_tag = order[child_at].0.as_str();
            let child = tree
                .apply(&TreeEvent::Child {
                    parent: id,
                    index,
                    step: node.step,
                    prior: node.stats.prior,
                    keys: node.form.keys,
                })
                .map_err(|e| DecodeError::field(format!("react['{child_tag}']: {e}")))?;
            let info = infos.remove(child_tag).unwrap_or_default();
            apply_restore(&mut tree, child, node.stats, node.form, info, node.unknown, child_tag)?;
            queue.push_back((child_at, child));
        }
    }

    if !unknown_keys.is_empty() {
        warnings.push(format!(
            "react: unknown node keys are kept as they are: {}",
            list_clipped(&unknown_keys, 5)
        ));
    }
    let mut orphans: Vec<&str> =
        children_of.values().flatten().map(|(_, at)| order[*at].0.as_str()).collect();
    if !orphans.is_empty() {
        orphans.sort_unstable();
        warnings.push(format!(
            "react: {} node(s) have no parent in this tree and are left out of it (kept in the file): {}",
            orphans.len(),
            list_clipped(&orphans, 5)
        ));
    }
    if !infos.is_empty() {
        let mut tags: Vec<&String> = infos.keys().collect();
        tags.sort_unstable();
        warnings.push(format!("arbor.nodes: tags not in the tree are dropped: {}", list_clipped(&tags, 5)));
    }
    // Whatever was not taken (unknown keys, orphans) is written back as it was.
    let react_other =
        order.into_iter().filter_map(|(key, entry)| entry.map(|e| (key, e.into_value()))).collect();
    Ok((tree, solutions, react_other))
}

fn apply_restore(
    tree: &mut Tree,
    id: NodeId,
    stats: Stats,
    form: FileForm,
    info: NodeInfo,
    unknown: Vec<(String, Value)>,
    tag: &str,
) -> Result<(), DecodeError> {
    tree.apply(&TreeEvent::Restored { node: id, stats, form, info, unknown })
        .map(|_| ())
        .map_err(|e| DecodeError::field(format!("react['{tag}']: {e}")))
}

/// `"0.3.1"` → (`"0.3"`, 1). Only canonical tags: they start at `0`, and indices have no
/// leading zeros (the reference looks children up as `f"{tag}.{i}"`).
fn split_tag(tag: &str) -> Option<(&str, u32)> {
    let (parent, last) = tag.rsplit_once('.')?;
    let canonical = |part: &str| {
        !part.is_empty()
            && part.bytes().all(|b| b.is_ascii_digit())
            && (part == "0" || !part.starts_with('0'))
            && part.parse::<u32>().is_ok()
    };
    let mut parts = parent.split('.');
    if parts.next() != Some("0") || !parts.all(canonical) || !canonical(last) {
        return None;
    }
    Some((parent, last.parse().ok()?))
}

struct DecodedNode {
    step: Step,
    stats: Stats,
    form: FileForm,
    unknown: Vec<(String, Value)>,
}

fn decode_node(tag: &str, entry: Option<ReactEntry>) -> Result<DecodedNode, DecodeError> {
    let at = |field: &str| format!("react['{tag}'].{field}");
    let node = match entry {
        Some(ReactEntry::Node(node)) => node,
        Some(ReactEntry::Other(v)) => {
            return Err(DecodeError::field(format!(
                "react['{tag}']: expected a node object, found {}",
                describe(&v)
            )));
        }
        None => return Err(DecodeError::field(format!("react['{tag}']: read twice"))),
    };
    let mut step = Step::default();
    let mut stats = Stats::default();
    let mut form = FileForm::default();
    let mut unknown = Vec::new();
    for (key, field) in node.entries {
        let slot = match key.as_str() {
            "text" => Some(&mut step.text),
            "extra_info" => Some(&mut step.extra_info),
            "action" => Some(&mut step.action),
            "action_input" => Some(&mut step.action_input),
            "final_answer" => Some(&mut step.final_answer),
            _ => None,
        };
        if let Some(slot) = slot {
            match field {
                Field::Str(s) => *slot = s,
                other => {
                    return Err(DecodeError::field(format!(
                        "{}: expected a string, found {}",
                        at(&key),
                        describe_field(&other)
                    )));
                }
            }
            continue;
        }
        if !matches!(key.as_str(), "value" | "q_value" | "prior" | "visit_count") {
            unknown.push((key, field.into_value()));
            continue;
        }
        let Field::Num(n) = field else {
            return Err(DecodeError::field(format!(
                "{}: expected a number, found {}",
                at(&key),
                describe_field(&field)
            )));
        };
        let is_int = n.is_i64() || n.is_u64();
        let v = n
            .as_f64()
            .filter(|v| v.is_finite())
            .ok_or_else(|| DecodeError::field(format!("{}: the number {n} is out of range", at(&key))))?;
        match key.as_str() {
            "value" => {
                stats.value = (v != VALUE_SENTINEL).then_some(v);
                form.keys.value = true;
                form.ints.value = is_int;
            }
            "q_value" => {
                stats.q_value = v;
                form.keys.q_value = true;
                form.ints.q_value = is_int;
            }
            "prior" => {
                stats.prior = v;
                form.keys.prior = true;
                form.ints.prior = is_int;
            }
            _ => {
                if v < 0.0 || v.fract() != 0.0 || v > f64::from(u32::MAX) {
                    return Err(DecodeError::field(format!(
                        "{}: expected a whole number of visits, found {v}",
                        at("visit_count")
                    )));
                }
                stats.visit_count = v as u32;
                form.keys.visit_count = true;
            }
        }
    }
    stats.value_sum = stats.q_value * f64::from(stats.visit_count);
    Ok(DecodedNode { step, stats, form, unknown })
}

fn describe_field(field: &Field) -> String {
    match field {
        Field::Str(s) => describe(&Value::String(clip(s, 40))),
        Field::Num(n) => format!("a number ({n})"),
        Field::Other(v) => describe(v),
    }
}

fn decode_solutions(value: &Value) -> Result<Vec<Solution>, DecodeError> {
    let Some(items) = value.as_array() else {
        return Err(DecodeError::field(format!(
            "react.solutions: expected a list, found {}",
            describe(value)
        )));
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            Solution::deserialize(item).map_err(|e| {
                DecodeError::field(format!("react.solutions[{i}]: {}", clip(&e.to_string(), 160)))
            })
        })
        .collect()
}

/// A short description of a JSON value for error messages: its kind and a clipped preview.
pub(crate) fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => format!("a boolean ({b})"),
        Value::Number(n) => format!("a number ({n})"),
        Value::String(s) => format!("a string ({:?})", clip(s, 40)),
        Value::Array(a) => format!("a list of {} items", a.len()),
        Value::Object(o) => format!("an object with {} keys", o.len()),
    }
}

/// `s` cut to at most `max` characters, with `…` when cut.
pub(crate) fn clip(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &s[..at]),
        None => s.to_owned(),
    }
}

fn list_clipped<T: AsRef<str>>(items: &[T], max: usize) -> String {
    let shown: Vec<&str> = items.iter().take(max).map(AsRef::as_ref).collect();
    let more = items.len().saturating_sub(max);
    if more > 0 { format!("{} and {more} more", shown.join(", ")) } else { shown.join(", ") }
}

/// serde_json's message without its position, clipped.
fn serde_message(e: &serde_json::Error) -> String {
    let text = e.to_string();
    clip(text.split(" at line ").next().unwrap_or(&text), 160)
}

/// serde_json's message without its "at line 1 column N" tail, which on a single line is
/// better said as "column N".
fn json_error_message(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let base = text.split(" at line ").next().unwrap_or(&text);
    let what = match e.classify() {
        serde_json::error::Category::Eof => "the JSON ends early",
        serde_json::error::Category::Syntax => "not valid JSON",
        serde_json::error::Category::Data => "unexpected JSON",
        serde_json::error::Category::Io => "read error",
    };
    format!("{what} ({}, column {})", clip(base, 120), e.column())
}

// ---------------------------------------------------------------- encoding

struct RecordSer<'a>(&'a TreeRecord);

impl Serialize for RecordSer<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let rec = self.0;
        let mut map = s.serialize_map(None)?;
        let react_at = rec.react_at.min(rec.fields.len());
        for (i, (k, v)) in rec.fields.iter().enumerate() {
            if i == react_at {
                write_react_and_arbor(&mut map, rec)?;
            }
            map.serialize_entry(k, v)?;
        }
        if react_at == rec.fields.len() {
            write_react_and_arbor(&mut map, rec)?;
        }
        map.end()
    }
}

fn write_react_and_arbor<M: SerializeMap>(map: &mut M, rec: &TreeRecord) -> Result<(), M::Error> {
    map.serialize_entry("react", &ReactSer(rec))?;
    if let Some(raw) = &rec.arbor_raw {
        map.serialize_entry(ARBOR_KEY, raw)?;
    } else if !rec.run.is_empty() || rec.tree.ids().any(|id| !rec.tree.node(id).info().is_empty()) {
        map.serialize_entry(ARBOR_KEY, &ArborSer(rec))?;
    }
    Ok(())
}

struct ReactSer<'a>(&'a TreeRecord);

impl Serialize for ReactSer<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let rec = self.0;
        let mut map = s.serialize_map(None)?;
        for id in rec.tree.bfs() {
            let node = rec.tree.node(id);
            map.serialize_entry(node.tag(), &NodeSer(node))?;
        }
        for (k, v) in &rec.react_other {
            map.serialize_entry(k, v)?;
        }
        if let Some(solutions) = &rec.solutions {
            map.serialize_entry("solutions", solutions)?;
        }
        map.end()
    }
}

struct NodeSer<'a>(&'a crate::tree::Node);

impl Serialize for NodeSer<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let node = self.0;
        let step = node.step();
        let stats = node.stats();
        let FileForm { keys, ints } = node.form();
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("text", &step.text)?;
        map.serialize_entry("extra_info", &step.extra_info)?;
        map.serialize_entry("action", &step.action)?;
        map.serialize_entry("action_input", &step.action_input)?;
        map.serialize_entry("final_answer", &step.final_answer)?;
        if keys.value {
            // The sentinel is always the int -100, as the reference writes it.
            let value = match stats.value {
                None => Num::Int(-100),
                Some(v) => Num::of(v, ints.value),
            };
            map.serialize_entry("value", &value)?;
        }
        if keys.q_value {
            map.serialize_entry("q_value", &Num::of(stats.q_value, ints.q_value))?;
        }
        if keys.prior {
            map.serialize_entry("prior", &Num::of(stats.prior, ints.prior))?;
        }
        if keys.visit_count {
            map.serialize_entry("visit_count", &stats.visit_count)?;
        }
        for (k, v) in node.unknown_keys() {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// A number spelled as an int or a float, as its file had it.
enum Num {
    Int(i64),
    Float(f64),
}

impl Num {
    fn of(v: f64, int: bool) -> Num {
        if int && v.fract() == 0.0 && v.abs() < 9.0e15 { Num::Int(v as i64) } else { Num::Float(v) }
    }
}

impl Serialize for Num {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match *self {
            Num::Int(i) => s.serialize_i64(i),
            Num::Float(f) => s.serialize_f64(f),
        }
    }
}

struct ArborSer<'a>(&'a TreeRecord);

impl Serialize for ArborSer<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let rec = self.0;
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("schema_version", &SCHEMA_VERSION)?;
        if !rec.run.is_empty() {
            map.serialize_entry("run", &rec.run)?;
        }
        if rec.tree.ids().any(|id| !rec.tree.node(id).info().is_empty()) {
            map.serialize_entry("nodes", &NodeInfosSer(&rec.tree))?;
        }
        map.end()
    }
}

struct NodeInfosSer<'a>(&'a Tree);

impl Serialize for NodeInfosSer<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        for id in self.0.bfs() {
            let node = self.0.node(id);
            if !node.info().is_empty() {
                map.serialize_entry(node.tag(), node.info())?;
            }
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_must_be_canonical() {
        assert_eq!(split_tag("0.3.1"), Some(("0.3", 1)));
        assert_eq!(split_tag("0.10"), Some(("0", 10)));
        assert_eq!(split_tag("0.01"), None);
        assert_eq!(split_tag("1.0"), None);
        assert_eq!(split_tag("0..1"), None);
        assert_eq!(split_tag("0.-1"), None);
        assert_eq!(split_tag("0.99999999999"), None);
        assert_eq!(split_tag("solutions"), None);
    }

    #[test]
    fn clip_counts_characters() {
        assert_eq!(clip("héllo", 2), "hé…");
        assert_eq!(clip("hi", 2), "hi");
    }
}
