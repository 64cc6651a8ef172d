//! The reference's unit lists (MARIO_EVAL `constants.py`), kept in its order because removal
//! is order-sensitive. The entries are used as regular expressions, as the reference does (so
//! the dots in `a.m.` match any character).

/// Removed even without `\text` and without a space: `10weeks` → `10`.
pub const LONG: &[&str] = &[
    "立方厘米",
    "立方分米",
    "平方公里",
    "平方英尺",
    "平方英里",
    "平方英寸",
    "平方英寻",
    "平方英尺",
    "千公里",
    "平方米",
    "立方米",
    "千米",
    "厘米",
    "分米",
    "海里",
    "毫米",
    "公里",
    "英里",
    "公尺",
    "英尺",
    "元",
    "分",
    "角",
    "米",
    "度",
    "里",
    "升",
    "centimeter",
    "second",
    "degree",
    "dollar",
    "minute",
    "radian",
    "square",
    "pound",
    "month",
    "units",
    "meter",
    "edges",
    "mile",
    "hour",
    "year",
    "cent",
    "foot",
    "feet",
    "inch",
    "yard",
    "week",
    "day",
    "rad",
    "mph",
];

/// Removed without `\text` only after a space: `5 cm` → `5`, `5cm` stays.
pub const SHORT: &[&str] = &[
    "eV", "kg", "mg", "km", "cm", "dm", "ml", "mL", "ft", "in", "a.m.", "p.m.", "A.M.", "P.M.", "am", "AM",
    "PM", "pm",
];

/// Removed only inside `\text{}` / `\mbox{}`.
pub const SINGLE: &[&str] = &["L", "l", "m", "g"];

/// All three lists, in the reference's order.
pub fn all() -> impl Iterator<Item = &'static str> {
    LONG.iter().chain(SHORT).chain(SINGLE).copied()
}
