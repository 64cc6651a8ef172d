//! The vocabulary of the synthetic stories: people, things, containers, distractor material.

/// A person: name and pronouns (subject, object, possessive).
#[derive(Clone, Copy, Debug)]
pub struct Person {
    pub name: &'static str,
    pub subject: &'static str,
    pub object: &'static str,
    pub possessive: &'static str,
}

const fn she(name: &'static str) -> Person {
    Person { name, subject: "she", object: "her", possessive: "her" }
}

const fn he(name: &'static str) -> Person {
    Person { name, subject: "he", object: "him", possessive: "his" }
}

pub const PEOPLE: [Person; 24] = [
    she("Mia"),
    she("Ava"),
    she("Lena"),
    she("Nora"),
    she("Zoe"),
    she("Iris"),
    she("Rosa"),
    she("Emma"),
    she("Lucy"),
    she("Hana"),
    she("Sara"),
    she("Dana"),
    he("Tom"),
    he("Ben"),
    he("Leo"),
    he("Sam"),
    he("Omar"),
    he("Max"),
    he("Eli"),
    he("Ivan"),
    he("Raj"),
    he("Noah"),
    he("Finn"),
    he("Luis"),
];

/// Something countable: singular and plural.
#[derive(Clone, Copy, Debug)]
pub struct Thing {
    pub one: &'static str,
    pub many: &'static str,
}

const fn thing(one: &'static str, many: &'static str) -> Thing {
    Thing { one, many }
}

pub const ITEMS: [Thing; 20] = [
    thing("apple", "apples"),
    thing("marble", "marbles"),
    thing("sticker", "stickers"),
    thing("pencil", "pencils"),
    thing("cookie", "cookies"),
    thing("card", "cards"),
    thing("shell", "shells"),
    thing("book", "books"),
    thing("coin", "coins"),
    thing("stamp", "stamps"),
    thing("egg", "eggs"),
    thing("flower", "flowers"),
    thing("candle", "candles"),
    thing("button", "buttons"),
    thing("crayon", "crayons"),
    thing("ribbon", "ribbons"),
    thing("cupcake", "cupcakes"),
    thing("balloon", "balloons"),
    thing("toy car", "toy cars"),
    thing("bead", "beads"),
];

pub const CONTAINERS: [Thing; 8] = [
    thing("box", "boxes"),
    thing("bag", "bags"),
    thing("jar", "jars"),
    thing("pack", "packs"),
    thing("basket", "baskets"),
    thing("tray", "trays"),
    thing("crate", "crates"),
    thing("tin", "tins"),
];

/// Things with a price, for shopping stories.
pub const GOODS: [Thing; 12] = [
    thing("pen", "pens"),
    thing("notebook", "notebooks"),
    thing("ticket", "tickets"),
    thing("sandwich", "sandwiches"),
    thing("toy", "toys"),
    thing("plant", "plants"),
    thing("mug", "mugs"),
    thing("poster", "posters"),
    thing("shirt", "shirts"),
    thing("puzzle", "puzzles"),
    thing("lamp", "lamps"),
    thing("ball", "balls"),
];

pub const RELATIVES: [&str; 6] = ["brother", "sister", "cousin", "friend", "neighbor", "uncle"];

/// A rate activity: what is done, its unit, and how the story says it.
#[derive(Clone, Copy, Debug)]
pub struct Activity {
    /// "reads {n} pages": the verb with the count after it.
    pub verb: &'static str,
    pub base: &'static str,
    pub past: &'static str,
    pub unit: Thing,
    /// Whether the results can be handed out (muffins can, kilometers cannot).
    pub countable: bool,
}

const fn act(
    verb: &'static str,
    base: &'static str,
    past: &'static str,
    unit: Thing,
    countable: bool,
) -> Activity {
    Activity { verb, base, past, unit, countable }
}

pub const ACTIVITIES: [Activity; 6] = [
    act("reads", "read", "read", thing("page", "pages"), false),
    act("runs", "run", "run", thing("kilometer", "kilometers"), false),
    act("saves", "save", "saved", thing("dollar", "dollars"), true),
    act("bakes", "bake", "baked", thing("muffin", "muffins"), true),
    act("folds", "fold", "folded", thing("paper crane", "paper cranes"), true),
    act("plants", "plant", "planted", thing("tree", "trees"), true),
];

/// Unit conversions: (bigger unit, smaller unit, factor).
pub const CONVERSIONS: [(Thing, Thing, i64); 4] = [
    (thing("hour", "hours"), thing("minute", "minutes"), 60),
    (thing("week", "weeks"), thing("day", "days"), 7),
    (thing("minute", "minutes"), thing("second", "seconds"), 60),
    (thing("day", "days"), thing("hour", "hours"), 24),
];

/// The identifier a quantity gets in code: lowercase, spaces to underscores.
pub fn ident(words: &str) -> String {
    words.to_lowercase().replace(' ', "_")
}

/// The first letter in upper case.
pub fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
